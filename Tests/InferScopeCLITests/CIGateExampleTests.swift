#if canImport(Glibc)
import Glibc
#endif
import Testing
import Analysis
@testable import InferScopeCLI

/// scripts/ci-gate-example.sh, in-process: on the tiny model, two reruns of the baseline's
/// configuration pass the multi-trace gate and an injected regression (static batching) fails it.
@Suite(.serialized) struct CIGateExampleTests {
    @Test func rerunPassesAndInjectedRegressionFails() throws {
        let dir = temporaryDirectory()
        let common = ["--model", "tiny", "--workload", "mixed", "--requests", "8", "--rate", "200", "--seed", "1",
                      "--threads", "1", "--no-probe"]
        for i in 1...2 {
            for (name, extra) in [("baseline", [String]()), ("rerun", []), ("regression", ["--scheduler", "static"])] {
                let run = runCLI(["profile"] + common + extra + ["-o", "\(dir)/\(name)-\(i).json"])
                try #require(run.exit == .success, "\(run.stderr)")
            }
        }
        let baseline = ["--baseline", "\(dir)/baseline-1.json", "\(dir)/baseline-2.json"]
        let rerun = runCLI(["gate", "\(dir)/rerun-1.json", "\(dir)/rerun-2.json"] + baseline + ["--junit", dir + "/rerun.xml"])
        #expect(rerun.exit == .success, "\(rerun.stdout)")
        let regression = runCLI(["gate", "\(dir)/regression-1.json", "\(dir)/regression-2.json"] + baseline)
        #expect(regression.exit == .failure, "\(regression.stdout)")
        #expect(regression.stdout.contains("Mann-Whitney one-sided p ="))
        #expect(regression.stdout.contains("tokens.output"))
    }

    @Test func greedyOptionTakesTheWordsUpToTheNextOption() throws {
        let parsed = try ParsedArguments(spec: GateCommand().spec, tokens: ["c1", "--baseline", "a1", "a2", "a3", "--require", "ttft.p50<=1s", "c2"])
        #expect(parsed.values("--baseline") == ["a1", "a2", "a3"])
        #expect(parsed.arguments("TRACE") == ["c1", "c2"])
    }
}

@Suite struct MannWhitneyTests {
    @Test func knownValues() {
        // U = 9 of 9, normal approximation with continuity correction: z = 4 / √5.25.
        let p = Analysis.MannWhitney.pGreater([4, 5, 6], than: [1, 2, 3])
        #expect(abs(p - 0.0404) < 0.0005)
        #expect(Analysis.MannWhitney.pGreater([1, 2, 3], than: [4, 5, 6]) > 0.95)
        #expect(Analysis.MannWhitney.pGreater([2, 2], than: [2, 2]) == 1)
    }
}
