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

    /// The server runs as a child process: a signal sent to the test runner itself would reach
    /// whichever test has a SIGINT source installed at that moment.
    @Test func servesUntilSIGINTAndLeavesAValidTrace() throws {
        let binary = try #require(CrashSafetyTests.inferscopeBinary(), "build the inferscope product first (swift build)")
        let dir = temporaryDirectory()
        let portFile = dir + "/port", trace = dir + "/serve-trace.json"
        let pid = try IncompleteRunTests.spawn([binary, "serve", "--model", "tiny", "--threads", "1", "--port", "0",
                                                "--port-file", portFile, "--trace", trace, "--no-probe"])
        var port: UInt16?
        for _ in 0..<3000 where port == nil {   // bounded: at most 30 s
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if port == nil { usleep(10_000) }
        }
        guard let p = port else {
            kill(pid, SIGKILL); waitpid(pid, nil, 0)
            Issue.record("serve never wrote its port file")
            return
        }
        let c = try LoopbackClient(port: p)
        c.post("/v1/completions", #"{"prompt":"hello","max_tokens":4,"ignore_eos":true}"#)
        let r = try c.readResponse()
        #expect(r.status == 200 && r.text.contains("\"completion_tokens\":4"))
        c.close()
        kill(pid, SIGINT)
        var status: Int32 = 0
        var reaped = false
        for _ in 0..<3000 where !reaped {   // bounded: at most 30 s
            reaped = waitpid(pid, &status, WNOHANG) == pid
            if !reaped { usleep(10_000) }
        }
        if !reaped { kill(pid, SIGKILL); waitpid(pid, &status, 0) }
        #expect(reaped && status == 0, "serve did not exit cleanly on SIGINT (status \(status))")
        #expect(runCLI(["validate", trace, "--strict"]).exit == .success)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!files.contains { $0.contains(".tmp-") })
    }
}
