#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization
import Kernels
import HTTPServer
import ServingAPI
import ServingEngine
import TraceFormat
import Tracing

/// `inferscope serve`: the built-in runtime behind an OpenAI-compatible HTTP/1.1 server. Every
/// connection's requests join one continuous-batching engine configured by `profile`'s engine
/// options; SIGINT/SIGTERM stops it and leaves a valid trace.
struct ServeCommand: Command {
    /// `profile`'s options that configure the engine and the model (shared, not duplicated).
    static let engineOptionNames: Set<String> = [
        "--model", "--scheduler", "--token-budget", "--max-num-seqs", "--max-batched-tokens", "--kv-layout", "--kv-dtype",
        "--kv-memory", "--kv-blocks", "--block-size", "--preempt", "--swap-dir", "--prefix-cache", "--prefix-offload",
        "--disaggregated", "--threads", "--temperature", "--spec", "--gamma", "--no-probe", "--seed",
    ]

    let spec = CommandSpec(
        name: "serve",
        abstract: "Serve the built-in runtime over an OpenAI-compatible HTTP API with Prometheus /metrics.",
        discussion: """
            Endpoints: POST /v1/completions, POST /v1/chat/completions (streamed as server-sent events \
            with "stream": true), GET /v1/models, GET /health, GET /metrics (vLLM's metric names). All \
            requests join one continuous-batching engine configured by the same options as 'profile'. \
            SIGINT or SIGTERM stops accepting, then drains or aborts the requests in flight (--on-stop) \
            and closes the trace. Sizes take K, M, G suffixes. See docs/serve.md.
            """,
        options: ProfileCommand().spec.options.filter { ServeCommand.engineOptionNames.contains($0.name) } + [
            .value("--host", "ADDR", help: "IPv4 address to listen on.", default: "127.0.0.1"),
            .value("--port", "PORT", help: "TCP port (0: any free port; see --port-file).", default: "8000"),
            .value("--port-file", "FILE", help: "Write the bound port to FILE once listening."),
            .value("--served-model-name", "NAME", help: "Model name in the API (default: the model's name)."),
            .value("--trace", "FILE", help: "Record the server-side trace to FILE (written on stop)."),
            .value("--on-stop", "drain|abort", help: "On SIGINT/SIGTERM: finish the requests in flight, or abort them.", default: "drain"),
            .value("--max-queue", "N", help: "Requests waiting (not yet running) before new ones get 503.", default: "256"),
            .value("--max-body", "BYTES", help: "Largest request body (413 beyond).", default: "4M"),
            .value("--max-header", "BYTES", help: "Largest request head (431 beyond).", default: "16K"),
            .value("--request-timeout", "SECONDS", help: "A request must arrive in full within this time (408 beyond).", default: "30"),
            .value("--idle-timeout", "SECONDS", help: "Close a keep-alive connection idle this long.", default: "60"),
            .value("--max-connections", "N", help: "Open connections beyond this get 503.", default: "256"),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        if let message = CPUFeatures.unsupportedBuildMessage() { throw CommandFailure(message) }
        let seed = try ProfileCommand.unsigned(arguments, "--seed")
        let options = try ProfileCommand.engineOptions(arguments, seed: seed)
        var limits = HTTPLimits()
        limits.maxBodyBytes = try Self.size(arguments, "--max-body")
        limits.maxHeaderBytes = try Self.size(arguments, "--max-header")
        limits.requestTimeout = try Self.seconds(arguments, "--request-timeout")
        limits.idleTimeout = try Self.seconds(arguments, "--idle-timeout")
        limits.maxConnections = try ProfileCommand.positive(arguments, "--max-connections")
        let maxQueue = try ProfileCommand.positive(arguments, "--max-queue")
        guard let port = UInt16(arguments.value("--port")!) else {
            throw UsageError("option '--port' expects 0…65535, found '\(arguments.value("--port")!)'")
        }
        let onStop = arguments.value("--on-stop")!
        guard onStop == "drain" || onStop == "abort" else {
            throw UsageError("option '--on-stop' expects drain or abort, found '\(onStop)'",
                             hint: Suggestions.didYouMean(onStop, among: ["drain", "abort"]))
        }
        let model = try ProfileCommand.loadModel(arguments, seed: seed, context: context)

        // The trace goes to a temporary sibling, renamed over --trace once it is closed.
        var recorder: FileTraceRecorder?
        var tracePaths: (temporary: String, final: String, shown: String)?
        if let shown = arguments.value("--trace") {
            let path = context.resolve(shown)
            try OutputFile.checkReplaceable(path, as: .trace, shownAs: shown)
            let temporary = OutputFile.temporaryPath(for: path)
            do { recorder = try FileTraceRecorder(path: temporary) } catch { throw CommandFailure("\(error)") }
            tracePaths = (temporary, path, shown)
        }
        func discardTrace() {
            try? recorder?.close()
            if let t = tracePaths { unlink(t.temporary) }
        }
        let tracer = Tracer(sink: recorder, clock: MonotonicClock())
        let engine: ServingEngine
        do { engine = try ServingEngine(model: model, options: options, tracer: tracer) } catch {
            discardTrace()
            throw UsageError(error.message)
        }
        if recorder != nil && !arguments.flag("--no-probe") { engine.hostPeaks = HostPeaks.measure(threads: options.threads) }
        let name = arguments.value("--served-model-name") ?? model.name
        let session = ServeSession(engine: engine, modelName: name, host: arguments.value("--host")!, port: port,
                                   limits: limits, maxWaiting: maxQueue)

        // Signals: block the default action, wait for either on a dispatch source.
        let stopped = DispatchSemaphore(value: 0)
        let signalNumber = SignalBox()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { signalNumber.set(sig); stopped.signal() }
            source.resume()
            sources.append(source)
        }
        defer {
            for s in sources { s.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }

        let bound: UInt16
        do { bound = try session.start() } catch {
            discardTrace()
            throw CommandFailure("\(error)")
        }
        if let file = arguments.value("--port-file") {
            try OutputFile.writeAtomically("\(bound)\n", to: context.resolve(file), shownAs: file)
        }
        context.stderr.write("serve: \(name) on http://\(session.server.host):\(bound)  (\(options.policy.rawValue) batching, \(engine.kvBlocks) KV blocks of \(options.blockSize) tokens; Ctrl-C stops)\n")
        stopped.wait()
        context.stderr.write("serve: signal \(signalNumber.value) — stopping (\(onStop) \(session.engine.liveRequests) requests in flight)\n")
        do { try session.stop(drain: onStop == "drain") } catch {
            discardTrace()
            throw CommandFailure("\(error)")
        }
        if let recorder, let t = tracePaths {
            do { try recorder.close() } catch {
                unlink(t.temporary)
                throw CommandFailure("\(error)")
            }
            try OutputFile.commit(t.temporary, to: t.final, shownAs: t.shown)
            if recorder.droppedEvents > 0 {
                context.stderr.write("warning: the trace recorder dropped \(recorder.droppedEvents) events (ring full)\n")
            }
            let quoted = t.shown.contains(" ") ? "'\(t.shown)'" : t.shown
            context.stdout.write("trace       \(t.shown)\nnext        inferscope analyze \(quoted)\n")
        }
        return .success
    }

    static func size(_ a: ParsedArguments, _ name: String) throws -> Int {
        let text = a.value(name)!
        guard let v = ProfileCommand.parseSize(text), v > 0 else {
            throw UsageError("option '\(name)' expects a size in bytes such as 64K or 4M, found '\(text)'")
        }
        return v
    }

    static func seconds(_ a: ParsedArguments, _ name: String) throws -> Double {
        guard let v = try a.double(name), v > 0 else {
            throw UsageError("option '\(name)' expects a positive number of seconds, found '\(a.value(name) ?? "")'")
        }
        return v
    }
}

/// The signal that stopped the server (set from the signal handler's queue).
final class SignalBox: @unchecked Sendable {
    private let number = Atomic<Int32>(0)
    func set(_ n: Int32) { number.store(n, ordering: .relaxed) }
    var value: Int32 { number.load(ordering: .relaxed) }
}
