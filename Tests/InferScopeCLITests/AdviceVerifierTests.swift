import Testing
import Analysis
import TraceFormat
@testable import InferScopeCLI

@Suite struct AdviceVerifierTests {
    static func header(producer: String = "inferscope 0.1.0", options: [String: String],
                       arrival: String = "poisson:8") -> RunHeader {
        RunHeader(producer: producer,
                  model: ModelDescriptor(name: "tiny", source: "preset:tiny", dim: 64, layers: 2, heads: 4, kvHeads: 2,
                                         headDim: 16, ffnDim: 192, vocabSize: 512, maxContext: 256,
                                         weightType: "f32", bytesPerWeight: 4, kvType: "f32", bytesPerKVElement: 4),
                  hardware: HardwareDescriptor(name: "cpu", source: "measured", threads: 2),
                  options: options,
                  workload: WorkloadDescriptor(name: "chat", requests: 12, parameters: ["arrival": arrival, "seed": "3"]),
                  clock: "CLOCK_MONOTONIC")
    }

    @Test func headerBecomesTheProfileArgumentsThatRepeatTheRun() throws {
        let h = Self.header(options: ["scheduler": "static", "kv_layout": "contiguous", "kv_dtype": "f16",
                                      "block_size": "16", "kv_blocks": "40", "kv_memory": "65536",
                                      "prefix_cache": "on", "disaggregated": "off", "threads": "2", "seed": "3",
                                      "token_budget": "128", "max_num_seqs": "8", "max_batched_tokens": "512",
                                      "preempt": "swap", "swap_tier": "host", "temperature": "0"])
        let a = try AdviceVerifier.profileArguments(h)
        #expect(a == ["--model", "tiny", "--workload", "chat", "--requests", "12", "--rate", "8",
                      "--scheduler", "static", "--token-budget", "128", "--max-num-seqs", "8",
                      "--max-batched-tokens", "512", "--kv-layout", "contiguous", "--kv-dtype", "f16",
                      "--block-size", "16", "--preempt", "swap", "--threads", "2", "--temperature", "0",
                      "--seed", "3", "--kv-memory", "65536", "--prefix-cache"])
    }

    @Test func closedLoopAndFileModelsAreRepeated() throws {
        var h = Self.header(options: ["scheduler": "chunked", "kv_blocks": "64", "spec": "ngram", "gamma": "4"],
                            arrival: "closed:3")
        h.model.source = "/models/m.gguf"
        let a = try AdviceVerifier.profileArguments(h)
        #expect(a == ["--model", "/models/m.gguf", "--workload", "chat", "--requests", "12", "--concurrency", "3",
                      "--scheduler", "chunked", "--spec", "ngram", "--gamma", "4", "--kv-blocks", "64"])
    }

    @Test func foreignTracesAndUnrepeatableRunsAreRefusedWithTheReason() {
        #expect(throws: AdviceVerifier.Failure.self) {
            try AdviceVerifier.profileArguments(Self.header(producer: "inferscope-import vllm", options: ["seed": "1"]))
        }
        do {
            _ = try AdviceVerifier.profileArguments(Self.header(options: ["seed": "1"], arrival: "gamma:4,2"))
            Issue.record("a gamma arrival pattern cannot be given on the command line and must be refused")
        } catch {
            #expect("\(error)".contains("gamma:4,2"))
        }
        do {
            _ = try AdviceVerifier.profileArguments(Self.header(options: ["seed": "1", "swap_tier": "disk"]))
            Issue.record("disk swap cannot be repeated without its directory")
        } catch {
            #expect("\(error)".contains("disk"))
        }
    }

    @Test func rendersPredictedMeasuredAndErrorPerObjective() {
        let rows = [
            AdviceVerifier.Row(ruleID: "R1", key: "continuous-batching", change: ["scheduler": "continuous"],
                               objective: .throughput, predicted: 2.0, measured: 2.5, baselineValue: 10, changedValue: 25),
            AdviceVerifier.Row(ruleID: "R3", key: "kv-quantization", change: ["kv_dtype": "int8"],
                               objective: .tpot, predicted: 1.25, measured: nil, note: "run failed"),
        ]
        let text = AdviceVerifier.render(rows, baselineArguments: ["--model", "tiny"])
        #expect(text.contains("baseline: inferscope profile --model tiny"))
        #expect(text.contains("R1    scheduler=continuous  throughput  ×2.00      ×2.50     +25.0%"))
        #expect(text.contains("R3    kv_dtype=int8         tpot        ×1.25      n/a       run failed"))
        #expect(text.contains("mean |error| 25.0% over 1 comparisons"))
    }

    /// The options recorded in the header of the re-run trace `name` that `analyze --verify`
    /// left in the directory it named on stderr.
    static func rerunOptions(_ stderr: String, _ name: String) throws -> [String: String] {
        let line = try #require(stderr.split(separator: "\n").first { $0.hasPrefix("verify: re-run traces go to ") })
        let directory = String(line.dropFirst("verify: re-run traces go to ".count))
        let reader = try TraceReader(path: directory + "/verify-\(name).json")
        guard case .header(let h)? = reader.next() else {
            Issue.record("verify-\(name).json does not start with a header")
            return [:]
        }
        return h.options
    }

    /// End to end on the runtime: a static-batching run must trigger R1, and --verify must re-run
    /// the same workload as a baseline and once with continuous batching, and report a measured
    /// factor for each objective R1 predicts. Whether the factor is above 1 is a timing, which
    /// belongs to benchmarks (docs/verification.md), not to a test on a shared machine.
    @Test func verifiesContinuousBatchingOnAStaticRun() throws {
        let dir = temporaryDirectory()
        let trace = dir + "/static.json"
        let profile = runCLI(["profile", "--model", "tiny", "--workload", "mixed", "--requests", "16",
                              "--concurrency", "16", "--scheduler", "static", "--max-num-seqs", "8",
                              "--threads", "1", "--seed", "5", "--no-probe", "-o", trace])
        #expect(profile.exit == .success, "\(profile.stderr)")
        let run = runCLI(["analyze", trace, "--verify", "--verify-top", "1", "--verify-dir", dir + "/verify"])
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(run.stderr.contains("verify: re-run traces go to \(dir)/verify\n"))
        #expect(run.stdout.contains("VERIFIED ADVICE"))
        let rows = run.stdout.split(separator: "\n").filter { $0.contains(" R1 ") && $0.contains("scheduler=continuous") }
        #expect(!rows.isEmpty, "no R1 row in:\n\(run.stdout)")
        for row in rows {
            let cells = row.split(separator: " ", omittingEmptySubsequences: true)
            let measured = try #require(Double(cells[4].dropFirst()), "measured cell in \(row)")
            #expect(measured.isFinite && measured > 0, "\(row)")
        }
        #expect(try Self.rerunOptions(run.stderr, "baseline")["scheduler"] == "static")
        let changed = try Self.rerunOptions(run.stderr, "R1")
        #expect(changed["scheduler"] == "continuous")
        #expect(changed["seed"] == "5" && changed["max_num_seqs"] == "8")
    }

    /// End to end on the runtime: long RAG prompts admitted while other requests decode stall
    /// those decodes (contaminated token gaps, R_int well above 2), so R5 must fire for the ITL
    /// objective (a whole prompt's prefill in one step costs many decode steps whatever the build);
    /// --verify must re-run with the chunked scheduler under R5's token budget and report the
    /// measured p99-ITL factor (its size is a timing: docs/verification.md, not a test).
    @Test func verifiesChunkedPrefillOnAnInterferingRun() throws {
        let dir = temporaryDirectory()
        let trace = dir + "/rag.json"
        let profile = runCLI(["profile", "--model", "tiny", "--workload", "rag", "--requests", "16",
                              "--concurrency", "6", "--threads", "1", "--seed", "5", "--no-probe", "-o", trace])
        #expect(profile.exit == .success, "\(profile.stderr)")
        let run = runCLI(["analyze", trace, "--objective", "itl", "--verify", "--verify-top", "1", "--verify-dir", dir])
        #expect(run.exit == .success, "\(run.stderr)")
        let rows = run.stdout.split(separator: "\n").filter { $0.contains(" R5 ") && $0.contains("scheduler=chunked") && $0.contains(" itl ") }
        #expect(rows.count == 1, "no R5 itl row in:\n\(run.stdout)")
        for row in rows {
            let cells = row.split(separator: " ", omittingEmptySubsequences: true)
            let predicted = try #require(Double(cells[4].dropFirst()), "predicted cell in \(row)")
            let measured = try #require(Double(cells[5].dropFirst()), "measured cell in \(row)")
            #expect(predicted > 1, "R5 predicts a lower p99 ITL: \(row)")
            #expect(measured.isFinite && measured > 0, "\(row)")
        }
        let changed = try Self.rerunOptions(run.stderr, "R5")
        #expect(changed["scheduler"] == "chunked")
        #expect(Int(changed["token_budget"] ?? "") != nil)
    }

    /// --verify-dir must name a directory: a file there is a usage error and stays as it was.
    @Test func verifyDirectoryMustNotBeAFile() throws {
        let dir = temporaryDirectory()
        let trace = dir + "/static.json"
        let profile = runCLI(["profile", "--model", "tiny", "--requests", "2", "--threads", "1", "--no-probe", "-o", trace])
        #expect(profile.exit == .success, "\(profile.stderr)")
        let file = dir + "/notes.txt"
        writeText(file, "mine")
        let run = runCLI(["analyze", trace, "--verify", "--verify-dir", file])
        #expect(run.exit == .usage)
        #expect(run.stderr.contains("option '--verify-dir' expects a directory; \(file) is a file"), "\(run.stderr)")
        #expect(try FileBytes.load(file) == Array("mine".utf8))
    }
}
