import Foundation
import Testing
import Analysis
@testable import Importers
import TraceFormat

/// The aggregate-only formats of issue #11 (GenAI-Perf JSON/CSV, AIPerf summary JSON in both
/// schemas, LLMPerf summary, trtllm-bench report, the Serving Benchmark Result block, vLLM
/// nightly lists): each fixture's numbers, read independently with Foundation or from the
/// generator's constants, must come back in the header's `aggregate.*` parameters in seconds.
@Suite struct SummaryImporterTests {
    func summary(_ name: String, _ format: ImportFormat, _ options: ImportOptions = .init()) throws -> (RunHeader, AggregateSummary) {
        let events = try importFixture(name, format, options)
        let h = try header(events)
        return (h, AggregateSummary(parameters: h.workload.parameters))
    }

    func object(_ name: String) throws -> [String: Any] {
        try #require(try foundationJSON(name)[0] as? [String: Any])
    }

    @Test func genaiPerfJSON() throws {
        let (h, s) = try summary("genai-perf-profile_export_genai_perf.json", .genaiPerf)
        let o = try object("genai-perf-profile_export_genai_perf.json")
        func stat(_ k: String, _ q: String) -> Double { ((o[k] as! [String: Any])[q] as! Double) }
        #expect(close(s.ttft.mean, stat("time_to_first_token", "avg") / 1e3))
        #expect(close(s.ttft.p99, stat("time_to_first_token", "p99") / 1e3))
        #expect(close(s.tpot.p50, stat("inter_token_latency", "p50") / 1e3), "GenAI-Perf's ITL is per-request TPOT")
        #expect(close(s.e2e.max, stat("request_latency", "max") / 1e3))
        #expect(close(s.outputTokensMean, stat("output_sequence_length", "avg")))
        #expect(s.completed == Int(stat("request_count", "avg")))
        #expect(close(s.requestThroughput, stat("request_throughput", "avg")))
        #expect(s.maxConcurrency == 16, "from the nested input_config.perf_analyzer.stimulus")
        #expect(h.model.name == "Llama 3.1 8B")
        #expect(h.workload.parameters["reported.telemetry.gpu_power_usage"] != nil)
    }

    @Test func genaiPerfCSVWithThousandsSeparatorsAndCRLF() throws {
        let bytes = try fixtureBytes("genai-perf-profile_export_genai_perf.csv")
        #expect(String(decoding: bytes, as: UTF8.self).contains("\r\n"))
        #expect(try ImportDetection.detect(firstBytes: bytes, file: "x.csv") == .genaiPerf)
        let (_, s) = try summary("genai-perf-profile_export_genai_perf.csv", .genaiPerf)
        let o = try object("genai-perf-profile_export_genai_perf.json")
        func stat(_ k: String, _ q: String) -> Double { ((o[k] as! [String: Any])[q] as! Double) }
        // The CSV holds the same run rounded to 2 decimals (in ms).
        #expect(abs(s.ttft.mean! * 1e3 - stat("time_to_first_token", "avg")) <= 0.0051)
        #expect(abs(s.e2e.p99! * 1e3 - stat("request_latency", "p99")) <= 0.0051)
        // Written as "1,2xx.xx" in the file (9 × the JSON's value, > 1000).
        let expected = stat("output_token_throughput", "avg") * 9
        #expect(expected > 1000)
        #expect(abs(s.outputThroughput! - expected) <= 0.0051)
        #expect(s.completed == 40)
    }

    @Test func aiperfBothSchemas() throws {
        let (he, early) = try summary("aiperf-profile_export_aiperf-early.json", .aiperfJSON)
        let e = try object("aiperf-profile_export_aiperf-early.json")["records"] as! [String: [String: Any]]
        #expect(close(early.ttft.p50, (e["time_to_first_token"]!["p50"] as! Double) / 1e3))
        #expect(close(early.tpot.mean, (e["inter_token_latency"]!["avg"] as! Double) / 1e3))
        #expect(early.completed == 38 && early.failed == 2)
        #expect(close(early.durationSeconds, e["benchmark_duration"]!["avg"] as? Double))
        #expect(early.maxConcurrency == 32)
        #expect(he.model.name.hasPrefix("Qwen2.5 7B"))

        let (hf, flat) = try summary("aiperf-profile_export_aiperf.json", .aiperfJSON)
        let f = try object("aiperf-profile_export_aiperf.json")
        func stat(_ k: String, _ q: String) -> Double { ((f[k] as! [String: Any])[q] as! Double) }
        #expect(close(flat.itl.mean, stat("inter_chunk_latency", "avg") / 1e3))
        #expect(close(flat.tpot.p90, stat("inter_token_latency", "p90") / 1e3))
        #expect(flat.completed == 40)
        #expect(hf.hardware.name == "NVIDIA H100 SXM5 80GB", "from telemetry_data's gpu_name")
        #expect(hf.hardware.threads == 2, "two GPUs in the telemetry")
        #expect(hf.workload.parameters["reported.telemetry.gpu_power_usage"] == "425")
        #expect(hf.workload.parameters["reported.time_to_second_token.avg"] == nil, "null is absent")
        // Both detect as aiperf-json, not as genai-perf or the per-request aiperf format.
        for name in ["aiperf-profile_export_aiperf-early.json", "aiperf-profile_export_aiperf.json"] {
            #expect(try ImportDetection.detect(firstBytes: try fixtureBytes(name), file: name) == .aiperfJSON)
        }
    }

    @Test func llmperfSummary() throws {
        let (h, s) = try summary("llmperf_summary.json", .llmperfSummary)
        let text = String(decoding: try fixtureBytes("llmperf_summary.json"), as: UTF8.self)
        #expect(text.contains("NaN") && text.contains("\"results_number_input_tokens_min\": \""), "the traps are in the fixture")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(text.replacingOccurrences(of: "NaN", with: "null").utf8)) as? [String: Any])
        #expect(close(s.ttft.mean, o["results_ttft_s_mean"] as? Double))
        #expect(close(s.e2e.p90, o["results_end_to_end_latency_s_quantiles_p90"] as? Double))
        #expect(s.completed == 40 && s.failed == 2 && s.maxConcurrency == 8)
        #expect(s.tpot.isEmpty, "LLMPerf's inter_token_latency_s includes TTFT: not TPOT")
        #expect(h.workload.parameters["errors"] == "{429: 2}")
    }

    @Test func trtllmBenchReport() throws {
        let (h, s) = try summary("trtllm-bench-report.log", .trtllmBench)
        #expect(s.completed == 40)
        #expect(close(s.maxConcurrency, 15.8532))
        #expect(s.requestRate == .infinity, "an issue rate of 1.2345E+16 is 'all at once'")
        #expect(s.ttft.p99 != nil && s.tpot.p50 != nil && s.e2e.p95 != nil)
        #expect(s.ttft.mean! <= s.ttft.p99! && s.ttft.p99! <= s.ttft.max!)
        #expect(h.hardware.name == "NVIDIA H100 SXM5 80GB")
        #expect(h.model.name == "Llama 3.1 8B")
        #expect(close(s.durationSeconds, 9.874))
    }

    /// `--report_json` holds the same run as the console report: the same aggregates.
    @Test func trtllmBenchReportJSON() throws {
        #expect(try ImportDetection.detect(firstBytes: try fixtureBytes("trtllm-bench-report.json"), file: "r.json") == .trtllmBench)
        let (h, j) = try summary("trtllm-bench-report.json", .trtllmBench)
        let (_, t) = try summary("trtllm-bench-report.log", .trtllmBench)
        let o = try object("trtllm-bench-report.json")
        let ttft = (o["streaming_metrics"] as! [String: Any])["ttft_percentiles"] as! [String: Double]
        #expect(close(j.ttft.p99, ttft["p99"]! / 1e3) && close(j.ttft.max, ttft["maximum"]! / 1e3))
        // The console prints 4 decimals of ms; the JSON has full precision.
        // (half a unit of the 4th decimal: 5e-8 s for ms values, 5e-5 for tok/s and req/s)
        for (a, b, tol) in [(j.ttft.p50, t.ttft.p50, 5.1e-8), (j.tpot.mean, t.tpot.mean, 5.1e-8), (j.e2e.p95, t.e2e.p95, 5.1e-8),
                            (j.durationSeconds, t.durationSeconds, 5.1e-8), (j.requestThroughput, t.requestThroughput, 5.1e-5),
                            (j.outputThroughput, t.outputThroughput, 5.1e-5)] {
            #expect(abs(a! - b!) <= tol)
        }
        #expect(j.completed == t.completed && j.requestRate == .infinity && j.maxConcurrency == t.maxConcurrency)
        #expect(h.hardware.threads == 2, "tp_size 2 × pp_size 1")
    }

    @Test func servingBenchmarkResultBlockInALog() throws {
        let (vh, v) = try summary("vllm-serving-result.log", .servingText)
        #expect(vh.model.name == "Llama 3.1 8B", "from the Namespace(... model='…') line the benchmark logs")
        #expect(v.completed == 200 && v.failed == 0 && v.maxConcurrency == 64)
        #expect(close(v.durationSeconds, 61.37))
        #expect(close(v.inputTokensMean, 1024) && close(v.outputTokensMean, 128))
        #expect(v.ttft.mean! > 8 && v.tpot.mean! < 0.013, "TTFT of seconds with a ~10 ms TPOT")
        #expect(v.totalTokenThroughput != nil, "the old capital-T label is read")

        let (h, last) = try summary("sglang-rate-sweep.log", .servingText)
        #expect(last.requestRate == 16 && last.maxConcurrency == nil, "'not set' (and the reqeuest typo) is no cap")
        #expect(close(last.itl.max, 0.216) && close(last.e2e.mean, 8.52))
        let runs = ImportedRun.read(h.workload.parameters)
        #expect(runs.map(\.load) == [2, 4, 8, 16] && runs.allSatisfy { $0.loadKind == "request_rate" })
        let (_, second) = try summary("sglang-rate-sweep.log", .servingText, ImportOptions(run: 2))
        #expect(second.requestRate == 4 && close(second.ttft.mean, 0.061))
    }

    @Test func vllmNightlyList() throws {
        // pandas writes missing values as bare NaN, which Foundation rejects: read them as null.
        let text = String(decoding: try fixtureBytes("vllm-nightly-benchmark_results.json"), as: UTF8.self).replacingOccurrences(of: "NaN", with: "null")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        let (h, s) = try summary("vllm-nightly-benchmark_results.json", .vllmNightly)
        let last = list.last!
        #expect(close(s.tpot.p50, (last["Median"] as! Double) / 1e3), "the unlabelled Median after Mean TPOT is TPOT's")
        #expect(close(s.ttft.p99, (last["P99 TTFT (ms)"] as! Double) / 1e3))
        #expect(s.requestRate == .infinity)
        #expect(h.hardware.name == "NVIDIA H100 SXM5 80GB")
        let runs = ImportedRun.read(h.workload.parameters)
        #expect(runs.count == list.count)
        #expect(runs.map(\.load) == [1, 4, 16, .infinity])
    }

    @Test func servingBenchResultsCarryCanonicalAggregates() throws {
        let o = try object("vllm-bench-serve.json")
        let (_, s) = try summary("vllm-bench-serve.json", .vllm)
        #expect(close(s.ttft.mean, (o["mean_ttft_ms"] as! Double) / 1e3))
        #expect(close(s.itl.p99, (o["p99_itl_ms"] as! Double) / 1e3))
        #expect(s.completed == o["completed"] as? Int)
        #expect(close(s.durationSeconds, o["duration"] as? Double))
        #expect(ServingBenchImporter.pdTag("sglang-pd-2P1D") ?? (0, 0) == (2, 1))
        #expect(ServingBenchImporter.pdTag("llama3p1d") == nil, "a tag inside a word is not a P/D tag")
        #expect(ServingBenchImporter.summary(["num_prefill_workers": .integer(3), "num_decode_workers": .integer(1)]).prefillWorkers == 3)
    }

    @Test func thousandsSeparators() {
        #expect(JSONReader.parseNumberText("1,019.69") == 1019.69)
        #expect(JSONReader.parseNumberText("-12,345,678") == -12_345_678)
        #expect(JSONReader.parseNumberText("1,2") == nil)
        #expect(JSONReader.parseNumberText("1234,567") == nil)
        #expect(JSONReader.parseNumberText("1,234.5,6") == nil)
    }

    /// A format forced on a file that is not that format is an error naming what was missing,
    /// never an empty analysis.
    @Test func forcedFormatOnTheWrongFileIsAnError() throws {
        let cases: [(ImportFormat, String, String)] = [
            (.vllm, "genai-perf-profile_export_genai_perf.json", "no vLLM result records found"),
            (.sglang, "llama-server-chat.jsonl", "no SGLang result records found"),
            (.servingText, "trtllm-bench-report.log", "no 'Serving Benchmark Result' block"),
            (.trtllmBench, "vllm-serving-result.log", "no trtllm-bench"),
            (.vllmNightly, "vllm-bench-serve.json", "no vLLM nightly result records"),
            (.genaiPerf, "llama-server-completion.json", "no GenAI-Perf"),
            (.aiperfJSON, "llmperf_summary.json", "no AIPerf"),
            (.llmperfSummary, "aiperf-profile_export_aiperf.json", "no LLMPerf"),
            (.llamaServer, "vllm-bench-serve.json", "no llama.cpp server response"),
            (.llamaBenchMarkdown, "sglang-rate-sweep.log", "no llama-bench markdown table"),
            (.perfAnalyzer, "kineto.pt.trace.json", "no perf_analyzer experiments"),
            (.kineto, "perf_analyzer-profile_export.json", "no traceEvents"),
        ]
        for (format, name, needle) in cases {
            let bytes = try fixtureBytes(name)
            do throws(ImportError) {
                _ = try format.importer.importEvents(bytes, file: name)
                Issue.record("\(format.rawValue) accepted \(name)")
            } catch {
                #expect(error.description.contains(needle), "\(format.rawValue) on \(name): \(error.description)")
            }
        }
    }

    /// Every new fixture is recognised as its own format, unambiguously.
    @Test func autoDetection() throws {
        let expected: [(String, ImportFormat)] = [
            ("genai-perf-profile_export_genai_perf.json", .genaiPerf), ("genai-perf-profile_export_genai_perf.csv", .genaiPerf),
            ("perf_analyzer-profile_export.json", .perfAnalyzer), ("aiperf-profile_export_aiperf.json", .aiperfJSON),
            ("llama-server-completion.json", .llamaServer), ("llama-server-chat.jsonl", .llamaServer),
            ("llmperf_summary.json", .llmperfSummary), ("trtllm-bench-report.log", .trtllmBench),
            ("vllm-serving-result.log", .servingText), ("sglang-rate-sweep.log", .servingText),
            ("vllm-nightly-benchmark_results.json", .vllmNightly), ("llama-bench.md", .llamaBenchMarkdown),
            ("kineto.pt.trace.json", .kineto), ("kineto.pt.trace.json.gz", .kineto),
            ("aiperf-profile_export_aiperf.csv", .aiperfCSV), ("vllm-bench-serve.json", .vllm), ("llama-bench.json", .llamaBench),
        ]
        for (name, format) in expected {
            let bytes = Array(try fixtureBytes(name).prefix(ImportDetection.prefixLength))
            #expect(try ImportDetection.detect(firstBytes: bytes, file: name) == format, "\(name)")
        }
    }
}
