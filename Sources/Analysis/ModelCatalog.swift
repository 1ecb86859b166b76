import TraceFormat

/// One dense model of the embedded catalog (models.csv), with its sources.
public struct ModelCatalogRow: Sendable, Equatable {
    public var name: String
    public var layers: Int
    public var dim: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffnDim: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var tiedEmbeddings: Bool
    /// `params_total_computed` of the CSV (linear + embeddings), a check on the cost model.
    public var parametersComputed: Double
    public var source: String
    public var verification: String

    /// The row as a model descriptor with the given storage types (BF16 weights and KV by default).
    public func descriptor(weightType: String = "bf16", bytesPerWeight: Double = 2,
                           kvType: String = "bf16", bytesPerKVElement: Double = 2) -> ModelDescriptor {
        ModelDescriptor(name: name, source: "catalog", dim: dim, layers: layers, heads: heads, kvHeads: kvHeads,
                        headDim: headDim, ffnDim: ffnDim, vocabSize: vocabSize, maxContext: contextLength,
                        tiedEmbeddings: tiedEmbeddings, weightType: weightType, bytesPerWeight: bytesPerWeight,
                        kvType: kvType, bytesPerKVElement: bytesPerKVElement)
    }
}

/// Lookup of catalog models by name (case and punctuation ignored); unknown → error with suggestions.
public enum ModelCatalog {
    public static var all: [ModelCatalogRow] { rows }

    public static func lookup(_ name: String) throws(AnalysisError) -> ModelCatalogRow {
        let key = HardwareCatalog.normalize(name)
        if let row = rows.first(where: { HardwareCatalog.normalize($0.name) == key }) { return row }
        throw .unknownModel(name: name, suggestions: HardwareCatalog.closest(to: name, among: rows.map(\.name) + unsupported))
    }
}
