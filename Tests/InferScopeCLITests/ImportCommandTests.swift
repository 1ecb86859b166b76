#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// `inferscope import` and `inferscope analyze FILE` on the foreign-format fixtures of
/// traces/import/ (written by traces/import/make_fixtures.py).
@Suite(.serialized) struct ImportCommandTests {
    static let fixtures = ["vllm-bench-serve.json", "vllm-append-old.json", "sglang-bench-serving.jsonl",
                           "aiperf-profile_export.jsonl", "llmperf_individual_responses.json", "llama-bench.json",
                           "otel-vllm-spans.jsonl", "vllm-metrics.txt", "aiperf-server_metrics_export.jsonl",
                           "aiperf-profile_export_aiperf.csv"]

    static func stem(_ name: String) -> String { String(name.split(separator: ".").first!) }

    /// The verdict a vLLM (…) user gets in one command, reviewed by hand; and the other formats.
    @Test func analyzeGoldens() {
        for f in Self.fixtures {
            expectGolden("analyze-import-\(Self.stem(f))", ["analyze", "traces/import/\(f)"])
        }
        expectGolden("analyze-import-vllm-slo", ["analyze", "traces/import/vllm-bench-serve.json",
                                                 "--slo", "ttft=80ms,tpot=13ms", "--objective", "ttft"])
        expectGolden("analyze-import-aiperf-with-metrics", ["analyze", "traces/import/aiperf-profile_export.jsonl", "--metrics",
                                                            "traces/import/aiperf-server_metrics_export.jsonl",
                                                            "--model", "meta-llama/Llama-3.1-8B-Instruct", "--hardware", "H100"])
        expectGolden("analyze-import-aiperf-model", ["analyze", "traces/import/aiperf-profile_export.jsonl",
                                                     "--model", "meta-llama/Llama-3.1-8B-Instruct", "--hardware", "H100"])
    }

    /// Each imported trace is byte-identical to its golden, passes `validate`, and analyzes to
    /// the same report as the foreign file analyzed directly.
    @Test func importedTracesMatchGoldensAndAnalyzeTheSame() throws {
        let dir = temporaryDirectory()
        for f in Self.fixtures {
            let out = dir + "/\(Self.stem(f)).trace.json"
            let run = runCLI(["import", "traces/import/\(f)", "-o", out])
            #expect(run.exit == .success, "\(f): \(run.stderr)")
            let golden = packageRoot + "/Tests/InferScopeCLITests/Goldens/import-\(Self.stem(f)).trace.json"
            let bytes = try #require(FileBytes.text(of: out))
            if let record = getenv("RECORD_GOLDENS"), String(cString: record) == "1" {
                writeText(golden, bytes)
                Issue.record("RECORD_GOLDENS=1: rewrote \(golden)")
            } else {
                #expect(bytes == FileBytes.text(of: golden), "\(f): imported trace differs from its golden")
            }
            let validate = runCLI(["validate", out])
            #expect(validate.exit == .success && validate.stdout.contains("valid InferScope trace"), "\(f): \(validate.stdout)")
            let direct = runCLI(["analyze", "traces/import/\(f)"])
            let viaTrace = runCLI(["analyze", out])
            #expect(direct.exit == .success && viaTrace.stdout == direct.stdout, "\(f)")
        }
    }

    @Test func errorGoldens() {
        expectGolden("import-missing-output", ["import", "traces/import/vllm-bench-serve.json"])
        expectGolden("import-unknown-format", ["import", "traces/import/vllm-bench-serve.json", "--from", "tgi", "-o", ".build/import-golden-out.json"])
        expectGolden("import-unrecognised", ["import", "Tests/InferScopeCLITests/Fixtures/import-unrecognised.json", "-o", ".build/import-golden-out.json"])
        expectGolden("import-malformed-vllm", ["import", "Tests/InferScopeCLITests/Fixtures/import-malformed-vllm.json", "-o", ".build/import-golden-out.json"])
        expectGolden("analyze-import-ambiguous", ["analyze", "Tests/InferScopeCLITests/Fixtures/import-ambiguous.json"])
        expectGolden("import-missing-file", ["import", "no-such-results.json", "-o", ".build/import-golden-out.json"])
        expectGolden("import-unwritable-output", ["import", "traces/import/llmperf_individual_responses.json",
                                                  "-o", "/no-such-directory/t.json"])
    }

    /// A bad input leaves no output file and no partial file.
    @Test func badInputLeavesNoOutput() {
        let dir = temporaryDirectory()
        let out = dir + "/t.json"
        let run = runCLI(["import", "Tests/InferScopeCLITests/Fixtures/import-malformed-vllm.json", "-o", out])
        #expect(run.exit == .failure && run.stdout.isEmpty)
        #expect(access(out, F_OK) != 0 && access(out + ".partial", F_OK) != 0)
    }

    /// The output never replaces a file InferScope did not write — not even the input itself.
    @Test func neverOverwritesAUsersFile() {
        let dir = temporaryDirectory()
        let out = dir + "/results.json"
        writeText(out, "{\"mine\": true}\n")
        let run = runCLI(["import", "traces/import/llmperf_individual_responses.json", "-o", out])
        #expect(run.exit == .failure)
        #expect(run.stderr.contains("refusing to overwrite"))
        #expect(FileBytes.text(of: out) == "{\"mine\": true}\n")
        // An earlier import is replaced.
        let trace = dir + "/t.json"
        #expect(runCLI(["import", "traces/import/llmperf_individual_responses.json", "-o", trace]).exit == .success)
        #expect(runCLI(["import", "traces/import/llmperf_individual_responses.json", "-o", trace]).exit == .success)
    }

    /// `--format` forces a format (here a vLLM file read as SGLang: same shape, other producer),
    /// `--model`/`--hardware` land in the header.
    @Test func forcedFormatAndOverrides() throws {
        let dir = temporaryDirectory()
        let out = dir + "/t.json"
        let run = runCLI(["import", "traces/import/vllm-bench-serve.json", "--from", "sglang", "--model", "Qwen2.5-7B",
                          "--hardware", "A100-80GB", "-o", out])
        #expect(run.exit == .success)
        let trace = try TraceReader.readAll(path: out)
        #expect(trace.header.producer == "inferscope-import sglang bench_serving")
        #expect(trace.header.model.name == "Qwen2.5 7B")
        #expect(trace.header.hardware.name == "NVIDIA A100 SXM4 80GB" && trace.header.hardware.source == "user")
    }
}
