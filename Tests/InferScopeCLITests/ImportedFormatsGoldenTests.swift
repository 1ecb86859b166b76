import Foundation
import Testing
import TraceFormat
@testable import InferScopeCLI

/// `inferscope analyze FILE` on the fixtures of the formats added for issue #11
/// (traces/import/make_fixtures_2.py): one golden per fixture, a run table for the multi-run
/// files (with --slo: the highest passing load and the saturation knee), and `import` of a
/// step-run trace that `validate` accepts.
@Suite(.serialized) struct ImportedFormatsGoldenTests {
    static let fixtures: [(golden: String, file: String)] = [
        ("genai-perf-json", "genai-perf-profile_export_genai_perf.json"), ("genai-perf-csv", "genai-perf-profile_export_genai_perf.csv"),
        ("perf-analyzer", "perf_analyzer-profile_export.json"), ("aiperf-json-early", "aiperf-profile_export_aiperf-early.json"),
        ("aiperf-json", "aiperf-profile_export_aiperf.json"), ("llama-server-completion", "llama-server-completion.json"),
        ("llama-server-chat", "llama-server-chat.jsonl"), ("llmperf-summary", "llmperf_summary.json"),
        ("trtllm-bench", "trtllm-bench-report.log"), ("vllm-serving-text", "vllm-serving-result.log"),
        ("sglang-rate-sweep", "sglang-rate-sweep.log"), ("vllm-nightly", "vllm-nightly-benchmark_results.json"),
        ("llama-bench-md", "llama-bench.md"), ("kineto", "kineto.pt.trace.json.gz"),
    ]

    @Test func analyzeGoldens() {
        for (golden, file) in Self.fixtures {
            expectGolden("analyze-import2-\(golden)", ["analyze", "traces/import/\(file)"])
        }
        expectGolden("analyze-import2-sglang-rate-sweep-slo", ["analyze", "traces/import/sglang-rate-sweep.log", "--slo", "ttft=500ms,itl=50ms"])
        expectGolden("analyze-import2-vllm-nightly-slo", ["analyze", "traces/import/vllm-nightly-benchmark_results.json", "--slo", "ttft=200ms,tpot=20ms"])
        expectGolden("analyze-import2-wrong-format", ["analyze", "traces/import/genai-perf-profile_export_genai_perf.json", "--from", "vllm"])
    }

    /// `analyze --json` carries the runs table: every run, sorted by load for a sweep, the SLO
    /// verdict per run and the curve's conclusion, the same as the text table.
    @Test func runsTableInJSON() throws {
        let args = ["analyze", "traces/import/sglang-rate-sweep.log", "--slo", "ttft=500ms,itl=50ms"]
        let text = runCLI(args), json = runCLI(args + ["--json"])
        #expect(json.exit == .success, "\(json.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let table = try #require(doc["runs_in_file"] as? [String: Any])
        let runs = try #require(table["runs"] as? [[String: Any]])
        let textRows = text.stdout.components(separatedBy: "RUNS IN THE FILE (")[1].split(separator: "\n").dropFirst(2)
            .prefix { !$0.hasPrefix("load-latency") }
        #expect(runs.count >= 2 && runs.count == textRows.count)
        let loads = runs.compactMap { $0["load"] as? Double }
        #expect(loads == loads.sorted() && table["sweep"] as? Bool == true)
        let conclusion = try #require(table["conclusion"] as? String)
        #expect(text.stdout.contains(conclusion))
        #expect(runs.allSatisfy { $0["slo_pass"] is Bool || $0["slo_pass"] is NSNull })
        #expect(runCLI(["analyze", "traces/import/vllm-bench-serve.json", "--json"]).stdout.contains("runs_in_file") == false)
    }

    /// A gzip-compressed file of any format analyzes like the plain file.
    @Test func gzipCompressedInputs() {
        let plain = runCLI(["analyze", "traces/import/sglang-bench-serving.jsonl"])
        let zipped = runCLI(["analyze", "traces/import/sglang-bench-serving.jsonl.gz"])
        #expect(zipped.exit == .success, "\(zipped.stderr)")
        #expect(zipped.stdout.replacingOccurrences(of: "sglang-bench-serving.jsonl.gz", with: "sglang-bench-serving.jsonl") == plain.stdout)
    }

    @Test func stepRunTraceValidates() {
        let dir = temporaryDirectory()
        let out = dir + "/llama-bench-md.trace.json"
        let run = runCLI(["import", "traces/import/llama-bench.md", "-o", out])
        #expect(run.exit == .success, "\(run.stderr)")
        let check = runCLI(["validate", out])
        #expect(check.exit == .success, "\(check.stdout)\(check.stderr)")
    }
}
