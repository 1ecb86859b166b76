import Testing
import Analysis
@testable import Importers
import TraceFormat

/// Engine ids people publish map to catalog rows; a quantized suffix sets the weight type (an
/// assumption the model's source says); `--model` with a descriptor (config.json/GGUF) wins.
@Suite struct EngineIDMatchTests {
    @Test func commonIDsMatch() {
        let cases = ["meta-llama/Meta-Llama-3-8B-Instruct": "Llama 3 8B", "meta-llama/Llama-3.3-70B-Instruct": "Llama 3.3 70B",
                     "Qwen/Qwen2.5-3B": "Qwen2.5 3B", "Qwen/Qwen2.5-32B-Instruct": "Qwen2.5 32B",
                     "meta-llama/Meta-Llama-3.1-8B-Instruct": "Llama 3.1 8B", "mistralai/Mixtral-8x7B-Instruct-v0.1": "Mixtral 8x7B",
                     "Qwen/Qwen3-30B-A3B-FP8": "Qwen3 30B-A3B"]
        for (id, name) in cases { #expect(ImportHeader.catalogModel(id)?.name == name, "\(id)") }
    }

    @Test func quantizedSuffixSetsWeightsAsAnAssumption() throws {
        let h = ImportHeader(tool: "test", modelID: "neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8")
        let m = try h.resolveModel(ImportOptions(), file: "f.json")
        #expect(m.name == "Llama 3.1 70B" && m.weightType == "fp8" && m.bytesPerWeight == 1)
        #expect(m.source.contains("fp8 weights assumed from the id's 'fp8'"))
        let given = ModelDescriptor(name: "custom", dim: 8, layers: 1, heads: 1, kvHeads: 1, headDim: 8, ffnDim: 8, vocabSize: 8,
                                    maxContext: 8, weightType: "bf16", bytesPerWeight: 2, kvType: "bf16", bytesPerKVElement: 2)
        #expect(try h.resolveModel(ImportOptions(modelDescriptor: given), file: "f.json") == given)
    }
}
