import Foundation
import Testing
import Analysis
@testable import Importers
import TraceFormat

/// The analyzer on request-level data only: the estimate's measured inputs (Little's-law batch,
/// context, step time, idle share) recomputed here from the vLLM file itself, the estimated
/// verdict marked as such, and no estimate where the data cannot support one.
@Suite struct RequestLevelEstimateTests {
    @Test func estimateInputsComeFromTheFile() throws {
        let file = try #require(try foundationJSON("vllm-bench-serve.json")[0] as? [String: Any])
        let ttfts = file["ttfts"] as! [Double], itls = file["itls"] as! [[Double]], errors = file["errors"] as! [String]
        let inputs = file["input_lens"] as! [Int], outputs = file["output_lens"] as! [Int], starts = file["start_times"] as! [Double]
        let ok = (0..<ttfts.count).filter { errors[$0].isEmpty }
        let t0 = starts.min()!
        let duration = ok.map { starts[$0] - t0 + ttfts[$0] + itls[$0].reduce(0, +) }.max()!
        let decode = ok.map { itls[$0].reduce(0, +) }
        let batch = decode.reduce(0, +) / duration
        let context = zip(ok, decode).map { $1 * (Double(inputs[$0]) + Double(outputs[$0]) / 2) }.reduce(0, +) / decode.reduce(0, +)

        let r = try analyze(try importFixture("vllm-bench-serve.json", .vllm))
        let e = try #require(r.estimate)
        #expect(close(e.meanDecodeBatch, batch, 1e-6))
        #expect(close(e.meanContext, context, 1e-6))
        #expect(close(e.decodeStepSeconds, (file["mean_tpot_ms"] as! Double) / 1e3))
        // Decode MBU = bytes of one step at (B, c) / (mean TPOT × the H100's 3.35 TB/s).
        let model = try header(try importFixture("vllm-bench-serve.json", .vllm)).model
        #expect(close(e.decode.mbu, model.decodeStepCost(batch: batch, context: context).bytes / (e.decodeStepSeconds * 3.35e12), 1e-6))
        #expect(e.prefill.mfu < 1 && e.prefill.intensity > r.roofline!.ridge)
        #expect(r.verdict.workload == .decodeBound)
        #expect(r.verdict.phases.allSatisfy { $0.note?.hasPrefix("estimated") == true })
        #expect(r.cannotConclude.contains { $0.hasPrefix("step spans: no measured phase shares") })
    }

    @Test func noEstimateWithoutModelHardwareOrRealArrivals() throws {
        // Synthesized arrivals (LLMPerf): no workload verdict, and the reason is given.
        let llm = try analyze(try importFixture("llmperf_individual_responses.json", .llmperf,
                                                ImportOptions(model: "Llama 3.1 8B", hardware: "H100")))
        #expect(llm.estimate == nil && llm.verdict.workload == .unknown)
        #expect(llm.cannotConclude.contains { $0.contains("the importer synthesized the arrival times") })
        // Unknown model: no roofline.
        let aiperf = try analyze(try importFixture("aiperf-profile_export.jsonl", .aiperf), AnalysisOptions(hardware: "H100"))
        #expect(aiperf.roofline == nil && aiperf.estimate == nil)
        #expect(aiperf.cannotConclude.contains { $0.hasPrefix("roofline, MFU/MBU and phase bounds: model 'unknown model' has no architecture") })
        // The same file with the model named: the estimate appears.
        let named = try analyze(try importFixture("aiperf-profile_export.jsonl", .aiperf, ImportOptions(model: "meta-llama/Llama-3.1-8B-Instruct")),
                                AnalysisOptions(hardware: "H100"))
        #expect(named.estimate != nil)
    }

    /// Formats' less common shapes: a sweep summary array, llama-bench JSONL, OTel client spans
    /// with chunk events.
    @Test func otherShapes() throws {
        let sweep = "[{\"model_id\": \"x\", \"num_prompts\": 1, \"ttfts\": [0.1], \"itls\": [[0.01]], \"output_lens\": [2]},\n"
            + " {\"model_id\": \"x\", \"num_prompts\": 2, \"ttfts\": [0.1, 0.2], \"itls\": [[0.01], [0.02, 0.03]], \"output_lens\": [2, 3]}]"
        let events = try ImportFormat.vllm.importer.importEvents(Array(sweep.utf8), file: "summary.json", options: ImportOptions(run: 1))
        #expect(requestEvents(events).count == 1)
        #expect(requestEvents(try ImportFormat.vllm.importer.importEvents(Array(sweep.utf8), file: "summary.json")).count == 2)

        let jsonl = "{\"n_prompt\": 0, \"n_gen\": 4, \"samples_ns\": [40000000]}\n{\"n_prompt\": 128, \"n_gen\": 0, \"avg_ns\": 9000000}\n"
        let steps = try ImportFormat.llamaBench.importer.importEvents(Array(jsonl.utf8), file: "b.jsonl")
            .compactMap { if case .step(let s) = $0 { return s }; return nil }
        // The 4 generated tokens are one step-run record of 4 decode steps (10 ms each on average).
        #expect(steps.map(\.phase) == [.decode, .prefill])
        #expect(steps.map(\.duration) == [40_000_000, 9_000_000])
        #expect(steps.map(\.stepCount) == [4, 1] && steps[0].run?.contextIncrement == 1)

        let t0: Int64 = 1_795_774_500_000_000_000
        func chunk(_ ms: Int64) -> String { "{\"timeUnixNano\": \"\(t0 + ms * 1_000_000)\", \"name\": \"gen_ai.content.completion.chunk\"}" }
        let otel = "{\"resourceSpans\": [{\"scopeSpans\": [{\"scope\": {\"name\": \"openllmetry\"}, \"spans\": [{\"name\": \"openai.chat\", \"kind\": 3, "
            + "\"startTimeUnixNano\": \"\(t0)\", \"endTimeUnixNano\": \"\(t0 + 100_000_000)\", \"attributes\": ["
            + "{\"key\": \"gen_ai.usage.input_tokens\", \"value\": {\"intValue\": \"40\"}}, {\"key\": \"gen_ai.usage.output_tokens\", \"value\": {\"intValue\": \"3\"}}], "
            + "\"events\": [\(chunk(50)), \(chunk(70)), \(chunk(95))], \"status\": {}}]}]}]}\n"
        let evs = requestEvents(try ImportFormat.otel.importer.importEvents(Array(otel.utf8), file: "o.jsonl"))[0]!
        #expect(evs.map(\.kind) == [.arrival, .firstToken, .token, .token, .finished])
        #expect(evs.map(\.time) == [0, 50_000_000, 70_000_000, 95_000_000, 100_000_000])
        #expect(evs[0].promptTokens == 40 && evs.last?.tokens == 3)
    }
}
