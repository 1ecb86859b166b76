#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels
import TraceFormat

/// A model ready to run: its weights, its tokenizer (when it has one) and where it came from.
public struct LoadedModel: Sendable {
    public var weights: ModelWeights
    /// Nil when the source has no usable vocabulary (workloads then use token ids only).
    public var tokenizer: Tokenizer?
    /// Display name: the preset name or the file's base name.
    public var name: String
    /// "preset:NAME" or the file path.
    public var source: String

    public init(weights: ModelWeights, tokenizer: Tokenizer?, name: String, source: String) {
        self.weights = weights
        self.tokenizer = tokenizer
        self.name = name
        self.source = source
    }

    /// The trace's model description (see ``ModelWeights/descriptor(name:source:kvType:bytesPerKVElement:)``).
    public func descriptor(kvType: String = "f32", bytesPerKVElement: Double = 4) -> ModelDescriptor {
        weights.descriptor(name: name, source: source, kvType: kvType, bytesPerKVElement: bytesPerKVElement)
    }
}

/// Resolves a model reference given on the command line.
public enum ModelLoader {
    /// Loads `reference`: a preset name (weights generated as `type` from `seed`, with the
    /// synthetic vocabulary), a GGUF file (recognised by its magic; vocabulary from its
    /// `tokenizer.ggml.*` keys when the tokenizer model is "llama"), or otherwise a llama2.c
    /// checkpoint (vocabulary from `tokenizerPath`, or `tokenizer.bin` beside the checkpoint
    /// if present). `type` and `seed` apply to presets only.
    public static func load(_ reference: String, type: TensorType = .f32, seed: UInt64 = 0,
                            tokenizerPath: String? = nil) throws(ModelLoadError) -> LoadedModel {
        if let preset = ModelPreset.named(reference) {
            let weights = preset.makeWeights(type: type, seed: seed)
            let vocabulary = tokenizerPath == nil ? Vocabulary.synthetic(size: preset.config.vocabSize)
                : try Vocabulary(llama2cTokenizer: tokenizerPath!, size: preset.config.vocabSize)
            return LoadedModel(weights: weights, tokenizer: Tokenizer(vocabulary: vocabulary), name: preset.name,
                               source: "preset:\(preset.name)")
        }
        guard access(reference, F_OK) == 0 else {
            throw ModelLoadError(.io, file: reference, field: "model",
                                 detail: "no such file and not a preset; expected a .gguf file, a llama2.c checkpoint or one of: \(ModelPreset.all.map(\.name).joined(separator: ", "))")
        }
        let name = String(reference.split(separator: "/").last ?? Substring(reference))
        let mapping = try MappedFile(path: reference)
        if mapping.byteCount >= 4, mapping.base.loadUnaligned(as: UInt32.self) == UInt32(littleEndian: GGUFFile.magic) {
            let gguf = try GGUFFile(mapping: mapping)
            let weights = try ModelWeights.load(gguf: gguf)
            var tokenizer: Tokenizer?
            if let path = tokenizerPath {
                tokenizer = Tokenizer(vocabulary: try Vocabulary(llama2cTokenizer: path, size: weights.config.vocabSize))
            } else if gguf.metadata["tokenizer.ggml.model"]?.string == "llama" {
                let vocabulary = try Vocabulary(gguf: gguf)
                guard vocabulary.count == weights.config.vocabSize else {
                    throw ModelLoadError(.invalidValue, file: reference, offset: gguf.metadataOffsets["tokenizer.ggml.tokens"],
                                         field: "metadata \"tokenizer.ggml.tokens\"",
                                         detail: "\(vocabulary.count) tokens; expected \(weights.config.vocabSize) (rows of token_embd.weight)")
                }
                tokenizer = Tokenizer(vocabulary: vocabulary)
            }
            return LoadedModel(weights: weights, tokenizer: tokenizer, name: name, source: reference)
        }
        let weights = try ModelWeights.loadLlama2c(path: reference)
        var tokenizerFile = tokenizerPath
        if tokenizerFile == nil {
            let beside = (reference.contains("/") ? String(reference[..<reference.lastIndex(of: "/")!]) + "/" : "") + "tokenizer.bin"
            if access(beside, R_OK) == 0 { tokenizerFile = beside }
        }
        let tokenizer = try tokenizerFile.map { (path) throws(ModelLoadError) in
            Tokenizer(vocabulary: try Vocabulary(llama2cTokenizer: path, size: weights.config.vocabSize))
        }
        return LoadedModel(weights: weights, tokenizer: tokenizer, name: name, source: reference)
    }
}
