import Foundation
import TraceFormat

/// A model architecture read from a Hugging Face `config.json` (llama, mistral, qwen2/3, gemma,
/// phi3, mixtral, qwen2_moe/qwen3_moe, gpt_oss, deepseek_v2/v3), for `--model FILE`.
///
/// Read: hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads (default: the
/// heads), head_dim (default hidden/heads), intermediate_size, vocab_size,
/// max_position_embeddings, tie_word_embeddings, torch_dtype/dtype, quantization_config; MoE:
/// num_local_experts/num_experts/n_routed_experts, num_experts_per_tok/experts_per_token,
/// moe_intermediate_size (else intermediate_size), shared experts, first_k_dense_replace.
/// A nested `text_config` (multimodal wrappers) is read instead of the top level.
/// DeepSeek's MLA is approximated: one KV "head" of (kv_lora_rank + qk_rope_head_dim)/2 per K and
/// V, which gives the latent cache's bytes exactly; query heads use qk_nope + qk_rope dims. O(file).
public enum HuggingFaceConfig {
    /// Parses `bytes` (the config.json text); `file` names it in errors.
    public static func descriptor(_ bytes: [UInt8], file: String) throws(AnalysisError) -> ModelDescriptor {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            throw .invalidModelFile(file: file, field: "(document)", expected: "a JSON object (a Hugging Face config.json)")
        }
        guard var c = object as? [String: Any] else {
            throw .invalidModelFile(file: file, field: "(document)", expected: "a JSON object (a Hugging Face config.json)")
        }
        let top = c
        if let text = c["text_config"] as? [String: Any] { c = text.merging(c.filter { $0.key == "quantization_config" }) { a, _ in a } }
        func int(_ keys: String...) -> Int? {
            for k in keys { if let v = c[k] as? NSNumber { return v.intValue } }
            return nil
        }
        func need(_ key: String) throws(AnalysisError) -> Int {
            guard let v = int(key), v > 0 else { throw .invalidModelFile(file: file, field: key, expected: "a positive integer") }
            return v
        }
        let modelType = (c["model_type"] as? String) ?? (top["model_type"] as? String) ?? "unknown"
        let dim = try need("hidden_size"), layers = try need("num_hidden_layers"), heads = try need("num_attention_heads")
        var kvHeads = int("num_key_value_heads") ?? heads
        var headDim = int("head_dim") ?? dim / heads
        let vocab = try need("vocab_size")
        let context = int("max_position_embeddings", "seq_length") ?? 0
        let tied = (c["tie_word_embeddings"] as? Bool) ?? (top["tie_word_embeddings"] as? Bool) ?? modelType.hasPrefix("gemma")
        var notes: [String] = []

        // MoE.
        let experts = int("num_local_experts", "num_experts", "n_routed_experts") ?? 0
        let perToken = int("num_experts_per_tok", "experts_per_token", "num_experts_per_token") ?? 0
        let moeFFN = int("moe_intermediate_size") ?? 0
        let denseFFN = int("intermediate_size") ?? 0
        var model = ModelDescriptor(name: modelName(top, file: file), source: "config.json \(file)", architecture: modelType,
                                    dim: dim, layers: layers, heads: heads, kvHeads: kvHeads, headDim: headDim,
                                    ffnDim: denseFFN, vocabSize: vocab, maxContext: context, tiedEmbeddings: tied,
                                    weightType: "bf16", bytesPerWeight: 2, kvType: "bf16", bytesPerKVElement: 2)
        if experts > 0, perToken > 0 {
            model.experts = experts
            model.expertsPerToken = perToken
            model.expertFFNDim = moeFFN > 0 ? moeFFN : denseFFN
            let shared = int("n_shared_experts") ?? 0
            model.sharedExpertFFNDim = int("shared_expert_intermediate_size") ?? shared * model.expertFFNDim
            model.denseLayers = min(layers, int("first_k_dense_replace") ?? 0)
            if model.denseLayers == 0 { model.ffnDim = 0 }
            guard model.expertFFNDim > 0 else {
                throw .invalidModelFile(file: file, field: "moe_intermediate_size", expected: "the expert MLP size (or intermediate_size)")
            }
        } else if denseFFN <= 0 {
            throw .invalidModelFile(file: file, field: "intermediate_size", expected: "a positive integer")
        }
        // DeepSeek MLA: the cache holds one latent of kv_lora_rank + rope dims per token and layer.
        if let rank = int("kv_lora_rank"), let rope = int("qk_rope_head_dim") {
            kvHeads = 1
            headDim = (rank + rope) / 2
            model.kvHeads = kvHeads
            model.headDim = headDim
            notes.append("MLA approximated as one KV head of (kv_lora_rank + qk_rope_head_dim)/2 = \(headDim)")
        }

        // Storage types.
        let dtype = ((c["torch_dtype"] ?? c["dtype"] ?? top["torch_dtype"] ?? top["dtype"]) as? String)?.lowercased() ?? "bfloat16"
        let (w, wb): (String, Double) = switch dtype {
        case "float32": ("f32", 4)
        case "float16": ("f16", 2)
        default: ("bf16", 2)
        }
        model.weightType = w
        model.bytesPerWeight = wb
        model.kvType = w
        model.bytesPerKVElement = wb
        if let q = (c["quantization_config"] ?? top["quantization_config"]) as? [String: Any], let (qt, qb) = quantization(q) {
            model.weightType = qt
            model.bytesPerWeight = qb
            notes.append("weights \(qt) from quantization_config (\(NumberFormat.significant(qb)) bytes/weight, embeddings included)")
        }
        if !notes.isEmpty { model.source += " (" + notes.joined(separator: "; ") + ")" }
        return model
    }

    /// The weight type and bytes/weight a `quantization_config` implies (group scales included).
    static func quantization(_ q: [String: Any]) -> (String, Double)? {
        let method = (q["quant_method"] as? String)?.lowercased() ?? ""
        var bits = (q["bits"] as? NSNumber)?.intValue ?? (q["w_bit"] as? NSNumber)?.intValue
        if bits == nil, let groups = q["config_groups"] as? [String: Any] {
            for case let g as [String: Any] in groups.values {
                if let w = g["weights"] as? [String: Any], let n = (w["num_bits"] as? NSNumber)?.intValue { bits = n; break }
            }
        }
        if (q["load_in_4bit"] as? Bool) == true { bits = 4 }
        if (q["load_in_8bit"] as? Bool) == true { bits = 8 }
        switch method {
        case "fp8", "fbgemm_fp8": return ("fp8", 1)
        case "mxfp4": return ("mxfp4", 4.25 / 8)
        case "nvfp4", "modelopt": return bits == 8 ? ("fp8", 1) : ("nvfp4", 4.5 / 8)
        default: break
        }
        switch bits {
        case 4: return (method.isEmpty ? "int4" : "\(method)-int4", 4.5 / 8)
        case 8: return (method.isEmpty ? "int8" : "\(method)-int8", 1.0625)
        case let b? where b > 0 && b < 16: return ("int\(b)", (Double(b) + 0.5) / 8)
        default: return nil
        }
    }

    static func modelName(_ c: [String: Any], file: String) -> String {
        if let p = c["_name_or_path"] as? String, !p.isEmpty { return p }
        if let a = (c["architectures"] as? [String])?.first { return a }
        return file
    }
}
