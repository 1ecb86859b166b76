import Testing
import TraceFormat
@testable import InferScopeCLI

@Suite struct ValidateCommandTests {
    @Test func goldenOutputs() {
        expectGolden("help", ["--help"])
        expectGolden("version", ["--version"])
        expectGolden("validate-help", ["validate", "--help"])
        expectGolden("validate-sample", ["validate", "traces/colocated-small.json"])
        expectGolden("validate-crashed", ["validate", "traces/crashed-run.json"])
        expectGolden("validate-crashed-strict", ["validate", "traces/crashed-run.json", "--strict"])
        expectGolden("validate-malformed", ["validate", "Tests/InferScopeCLITests/Fixtures/malformed.json"])
        expectGolden("validate-missing-file", ["validate", "traces/no-such-trace.json"])
        expectGolden("validate-typo-flag", ["validate", "traces/colocated-small.json", "--stirct"])
        expectGolden("typo-command", ["valdiate", "traces/colocated-small.json"])
    }

    @Test func acceptsEveryTraceInTracesDirectory() {
        let traces = sampleTraces()
        #expect(traces.count >= 4)
        for trace in traces {
            let result = runCLI(["validate", trace])
            #expect(result.exit == .success, "\(trace): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("valid InferScope trace"))
        }
    }

    /// A truncated copy of every sample: exit 0 with a warning; exit 1 with --strict.
    @Test func truncatedCopyWarnsAndStrictFails() throws {
        let dir = temporaryDirectory()
        for trace in sampleTraces() {
            let bytes = try #require(FileBytes.contents(of: packageRoot + "/" + trace))
            for cut in [bytes.count - 2, bytes.count * 2 / 3] {
                let path = dir + "/cut.json"
                writeBytes(path, Array(bytes.prefix(cut)))
                let tolerant = runCLI(["validate", path])
                #expect(tolerant.exit == .success, "\(trace) cut at \(cut)")
                #expect(tolerant.stdout.contains(": warning: "))
                let strict = runCLI(["validate", "--strict", path])
                #expect(strict.exit == .failure, "\(trace) cut at \(cut)")
                #expect(strict.stdout.contains(": error: "))
                #expect(strict.stdout.contains("invalid trace: 1 error"))
            }
        }
    }
}
