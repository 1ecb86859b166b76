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
    /// Mixture of experts (0 for dense rows): routed experts, experts per token, expert MLP size.
    public var experts = 0
    public var expertsPerToken = 0
    public var expertFFNDim = 0

    /// The row as a model descriptor with the given storage types (BF16 weights and KV by default).
    public func descriptor(weightType: String = "bf16", bytesPerWeight: Double = 2,
                           kvType: String = "bf16", bytesPerKVElement: Double = 2) -> ModelDescriptor {
        ModelDescriptor(name: name, source: "catalog", dim: dim, layers: layers, heads: heads, kvHeads: kvHeads,
                        headDim: headDim, ffnDim: ffnDim, vocabSize: vocabSize, maxContext: contextLength,
                        tiedEmbeddings: tiedEmbeddings, weightType: weightType, bytesPerWeight: bytesPerWeight,
                        kvType: kvType, bytesPerKVElement: bytesPerKVElement).withExperts(experts, perToken: expertsPerToken, ffn: expertFFNDim)
    }
}

/// Lookup of catalog models by name (case and punctuation ignored); unknown → error with suggestions.
public enum ModelCatalog {
    public static var all: [ModelCatalogRow] { rows }

    /// The weight storage a quantized engine id names by a suffix token ("-FP8", "-AWQ",
    /// "-w8a8", "Q4_K_M.gguf"…): type, average bytes per weight incl. scales, and the token.
    /// nil when no token matches. Bytes: fp8/w8a8/int8 1 (q8_0 34/32), 4-bit group-quantized
    /// 4.5/8, nvfp4 4.5/8, mxfp4 4.25/8, llama.cpp K-quants at their average bits per weight
    /// (q4_k_m 4.85, q5_k_m 5.69, q6_k 6.56, q3_k_m 3.91). O(id length).
    public static func quantization(inID id: String) -> (type: String, bytesPerWeight: Double, token: String)? {
        let tokens = id.lowercased().split(whereSeparator: { "-/. ".contains($0) }).map(String.init)
        let table: [(String, String, Double)] = [
            ("fp8", "fp8", 1), ("fp8-dynamic", "fp8", 1), ("w8a8", "int8", 1), ("w8a8-fp8", "fp8", 1), ("int8", "int8", 1),
            ("w8a16", "int8", 1), ("w4a16", "int4", 4.5 / 8), ("awq", "int4 (awq)", 4.5 / 8), ("gptq", "int4 (gptq)", 4.5 / 8),
            ("int4", "int4", 4.5 / 8), ("nvfp4", "nvfp4", 4.5 / 8), ("fp4", "nvfp4", 4.5 / 8), ("mxfp4", "mxfp4", 4.25 / 8),
            ("bnb", "int4 (bitsandbytes)", 4.5 / 8), ("4bit", "int4", 4.5 / 8), ("8bit", "int8", 1),
            ("q8_0", "q8_0", 34.0 / 32), ("q4_0", "q4_0", 18.0 / 32), ("q4_k_m", "q4_k_m", 4.85 / 8), ("q4_k_s", "q4_k_s", 4.58 / 8),
            ("q5_k_m", "q5_k_m", 5.69 / 8), ("q6_k", "q6_k", 6.56 / 8), ("q3_k_m", "q3_k_m", 3.91 / 8), ("q2_k", "q2_k", 2.96 / 8),
            ("f16", "f16", 2), ("bf16", "bf16", 2), ("fp16", "f16", 2),
        ]
        // "gptq-int8" / "awq … int8": the bit width wins over the method.
        for t in tokens.reversed() {
            if let (_, type, bytes) = table.first(where: { $0.0 == t }) {
                if type.hasPrefix("int4 ("), tokens.contains("int8") { return ("int8", 1, t + "+int8") }
                return (type, bytes, t)
            }
        }
        return nil
    }

    /// Every row, one line each (`--model list`): name, shape, context, MoE, source. Deterministic.
    public static func listing() -> String {
        var lines = ["model catalog (--model NAME; engine ids match by prefix, e.g. meta-llama/Llama-3.1-8B-Instruct; or --model config.json|FILE.gguf):"]
        for r in rows {
            let moe = r.experts > 0 ? ", MoE \(r.expertsPerToken) of \(r.experts) experts (d_e \(r.expertFFNDim))" : ""
            lines.append("  \(r.name): \(r.layers) layers, d \(r.dim), \(r.heads) heads / \(r.kvHeads) KV × \(r.headDim), d_ff \(r.ffnDim), vocab \(r.vocabSize), context \(r.contextLength)\(moe)")
            lines.append("      source: \(r.source)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func lookup(_ name: String) throws(AnalysisError) -> ModelCatalogRow {
        let key = HardwareCatalog.normalize(name)
        if let row = rows.first(where: { HardwareCatalog.normalize($0.name) == key }) { return row }
        throw .unknownModel(name: name, suggestions: HardwareCatalog.closest(to: name, among: rows.map(\.name) + unsupported))
    }
}

extension ModelDescriptor {
    /// This descriptor with its MoE fields set (all layers MoE, no shared experts; dense when `experts` is 0).
    func withExperts(_ experts: Int, perToken: Int, ffn: Int) -> ModelDescriptor {
        guard experts > 0 else { return self }
        var m = self
        m.experts = experts
        m.expertsPerToken = perToken
        m.expertFFNDim = ffn
        m.ffnDim = 0
        return m
    }
}
