#if canImport(Glibc)
import Glibc
#endif
import Testing
import LlamaModel
import ServingAPI
import ServingEngine
import TraceFormat
import Tracing
@testable import InferScopeCLI

/// `profile --endpoint` against `inferscope serve` on the tiny model, both in this process:
/// serve on 127.0.0.1 (free port, one compute thread, trace events in memory), stopped by the
/// test. The client's trace and the server's own trace must agree on what was generated.
@Suite(.serialized) struct ProfileEndpointServeTests {
    @Test func profileEndpointAgainstServe() throws {
        let sink = InMemorySink()
        let model = try ModelLoader.load("tiny", seed: 0)
        var options = EngineOptions()
        options.threads = 1
        let engine = try ServingEngine(model: model, options: options, tracer: Tracer(sink: sink, clock: MonotonicClock()))
        let session = ServeSession(engine: engine, modelName: "tiny", host: "127.0.0.1", port: 0, limits: .init(), maxWaiting: 64)
        let port = try session.start()
        defer { try? session.stop(drain: false) }

        let trace = temporaryDirectory() + "/serve-endpoint.json"
        let run = runCLI(["profile", "--endpoint", "http://127.0.0.1:\(port)", "--model", "tiny", "--workload", "chat",
                          "--requests", "8", "--concurrency", "4", "--seed", "1", "--no-probe", "-o", trace])
        #expect(run.exit == .success, "\(run.stderr)")
        #expect(run.stdout.contains("8 completed, 0 failed, 0 cancelled"), "\(run.stdout)")
        #expect(run.stdout.contains("counts from usage (all 8 requests)"), "\(run.stdout)")
        #expect(run.stdout.contains("vllm:num_requests_running"), "\(run.stdout)")
        #expect(runCLI(["validate", trace, "--strict"]).exit == .success)
        try session.stop(drain: true)

        let loaded = try TraceReader.readAll(path: trace)
        #expect(loaded.header.options["server.kind"] == "vllm")
        #expect(loaded.header.options["endpoint.prompt_format"] == "tokens")   // serve accepts token ids
        let clientTokens = loaded.events.reduce(0) { n, e in
            if case .request(let r) = e, r.kind == .finished { return n + Int(r.tokens ?? 0) }
            return n
        }
        // The server's own trace: the 8 run requests plus the 1-token prompt-format probe.
        let serverFinished = sink.events.compactMap { e -> RequestEvent? in
            if case .request(let r) = e, r.kind == .finished { return r }
            return nil
        }
        #expect(serverFinished.count == 9)
        #expect(serverFinished.reduce(0) { $0 + Int($1.tokens ?? 0) } == clientTokens + 1)
        let analysis = runCLI(["analyze", trace, "--hardware", "H100-SXM"])
        #expect(analysis.exit == .success, "\(analysis.stderr)")
        #expect(analysis.stdout.contains("VERDICT") && analysis.stdout.contains("\n  workload: ") && !analysis.stdout.contains("workload: unknown"), "\(analysis.stdout)")
    }
}
