import HTTPServer
import LlamaModel
import ServingEngine

/// What `inferscope serve` runs: the online engine, the OpenAI API handler and the HTTP server,
/// started and stopped together. The trace (if any) goes through the engine's tracer; close
/// it after ``stop(drain:)`` returns.
public final class ServeSession: @unchecked Sendable {
    public let engine: OnlineEngine
    public let handler: OpenAIHandler
    public let server: HTTPServer

    /// - Parameters:
    ///   - maxWaiting: requests queued (not yet running) before new ones get 503.
    public init(engine: ServingEngine, modelName: String, host: String, port: UInt16, limits: HTTPLimits, maxWaiting: Int) {
        self.engine = OnlineEngine(engine: engine, maxWaiting: maxWaiting)
        handler = OpenAIHandler(engine: self.engine, model: engine.model, modelName: modelName)
        server = HTTPServer(host: host, port: port, limits: limits, handler: handler)
        let server = self.server
        handler.isStopping = { server.isStopping }
    }

    /// Records the trace header, starts the engine, then listens. Returns the bound port.
    public func start() throws -> UInt16 {
        let workload = Workload(name: "http", requests: [], arrival: .recorded,
                                parameters: ["source": "inferscope serve (OpenAI-compatible HTTP)"])
        try engine.start(workload: workload)
        do { try server.start() } catch {
            try? engine.stop(drain: false)
            throw error
        }
        return server.port
    }

    /// Stops accepting connections, then drains (every request in flight finishes) or aborts
    /// them, and waits up to `grace` seconds for the connections to close.
    public func stop(drain: Bool, grace: Double = 5) throws {
        server.stopAccepting()
        try engine.stop(drain: drain)
        server.waitForConnections(timeout: grace)
    }
}
