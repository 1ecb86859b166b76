#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TestSupport
@testable import InferScopeCLI

/// `inferscope serve`: usage errors (goldens), and a live run on 127.0.0.1 and a free port that a
/// request reaches and SIGINT stops, leaving a valid trace.
@Suite(.serialized) struct ServeCommandTests {
    @Test func badOptionsAreUsageErrors() {
        expectGolden("serve-bad-on-stop", ["serve", "--model", "tiny", "--on-stop", "drian"])
        expectGolden("serve-bad-port", ["serve", "--model", "tiny", "--port", "70000"])
        expectGolden("serve-bad-max-body", ["serve", "--model", "tiny", "--max-body", "lots"])
    }

    @Test func servesUntilSIGINTAndLeavesAValidTrace() throws {
        let dir = temporaryDirectory()
        let portFile = dir + "/port", trace = dir + "/serve-trace.json"
        final class Outcome: @unchecked Sendable { var run: (exit: ExitCode, stdout: String, stderr: String)? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread {
            let r = runCLI(["serve", "--model", "tiny", "--threads", "1", "--port", "0", "--port-file", portFile,
                            "--trace", trace, "--no-probe"])
            outcome.run = (r.exit, r.stdout, r.stderr)
            done.signal()
        }.start()
        var port: UInt16?
        for _ in 0..<2000 where port == nil {   // bounded: at most 20 s
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if port == nil { usleep(10_000) }
        }
        let p = try #require(port)
        let c = try LoopbackClient(port: p)
        c.post("/v1/completions", #"{"prompt":"hello","max_tokens":4,"ignore_eos":true}"#)
        let r = try c.readResponse()
        #expect(r.status == 200 && r.text.contains("\"completion_tokens\":4"))
        c.close()
        kill(getpid(), SIGINT)
        #expect(done.wait(timeout: .now() + 30) == .success)
        let run = try #require(outcome.run)
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(run.stdout.contains("trace       \(trace)"))
        #expect(runCLI(["validate", trace, "--strict"]).exit == .success)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!files.contains { $0.contains(".tmp-") })
    }
}
