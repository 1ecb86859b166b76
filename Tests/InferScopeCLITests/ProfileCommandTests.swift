#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// `inferscope profile` as a user meets it: a valid trace and a summary, teaching usage errors,
/// and a user's file never overwritten. (The engine's behaviour is ServingEngineTests' job.)
@Suite(.serialized) struct ProfileCommandTests {
    static let quick = ["--model", "tiny", "--workload", "chat", "--requests", "4", "--concurrency", "4",
                        "--threads", "1", "--seed", "3", "--no-probe"]

    @Test func writesAValidTraceAndASummary() throws {
        let dir = temporaryDirectory()
        let trace = dir + "/run.json"
        let run = runCLI(["profile"] + Self.quick + ["-o", trace])
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(run.stdout.contains(trace))
        let validate = runCLI(["validate", trace, "--strict"])
        #expect(validate.exit == .success, "\(validate.stdout)")
        #expect(validate.stdout.contains("4 requests"))
        // Re-running replaces the earlier trace: it is ours.
        #expect(runCLI(["profile"] + Self.quick + ["-o", trace]).exit == .success)
    }

    @Test func refusesToOverwriteAFileThatIsNotATrace() throws {
        let dir = temporaryDirectory()
        let notes = dir + "/results.json"
        writeText(notes, "{\"my\": \"benchmark results\"}\n")
        let run = runCLI(["profile"] + Self.quick + ["-o", notes])
        #expect(run.exit == .failure)
        #expect(run.stderr.contains("refusing to overwrite"))
        #expect(FileBytes.text(of: notes) == "{\"my\": \"benchmark results\"}\n")
    }

    @Test func usageErrorsTeach() {
        expectGolden("profile-bad-scheduler", ["profile", "--scheduler", "fifo"])
        expectGolden("profile-unknown-workload", ["profile", "--model", "tiny", "--workload", "chatty", "--no-probe"])
        expectGolden("profile-typo-option", ["profile", "--kv-dtyp", "int8"])
    }
}
