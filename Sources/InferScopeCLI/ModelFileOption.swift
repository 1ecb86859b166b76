import Analysis
import Glibc
import LlamaModel
import TraceFormat

/// `--model FILE`: a Hugging Face `config.json` (parsed by ``HuggingFaceConfig``) or a GGUF file
/// (``GGUFFile``'s header parse: metadata and tensor directory only, the tensor data is never
/// read) as the model descriptor of an imported file. Any other value is a catalog name or
/// engine id and is left to the importer's catalog match.
enum ModelFileOption {
    /// nil when `value` does not name an existing `.json`/`.gguf` file.
    static func descriptor(_ value: String, _ context: CommandContext) throws -> ModelDescriptor? {
        let lower = value.lowercased()
        guard lower.hasSuffix(".json") || lower.hasSuffix(".gguf") else { return nil }
        let path = context.resolve(value)
        guard access(path, F_OK) == 0 else {
            throw CommandFailure("--model \(value): no such file (give a catalog name, a Hugging Face config.json or a GGUF file; 'inferscope analyze --model list' prints the catalog)")
        }
        if lower.hasSuffix(".json") {
            let bytes: [UInt8]
            do { bytes = try FileBytes.load(path) } catch { throw CommandFailure("--model \(value): \(error.operation): \(error.reason)") }
            do { return try HuggingFaceConfig.descriptor(bytes, file: value) } catch { throw CommandFailure(error.description) }
        }
        do { return try gguf(GGUFFile(path: path), file: value) } catch let e as ModelLoadError { throw CommandFailure(e.description) }
    }

    /// The architecture in a GGUF file's `<arch>.*` metadata; bytes/weight = Σ tensor bytes /
    /// Σ tensor elements (the file's real average, K-quant mixes included). O(metadata + tensors).
    static func gguf(_ g: GGUFFile, file: String) throws -> ModelDescriptor {
        guard let arch = g.metadata["general.architecture"]?.string else {
            throw CommandFailure("--model \(file): GGUF metadata 'general.architecture' missing: expected the model family (llama, qwen2, …)")
        }
        func int(_ key: String) -> Int? { g.metadata["\(arch).\(key)"]?.integer }
        func need(_ key: String) throws -> Int {
            guard let v = int(key), v > 0 else {
                throw CommandFailure("--model \(file): GGUF metadata '\(arch).\(key)': expected a positive integer")
            }
            return v
        }
        let dim = try need("embedding_length"), layers = try need("block_count"), heads = try need("attention.head_count")
        let vocab = int("vocab_size") ?? g.metadata["tokenizer.ggml.tokens"]?.array?.count ?? 0
        guard vocab > 0 else { throw CommandFailure("--model \(file): GGUF metadata: no '\(arch).vocab_size' and no 'tokenizer.ggml.tokens'") }
        var elements = 0.0, bytes = 0.0
        for t in g.tensors { if let b = t.byteCount { elements += Double(t.elementCount); bytes += Double(b) } }
        let bpw = elements > 0 ? bytes / elements : 2
        let typeName = fileTypeNames[g.metadata["general.file_type"]?.integer ?? -1] ?? "gguf (\(NumberFormat.significant(bpw * 8)) bits/weight)"
        var m = ModelDescriptor(
            name: g.metadata["general.name"]?.string ?? file, source: "GGUF \(file) (metadata only)", architecture: arch,
            dim: dim, layers: layers, heads: heads, kvHeads: int("attention.head_count_kv") ?? heads,
            headDim: int("attention.key_length") ?? dim / heads, ffnDim: int("feed_forward_length") ?? 0,
            vocabSize: vocab, maxContext: int("context_length") ?? 0, tiedEmbeddings: g.tensor("output.weight") == nil,
            weightType: typeName, bytesPerWeight: bpw, kvType: "f16", bytesPerKVElement: 2)
        if let e = int("expert_count"), let k = int("expert_used_count"), e > 0, k > 0 {
            m.experts = e
            m.expertsPerToken = k
            m.expertFFNDim = int("expert_feed_forward_length") ?? m.ffnDim
            m.sharedExpertFFNDim = (int("expert_shared_count") ?? 0) * m.expertFFNDim
            m.denseLayers = min(layers, int("leading_dense_block_count") ?? 0)
            if m.denseLayers == 0 { m.ffnDim = 0 }
        }
        guard m.ffnDim > 0 || m.isMoE else { throw CommandFailure("--model \(file): GGUF metadata '\(arch).feed_forward_length': expected a positive integer") }
        return m
    }

    /// llama.cpp's `general.file_type` (LLAMA_FTYPE_*) names.
    static let fileTypeNames: [Int: String] = [
        0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 7: "q8_0", 8: "q5_0", 9: "q5_1", 10: "q2_k", 11: "q3_k_s", 12: "q3_k_m",
        13: "q3_k_l", 14: "q4_k_s", 15: "q4_k_m", 16: "q5_k_s", 17: "q5_k_m", 18: "q6_k", 32: "bf16",
    ]
}
