import Foundation
import HTTPServer
import LlamaModel
import ServingAPI
import ServingEngine
import TestSupport
import TraceFormat
import Tracing

/// A running `inferscope serve` stack on the tiny preset: 127.0.0.1, a free port, one compute
/// thread, events in memory. The test stops it.
final class ServeFixture: @unchecked Sendable {
    let sink = InMemorySink()
    let session: ServeSession
    let port: UInt16
    let model: LoadedModel

    init(limits: HTTPLimits = HTTPLimits(), maxWaiting: Int = 64, configure: (inout EngineOptions) -> Void = { _ in }) throws {
        model = try ModelLoader.load("tiny", seed: 0)
        var options = EngineOptions()
        options.threads = 1
        configure(&options)
        let engine = try ServingEngine(model: model, options: options, tracer: Tracer(sink: sink, clock: MonotonicClock()))
        session = ServeSession(engine: engine, modelName: "tiny", host: "127.0.0.1", port: 0, limits: limits, maxWaiting: maxWaiting)
        session.handler.pollInterval = 0.01
        port = try session.start()
    }

    func stop(drain: Bool = true) throws { try session.stop(drain: drain) }

    func client() throws -> LoopbackClient { try LoopbackClient(port: port) }

    /// Waits (bounded: at most `limit` seconds) until `condition` holds; returns whether it did.
    func eventually(_ limit: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: limit)
        while Date() < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }
}

/// The `data:` payloads of an SSE body, in order.
func ssePayloads(_ text: String) -> [String] {
    text.components(separatedBy: "\n\n").compactMap { event in
        let lines = event.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}

func jsonObject(_ s: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any]
}
