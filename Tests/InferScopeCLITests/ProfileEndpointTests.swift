#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import LoadGenerator
import TraceFormat
@testable import InferScopeCLI

/// `profile --endpoint` end to end against a scripted SSE server started by each test on
/// 127.0.0.1 (free port, bounded request count, stopped by the test). Timings are the host's,
/// so the tests check counts, structure and that `analyze` reaches a verdict, never speed.
@Suite(.serialized) struct ProfileEndpointTests {
    static func events(_ path: String) throws -> [TraceEvent] {
        let loaded = try TraceReader.readAll(path: path)
        return [.header(loaded.header)] + loaded.events
    }

    @Test func closedLoopRunWritesATraceTheAnalyzerJudges() throws {
        let server = try ScriptedSSEServer(script: { var s = ScriptedSSEServer.Script(); s.maxRequests = 200; return s }())
        defer { server.stop() }
        let dir = temporaryDirectory()
        let trace = dir + "/endpoint.json"
        let run = runCLI(["profile", "--endpoint", server.baseURL, "--model", "tiny", "--workload", "chat", "--requests", "12",
                          "--concurrency", "4", "--warmup", "2", "--seed", "3", "--no-probe", "-o", trace])
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(run.stdout.contains("12 completed, 0 failed, 0 cancelled"), "\(run.stdout)")
        #expect(run.stdout.contains("counts from usage (all 12 requests)"), "\(run.stdout)")
        #expect(run.stdout.contains("vllm:kv_cache_usage_perc"))
        // The warm-up (2) and the auto-format probe (1) reached the server but not the trace.
        #expect(server.completions == 15)
        #expect(runCLI(["validate", trace, "--strict"]).exit == .success)
        let events = try Self.events(trace)
        guard case .header(let h)? = events.first else { Issue.record("no header"); return }
        #expect(h.options["endpoint.url"] == server.baseURL)
        #expect(h.options["server.kind"] == "vllm")
        #expect(h.options["server.model"] == "scripted")
        #expect(h.options["endpoint.prompt_format"] == "tokens")
        #expect(h.workload.requests == 12)
        var finished: [RequestID: Int32] = [:], firstTokens = 0, tokenEvents = 0, kv = 0
        for e in events {
            switch e {
            case .request(let r) where r.kind == .finished: finished[r.request] = r.tokens
            case .request(let r) where r.kind == .firstToken: firstTokens += 1
            case .request(let r) where r.kind == .token: tokenEvents += 1
            case .kvCache(let k): kv += 1; #expect(k.pool == "server")
            default: break
            }
        }
        #expect(finished.count == 12 && firstTokens == 12)
        // One token event per chunk after the first, and the usage count equals the chunks sent.
        #expect(tokenEvents == Int(finished.values.reduce(0, +)) - 12)
        #expect(kv >= 1)
        // A loopback server runs on this host (its roofs are probed unless --no-probe, which keeps
        // this test fast); with a hardware spec the analyzer's request-level verdict applies.
        #expect(h.hardware.source == "unknown" && h.hardware.name != "unknown (remote server)")
        let analysis = runCLI(["analyze", trace, "--hardware", "H100-SXM"])
        #expect(analysis.exit == .success, "\(analysis.stderr)")
        #expect(analysis.stdout.contains("VERDICT") && analysis.stdout.contains("\n  workload: "), "\(analysis.stdout)")
        #expect(!analysis.stdout.contains("workload: unknown"), "\(analysis.stdout)")
    }

    @Test func errorsAreRecordedPerRequestAndTextPromptsAreTheFallback() throws {
        var script = ScriptedSSEServer.Script()
        script.rejectsTokenPrompts = true
        script.failEvery = 4
        script.sendsUsage = false
        let server = try ScriptedSSEServer(script: script)
        defer { server.stop() }
        let trace = temporaryDirectory() + "/errors.json"
        let run = runCLI(["profile", "--endpoint", server.baseURL, "--model", "tiny", "--workload", "chat", "--requests", "8",
                          "--rate", "200", "--burstiness", "0.5", "--metrics-url", "none", "--no-probe", "-o", trace])
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(run.stderr.contains("refused a token-id prompt"))
        // Completions 1 (the token probe, 400), then 2…9: every 4th (4, 8) answers 500.
        #expect(run.stdout.contains("6 completed, 2 failed"), "\(run.stdout)")
        #expect(run.stdout.contains("HTTP 500"))
        #expect(run.stdout.contains("the server sent no usage"), "\(run.stdout)")
        let events = try Self.events(trace)
        let aborted = events.compactMap { e -> RequestEvent? in if case .request(let r) = e, r.kind == .aborted { return r } else { return nil } }
        #expect(aborted.count == 2 && aborted.allSatisfy { $0.reason?.hasPrefix("HTTP 500") == true })
        guard case .header(let h)? = events.first else { return }
        #expect(h.options["endpoint.prompt_format"] == "text")
        #expect(h.workload.parameters["arrival"] == "gamma:200,1.414213")
    }

    @Test func anEndpointThatDoesNotAnswerIsAClearFailure() throws {
        let server = try ScriptedSSEServer()
        let url = server.baseURL
        server.stop()   // nothing listens on the port any more
        let trace = temporaryDirectory() + "/none.json"
        let run = runCLI(["profile", "--endpoint", url, "--requests", "2", "-o", trace])
        #expect(run.exit == .failure)
        #expect(run.stderr.contains("cannot reach the endpoint"))
        #expect(access(trace, F_OK) != 0)   // no partial output
    }

    @Test func usageErrors() {
        expectGolden("profile-endpoint-bad-url", ["profile", "--endpoint", "ftp://127.0.0.1:1"])
        expectGolden("profile-endpoint-bad-burstiness", ["profile", "--endpoint", "http://127.0.0.1:1", "--rate", "2", "--burstiness", "0"])
    }

    @Test func sweepAgainstAnEndpoint() throws {
        let server = try ScriptedSSEServer()
        defer { server.stop() }
        let dir = temporaryDirectory()
        let run = runCLI(["sweep", "--endpoint", server.baseURL, "--concurrencies", "1,3", "--model", "tiny", "--workload", "chat",
                          "--requests", "6", "--dir", dir, "--format", "json", "--no-probe"])
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(runCLI(["validate", dir + "/concurrency-3.json", "--strict"]).exit == .success)
        #expect(run.stdout.contains("\"load_kind\""))
    }
}
