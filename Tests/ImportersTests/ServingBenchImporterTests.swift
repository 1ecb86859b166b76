import Foundation
import Testing
import Analysis
@testable import Importers
import TraceFormat

/// vLLM `bench serve` and SGLang `bench_serving` files: every request reconstructed from the
/// file's own arrays, and the file's own aggregates (computed by numpy in make_fixtures.py)
/// equal to what the analyzer computes from the imported events.
@Suite struct ServingBenchImporterTests {
    @Test func vllmRequestsMatchTheFileArrays() throws {
        let events = try importFixture("vllm-bench-serve.json", .vllm)
        let file = try #require(try foundationJSON("vllm-bench-serve.json")[0] as? [String: Any])
        let ttfts = try #require(file["ttfts"] as? [Double])
        let itls = try #require(file["itls"] as? [[Double]])
        let inputs = try #require(file["input_lens"] as? [Int]), outputs = try #require(file["output_lens"] as? [Int])
        let starts = try #require(file["start_times"] as? [Double])
        let errors = try #require(file["errors"] as? [String])
        let byRequest = requestEvents(events)
        #expect(byRequest.count == ttfts.count)
        for i in 0..<ttfts.count {
            let evs = try #require(byRequest[RequestID(i)])
            let arrival = try #require(evs.first)
            #expect(arrival.kind == .arrival && arrival.promptTokens == Int32(inputs[i]))
            #expect(close(seconds(arrival.time), starts[i] - starts.min()!, 1e-8))
            if !errors[i].isEmpty {
                #expect(evs.last?.kind == .aborted && evs.last?.reason == errors[i])
                continue
            }
            let first = try #require(evs.first { $0.kind == .firstToken })
            #expect(abs(seconds(first.time - arrival.time) - ttfts[i]) < 2e-9, "request \(i) TTFT")
            let chunks = evs.filter { $0.kind == .firstToken || $0.kind == .token }
            let gaps = zip(chunks.dropFirst(), chunks).map { seconds($0.time - $1.time) }
            #expect(gaps.count == itls[i].count)
            for (g, f) in zip(gaps, itls[i]) { #expect(abs(g - f) < 2e-9) }
            #expect(chunks.reduce(0) { $0 + Int($1.tokens ?? 0) } == outputs[i])
            #expect(evs.last?.kind == .finished && evs.last?.tokens == Int32(outputs[i]))
        }
        let h = try header(events)
        #expect(h.producer == "inferscope-import vllm bench serve")
        #expect(h.model.name == "Llama 3.1 8B" && h.model.layers == 32)
        #expect(h.hardware.name == "NVIDIA H100 SXM5 80GB" && h.hardware.source == "catalog")
        #expect(h.workload.requests == 24)
        #expect(h.workload.parameters["reported.completed"] == "23")
        #expect(h.options["import.arrivals"]?.hasPrefix("from start_times") == true)
    }

    /// The cross-check: vLLM's own mean/median/p90/p99 of TTFT, TPOT, ITL and E2E (ms) against
    /// the analyzer's numbers on the imported trace.
    @Test func vllmAggregatesEqualTheAnalyzersNumbers() throws {
        let file = try #require(try foundationJSON("vllm-bench-serve.json")[0] as? [String: Any])
        let m = try analyze(try importFixture("vllm-bench-serve.json", .vllm)).metrics
        func ms(_ key: String) throws -> Double { try #require(file[key] as? Double, "\(key)") / 1e3 }
        let pairs: [(Distribution?, String)] = [(m.ttft, "ttft"), (m.tpot, "tpot"), (m.itl, "itl"), (m.e2e, "e2el")]
        for (d, name) in pairs {
            let d = try #require(d, "\(name)")
            #expect(close(d.mean, try ms("mean_\(name)_ms")), "mean \(name)")
            #expect(close(d.p50, try ms("median_\(name)_ms")), "median \(name)")
            #expect(close(d.p90, try ms("p90_\(name)_ms")), "p90 \(name)")
            #expect(close(d.p99, try ms("p99_\(name)_ms")), "p99 \(name)")
        }
        #expect(m.requests.completed == file["completed"] as? Int)
        #expect(m.requests.aborted == file["failed"] as? Int)
        #expect(m.requests.inputTokens == file["total_input_tokens"] as? Int)
        #expect(m.requests.outputTokens == file["total_output_tokens"] as? Int)
        // vLLM's duration is the benchmark's wall time (slightly longer than the requests' span).
        let duration = try #require(file["duration"] as? Double)
        #expect(m.duration <= duration && m.duration > 0.99 * duration)
    }

    @Test func vllmAppendedRunsAndOldSpellings() throws {
        let runs = try foundationJSON("vllm-append-old.json", lines: true).map { $0 as! [String: Any] }
        #expect(runs.count == 2)
        for (index, run) in runs.enumerated() {
            let events = try importFixture("vllm-append-old.json", .vllm, ImportOptions(run: index + 1))
            let m = try analyze(events).metrics
            #expect(m.requests.completed == run["completed"] as? Int)
            #expect(close(m.ttft?.mean, (run["mean_ttft_ms"] as! Double) / 1e3))
            #expect(close(m.itl?.p99, (run["p99_itl_ms"] as! Double) / 1e3))
            #expect(close(m.tpot?.p99, (run["p99_tpot_ms"] as! Double) / 1e3))
            let h = try header(events)
            #expect(h.options["import.run"] == "\(index + 1) of 2 runs in the file")
            #expect(h.options["import.arrivals"]?.hasPrefix("synthesized") == true)
            #expect(h.workload.parameters.keys.contains("reported.request_goodput") == false, "null goodput is not a number")
            #expect(h.model.name == "Qwen2.5 7B")
        }
        // Default: the last run.
        let last = try importFixture("vllm-append-old.json", .vllm)
        #expect(requestEvents(last).count == runs[1]["num_prompts"] as? Int)
        #expect(importFailure(String(decoding: try fixtureBytes("vllm-append-old.json"), as: UTF8.self), .vllm,
                              options: ImportOptions(run: 3))
                == "bad.json: field '--run': the file holds 2 runs; expected --run between 1 and 2")
    }

    @Test func sglangDetailedRunMatchesItsAggregates() throws {
        let lines = try foundationJSON("sglang-bench-serving.jsonl", lines: true).map { $0 as! [String: Any] }
        let file = lines[1]
        let events = try importFixture("sglang-bench-serving.jsonl", .sglang)
        let m = try analyze(events).metrics
        #expect(m.requests.completed == file["completed"] as? Int)
        #expect(m.requests.outputTokens == file["total_output_tokens"] as? Int)
        for (d, name) in [(m.ttft, "ttft"), (m.tpot, "tpot"), (m.itl, "itl")] {
            #expect(close(d?.mean, (file["mean_\(name)_ms"] as! Double) / 1e3), "mean \(name)")
            #expect(close(d?.p50, (file["median_\(name)_ms"] as! Double) / 1e3), "median \(name)")
            #expect(close(d?.p99, (file["p99_\(name)_ms"] as! Double) / 1e3), "p99 \(name)")
        }
        #expect(close(m.e2e?.mean, (file["mean_e2e_latency_ms"] as! Double) / 1e3))
        #expect(close(m.itl?.p95, (file["p95_itl_ms"] as! Double) / 1e3))
        #expect(try header(events).producer == "inferscope-import sglang bench_serving")
    }

    /// The compact SGLang form has medians only: no requests are invented, the aggregates travel
    /// in the header, and `Infinity` (a bare token) is read.
    @Test func sglangAggregatesOnlyRunImportsNoRequests() throws {
        let events = try importFixture("sglang-bench-serving.jsonl", .sglang, ImportOptions(run: 1))
        #expect(events.count == 1)
        let h = try header(events)
        #expect(h.workload.requests == 0)
        #expect(h.workload.parameters["reported.median_ttft_ms"] == "610.2")
        #expect(h.workload.parameters["reported.request_rate"] == "inf")
        #expect(h.options["import.requests"]?.hasPrefix("none: the file has aggregates only") == true)
        let result = try analyze(events)
        #expect(result.metrics.ttft == nil)
        // The file's aggregates (aggregate.*) now reach the analyzer: it says what is missing
        // without claiming there is no latency at all.
        #expect(result.cannotConclude.contains { $0.hasPrefix("request events: no per-request distribution") })
        #expect(close(AggregateSummary(parameters: h.workload.parameters).ttft.p50, 0.6102, 1e-12))
    }

    /// vLLM's speculative-decoding totals: the analyzer's mean accepted length and acceptance
    /// rate equal the file's `spec_decode_acceptance_length` and `spec_decode_acceptance_rate` (%).
    @Test func vllmSpeculationTotals() throws {
        let text = """
            {"model_id": "meta-llama/Llama-3.1-8B-Instruct", "ttfts": [0.05, 0.06], "itls": [[0.02, 0.021], [0.019]],
             "output_lens": [7, 4], "input_lens": [100, 120], "start_times": [10.0, 10.5],
             "spec_decode_num_drafts": 1200, "spec_decode_draft_tokens": 3600, "spec_decode_accepted_tokens": 2280,
             "spec_decode_acceptance_rate": 63.33333333333333, "spec_decode_acceptance_length": 2.9,
             "spec_decode_per_position_acceptance_rates": [0.8, 0.62, 0.48]}
            """
        let events = try ImportFormat.vllm.importer.importEvents(Array(text.utf8), file: "spec.json")
        let s = try #require(try analyze(events).metrics.speculation)
        #expect(s.gamma == 3 && s.drafts == 1200)
        #expect(close(s.meanAcceptedLength, 2.9) && close(s.acceptanceRate, 0.6333333333333333))
    }

    @Test func servingBenchErrorsNameTheFieldAndLine() {
        #expect(importFailure("{\"ttfts\": [0.1, 0.2, 0.3],\n \"itls\": [[0.01], []]}", .vllm)
                == "bad.json:1: field 'itls': expected 3 entries (one per request, as in 'ttfts'), found 2")
        #expect(importFailure("{\"model_id\": \"x\",\n\"ttfts\": [0.1, \"abc\"]}", .vllm)
                == "bad.json:2: field 'ttfts[1]': expected a time to first token in seconds, found the string \"abc\"")
        #expect(importFailure("{\"ttfts\": [0.1, 0.2],\n\"itls\": [[0.01, 0.02], [0.01,", .vllm)
                == "bad.json:2: field 'itls[1]': expected a value, found the end of the file")
        #expect(importFailure("{\"ttfts\": [0.1, -0.5]}", .sglang)
                == "bad.json:1: field 'ttfts[1]': expected a non-negative time in seconds, found -0.5")
        #expect(importFailure("", .vllm)
                == "bad.json: no result object in the file (expected a JSON object with the benchmark's results)")
        #expect(importFailure("[1, 2]", .vllm) == "bad.json:1: field '[0]': expected an object, found a number")
        #expect(importFailure("{\"ttfts\": [0.1], \"model_id\": \"x\"}", .vllm, options: ImportOptions(model: "GPT-9"))?
                    .hasPrefix("bad.json: field '--model': unknown model 'GPT-9': expected a catalog model or an engine id") == true)
        #expect(importFailure("{\"ttfts\": [0.1], \"model_id\": \"x\"}", .vllm, options: ImportOptions(model: "Qwen2.5 3"))?
                    .contains("Did you mean: ") == true)
        #expect(importFailure("{\"ttfts\": [0.1]}", .vllm, options: ImportOptions(hardware: "H1000"))?
                    .hasPrefix("bad.json: field '--hardware': unknown hardware 'H1000'") == true)
    }
}
