// Rows from /work/shared/reference/models.csv (methodology §9), plus the models engine ids name
// most often (Llama 3 / 3.3, more Qwen2.5 and Qwen3 sizes, Mistral v0.3, Mixtral and Qwen3 MoE),
// whose source is the published Hugging Face config.json. DeepSeek-V3's MLA is not a catalog row
// (give its config.json with --model). Sources kept per row.

extension ModelCatalog {
    static let rows: [ModelCatalogRow] = [
        ModelCatalogRow(
            name: "Llama 3.1 8B", layers: 32, dim: 4096, heads: 32,
            kvHeads: 8, headDim: 128, ffnDim: 14336, vocabSize: 128256,
            contextLength: 131072, tiedEmbeddings: false, parametersComputed: 8029995008,
            source: "meta-llama/llama-models models/sku_list.py (dim=4096 n_layers=32 n_heads=32 n_kv_heads=8 ffn_dim_multiplier=1.3 multiple_of=1024 vocab=128256 -> ffn 14336); context 128k from models/llama3_1/MODEL_CARD.md",
            verification: "verified-against-read-source (intermediate derived by llama-models FFN rounding rule; matches third-party config copies)"),
        ModelCatalogRow(
            name: "Llama 3.1 70B", layers: 80, dim: 8192, heads: 64,
            kvHeads: 8, headDim: 128, ffnDim: 28672, vocabSize: 128256,
            contextLength: 131072, tiedEmbeddings: false, parametersComputed: 70552387584,
            source: "meta-llama/llama-models models/sku_list.py (dim=8192 n_layers=80 n_heads=64 n_kv_heads=8 ffn_dim_multiplier=1.3 multiple_of=4096 -> 28672); MODEL_CARD 128k",
            verification: "verified-against-read-source"),
        ModelCatalogRow(
            name: "Llama 3.1 405B", layers: 126, dim: 16384, heads: 128,
            kvHeads: 8, headDim: 128, ffnDim: 53248, vocabSize: 128256,
            contextLength: 131072, tiedEmbeddings: false, parametersComputed: 405849243648,
            source: "meta-llama/llama-models models/sku_list.py (dim=16384 n_layers=126 n_heads=128 n_kv_heads=8 ffn_dim_multiplier=1.2 multiple_of=4096 -> 53248); MODEL_CARD 128k",
            verification: "verified-against-read-source"),
        ModelCatalogRow(
            name: "Llama 3.2 1B", layers: 16, dim: 2048, heads: 32,
            kvHeads: 8, headDim: 64, ffnDim: 8192, vocabSize: 128256,
            contextLength: 131072, tiedEmbeddings: true, parametersComputed: 1235746816,
            source: "meta-llama/llama-models models/sku_list.py @364ed4e arch_args_1b (ffn_dim_multiplier=1.5 multiple_of=256 -> 8192); models/llama3_2/MODEL_CARD.md (1.23B, 128k, shared embeddings)",
            verification: "verified-against-read-source"),
        ModelCatalogRow(
            name: "Llama 3.2 3B", layers: 28, dim: 3072, heads: 24,
            kvHeads: 8, headDim: 128, ffnDim: 8192, vocabSize: 128256,
            contextLength: 131072, tiedEmbeddings: true, parametersComputed: 3212574720,
            source: "meta-llama/llama-models models/sku_list.py @364ed4e arch_args_3b (ffn_dim_multiplier=1.0 multiple_of=256 -> 8192); MODEL_CARD 3.21B, 128k",
            verification: "verified-against-read-source"),
        ModelCatalogRow(
            name: "Mistral 7B (v0.1)", layers: 32, dim: 4096, heads: 32,
            kvHeads: 8, headDim: 128, ffnDim: 14336, vocabSize: 32000,
            contextLength: 8192, tiedEmbeddings: false, parametersComputed: 7241465856,
            source: "Mistral 7B paper arXiv 2310.06825 Table 1 (dim 4096, n_layers 32, head_dim 128, hidden_dim 14336, n_heads 32, n_kv_heads 8, window 4096, context_len 8192, vocab 32000)",
            verification: "secondary (paper table quoted by third-party pages; HF config for v0.1 lists max_position_embeddings 32768 and sliding_window 4096)"),
        ModelCatalogRow(
            name: "Qwen2.5 0.5B", layers: 24, dim: 896, heads: 14,
            kvHeads: 2, headDim: 64, ffnDim: 4864, vocabSize: 151936,
            contextLength: 32768, tiedEmbeddings: true, parametersComputed: 493961216,
            source: "Qwen/Qwen2.5-0.5B(-Instruct) config.json as copied in several public repos (hidden 896, layers 24, heads 14, kv 2, intermediate 4864, vocab 151936, max_position_embeddings 32768, tie_word_embeddings true)",
            verification: "secondary (multiple consistent third-party copies of config.json)"),
        ModelCatalogRow(
            name: "Qwen2.5 7B", layers: 28, dim: 3584, heads: 28,
            kvHeads: 4, headDim: 128, ffnDim: 18944, vocabSize: 152064,
            contextLength: 131072, tiedEmbeddings: false, parametersComputed: 7615283200,
            source: "Qwen/Qwen2.5-7B config.json copies (hidden 3584, layers 28, heads 28, kv 4, intermediate 18944, vocab 152064); base config max_position_embeddings 131072, Instruct config 32768 (+YaRN to 128k)",
            verification: "secondary (consistent third-party copies)"),
        ModelCatalogRow(
            name: "Qwen2.5 72B", layers: 80, dim: 8192, heads: 64,
            kvHeads: 8, headDim: 128, ffnDim: 29568, vocabSize: 152064,
            contextLength: 131072, tiedEmbeddings: false, parametersComputed: 72704065536,
            source: "Qwen/Qwen2.5-72B config.json copies (hidden 8192, layers 80, heads 64, kv 8, intermediate 29568, vocab 152064)",
            verification: "secondary (consistent third-party copies)"),
        ModelCatalogRow(
            name: "Gemma 2 9B", layers: 42, dim: 3584, heads: 16,
            kvHeads: 8, headDim: 256, ffnDim: 14336, vocabSize: 256000,
            contextLength: 8192, tiedEmbeddings: true, parametersComputed: 9241100288,
            source: "google/gemma-2-9b-it config.json as quoted in a vllm-project/vllm issue (hidden 3584, layers 42, heads 16, kv 8, head_dim 256, intermediate 14336, vocab 256000, max_position_embeddings 8192, sliding_window 4096, query_pre_attn_scalar 256)",
            verification: "secondary (config quoted verbatim in a public issue)"),
        ModelCatalogRow(
            name: "Phi-3 mini (4k)", layers: 32, dim: 3072, heads: 32,
            kvHeads: 32, headDim: 96, ffnDim: 8192, vocabSize: 32064,
            contextLength: 4096, tiedEmbeddings: false, parametersComputed: 3820879872,
            source: "microsoft/Phi-3-mini-4k-instruct config values as copied in public repos (hidden 3072, layers 32, heads 32, kv 32, intermediate 8192, vocab 32064, max_position_embeddings 4096); 128k variant uses LongRoPE",
            verification: "secondary (consistent third-party copies)"),
        ModelCatalogRow(
            name: "stories15M (llama2.c)", layers: 6, dim: 288, heads: 6,
            kvHeads: 6, headDim: 48, ffnDim: 768, vocabSize: 32000,
            contextLength: 256, tiedEmbeddings: true, parametersComputed: 15187968,
            source: "karpathy/llama2.c README.md model table (dim 288, n_layers 6, n_heads 6, n_kv_heads 6, max context 256, 15M); hidden_dim from model.py FeedForward rule (4*dim*2/3 rounded up to multiple_of=32, train.py default) -> 768",
            verification: "verified-against-read-source (hidden_dim derived; parameter count reproduces 15M)"),
        ModelCatalogRow(
            name: "stories42M (llama2.c)", layers: 8, dim: 512, heads: 8,
            kvHeads: 8, headDim: 64, ffnDim: 1376, vocabSize: 32000,
            contextLength: 1024, tiedEmbeddings: true, parametersComputed: 41680896,
            source: "karpathy/llama2.c README.md (dim 512, n_layers 8, n_heads 8, n_kv_heads 8, context 1024, 42M); hidden_dim derived by model.py rule with multiple_of=32 -> 1376",
            verification: "verified-against-read-source (hidden_dim derived; parameter count reproduces 41.7M)"),
        ModelCatalogRow(
            name: "stories110M (llama2.c)", layers: 12, dim: 768, heads: 12,
            kvHeads: 12, headDim: 64, ffnDim: 2048, vocabSize: 32000,
            contextLength: 1024, tiedEmbeddings: true, parametersComputed: 109510656,
            source: "karpathy/llama2.c README.md (dim 768, n_layers 12, n_heads 12, n_kv_heads 12, context 1024, 110M); hidden_dim derived -> 2048",
            verification: "verified-against-read-source (hidden_dim derived; parameter count reproduces 109.5M)"),
        ModelCatalogRow(
            name: "Llama 3 8B", layers: 32, dim: 4096, heads: 32,
            kvHeads: 8, headDim: 128, ffnDim: 14336, vocabSize: 128256,
            contextLength: 8192, tiedEmbeddings: false, parametersComputed: 8029995008,
            source: "meta-llama/Meta-Llama-3-8B config.json (hidden 4096, layers 32, heads 32, kv 8, intermediate 14336, vocab 128256, max_position_embeddings 8192): the Llama 3.1 8B shape with 8k context",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Llama 3 70B", layers: 80, dim: 8192, heads: 64,
            kvHeads: 8, headDim: 128, ffnDim: 28672, vocabSize: 128256,
            contextLength: 8192, tiedEmbeddings: false, parametersComputed: 70552387584,
            source: "meta-llama/Meta-Llama-3-70B config.json (hidden 8192, layers 80, heads 64, kv 8, intermediate 28672, vocab 128256, 8k context): the Llama 3.1 70B shape",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Llama 3.3 70B", layers: 80, dim: 8192, heads: 64,
            kvHeads: 8, headDim: 128, ffnDim: 28672, vocabSize: 128256,
            contextLength: 131072, tiedEmbeddings: false, parametersComputed: 70552387584,
            source: "meta-llama/Llama-3.3-70B-Instruct config.json: the Llama 3.1 70B architecture (hidden 8192, layers 80, heads 64, kv 8, intermediate 28672, 128k)",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Mistral 7B (v0.3)", layers: 32, dim: 4096, heads: 32,
            kvHeads: 8, headDim: 128, ffnDim: 14336, vocabSize: 32768,
            contextLength: 32768, tiedEmbeddings: false, parametersComputed: 7247757312,
            source: "mistralai/Mistral-7B-Instruct-v0.3 config.json (v0.1 shape, vocab 32768, max_position_embeddings 32768, no sliding window)",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Qwen2.5 1.5B", layers: 28, dim: 1536, heads: 12,
            kvHeads: 2, headDim: 128, ffnDim: 8960, vocabSize: 151936,
            contextLength: 32768, tiedEmbeddings: true, parametersComputed: 1543569408,
            source: "Qwen/Qwen2.5-1.5B-Instruct config.json (hidden 1536, layers 28, heads 12, kv 2, intermediate 8960, vocab 151936, tied)",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Qwen2.5 3B", layers: 36, dim: 2048, heads: 16,
            kvHeads: 2, headDim: 128, ffnDim: 11008, vocabSize: 151936,
            contextLength: 32768, tiedEmbeddings: true, parametersComputed: 3085697024,
            source: "Qwen/Qwen2.5-3B config.json (hidden 2048, layers 36, heads 16, kv 2, intermediate 11008, vocab 151936, tied)",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Qwen2.5 14B", layers: 48, dim: 5120, heads: 40,
            kvHeads: 8, headDim: 128, ffnDim: 13824, vocabSize: 152064,
            contextLength: 131072, tiedEmbeddings: false, parametersComputed: 14769192960,
            source: "Qwen/Qwen2.5-14B config.json (hidden 5120, layers 48, heads 40, kv 8, intermediate 13824, vocab 152064)",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Qwen2.5 32B", layers: 64, dim: 5120, heads: 40,
            kvHeads: 8, headDim: 128, ffnDim: 27648, vocabSize: 152064,
            contextLength: 131072, tiedEmbeddings: false, parametersComputed: 32762757120,
            source: "Qwen/Qwen2.5-32B config.json (hidden 5120, layers 64, heads 40, kv 8, intermediate 27648, vocab 152064)",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Qwen3 8B", layers: 36, dim: 4096, heads: 32,
            kvHeads: 8, headDim: 128, ffnDim: 12288, vocabSize: 151936,
            contextLength: 40960, tiedEmbeddings: false, parametersComputed: 8190427136,
            source: "Qwen/Qwen3-8B config.json (hidden 4096, layers 36, heads 32, kv 8, head_dim 128, intermediate 12288, vocab 151936, max_position_embeddings 40960)",
            verification: "secondary (published config.json values, not re-fetched this session)"),
        ModelCatalogRow(
            name: "Mixtral 8x7B", layers: 32, dim: 4096, heads: 32,
            kvHeads: 8, headDim: 128, ffnDim: 14336, vocabSize: 32000,
            contextLength: 32768, tiedEmbeddings: false, parametersComputed: 46702526464,
            source: "mistralai/Mixtral-8x7B-v0.1 config.json (hidden 4096, layers 32, heads 32, kv 8, intermediate 14336 per expert, num_local_experts 8, num_experts_per_tok 2, vocab 32000); models.csv row",
            verification: "secondary (models.csv and published config.json)",
            experts: 8, expertsPerToken: 2, expertFFNDim: 14336),
        ModelCatalogRow(
            name: "Qwen3 30B-A3B", layers: 48, dim: 2048, heads: 32,
            kvHeads: 4, headDim: 128, ffnDim: 6144, vocabSize: 151936,
            contextLength: 40960, tiedEmbeddings: false, parametersComputed: 30531911680,
            source: "Qwen/Qwen3-30B-A3B config.json (hidden 2048, layers 48, heads 32, kv 4, head_dim 128, moe_intermediate_size 768, num_experts 128, num_experts_per_tok 8, vocab 151936)",
            verification: "secondary (published config.json values, not re-fetched this session)",
            experts: 128, expertsPerToken: 8, expertFFNDim: 768),
    ]
    static let unsupported: [String] = ["DeepSeek-V3"]
}
