#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Kernels
import Analysis
import LlamaModel
import LoadGenerator
import Scheduling
import ServingEngine
import TraceFormat
import Tracing

/// `inferscope profile --endpoint URL`: the same workloads and arrivals as `profile`, sent to an
/// OpenAI-compatible server over HTTP (see docs/endpoint.md). The hooks in `ProfileCommand` and
/// `SweepCommand` are one line each; everything else lives here.
extension ProfileCommand {
    /// The options `profile` (and `sweep`) add for endpoint runs.
    static let endpointOptions: [OptionSpec] = [
        .value("--endpoint", "URL", help: "Profile a live OpenAI-compatible server at URL (e.g. http://127.0.0.1:8000) instead of the built-in runtime."),
        .value("--metrics-url", "URL|none", help: "Prometheus endpoint scraped every 250 ms during an --endpoint run (default: the endpoint's /metrics if it answers)."),
        .value("--served-model", "ID", help: "The 'model' field sent to the endpoint (default: the first id of its /v1/models)."),
        .value("--api", "completions|chat", help: "Endpoint route: /v1/completions or /v1/chat/completions.", default: "completions"),
        .value("--prompt-format", "auto|tokens|text", help: "Send prompts as token-id lists or as text of the target length (auto: tokens if the server accepts them; text without --model).", default: "auto"),
        .value("--burstiness", "B", help: "With --rate: gamma inter-arrival times of shape B (1 = Poisson, < 1 burstier, > 1 smoother).", default: "1"),
        .value("--warmup", "N", help: "Unrecorded requests sent to the endpoint before the run.", default: "0"),
    ]

    /// The arrival process of `--rate R --burstiness B`: Poisson for B = 1, else gamma with
    /// coefficient of variation 1/√B (vLLM's `--burstiness` convention).
    static func openLoopArrival(rate: Double, _ a: ParsedArguments) throws -> ArrivalPattern {
        guard let b = try a.double("--burstiness"), b > 0, b.isFinite else {
            throw UsageError("option '--burstiness' expects a positive number (1 = Poisson), found '\(a.value("--burstiness") ?? "")'")
        }
        return b == 1 ? .poisson(rate: rate) : .gamma(rate: rate, cv: 1 / b.squareRoot())
    }

    /// Everything an endpoint run needs that does not change between load points (a sweep).
    struct EndpointSetup {
        var configuration: EndpointConfiguration
        var metricsURL: String?
        var model: ModelDescriptor
        var maxContext: Int
        var vocabSize: Int
        var seed: UInt64
        var warmup: Int
        var server: String?
        var hardware: HardwareDescriptor
    }

    static func endpointSetup(_ a: ParsedArguments, _ context: CommandContext) throws -> EndpointSetup {
        let url = a.value("--endpoint")!
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw UsageError("option '--endpoint' expects an http:// or https:// URL such as http://127.0.0.1:8000, found '\(url)'")
        }
        let seed = try unsigned(a, "--seed")
        if let r = try a.double("--rate") { _ = try openLoopArrival(rate: r, a) }   // usage errors before any network
        guard let api = EndpointAPI(rawValue: a.value("--api")!) else {
            throw UsageError("option '--api' expects completions or chat, found '\(a.value("--api")!)'")
        }
        let formatText = a.value("--prompt-format")!
        guard ["auto", "tokens", "text"].contains(formatText) else {
            throw UsageError("option '--prompt-format' expects auto, tokens or text, found '\(formatText)'")
        }
        guard let warmup = try a.int("--warmup"), warmup >= 0 else { throw UsageError("option '--warmup' expects an integer ≥ 0") }
        var configuration = EndpointConfiguration(baseURL: url, api: api)
        configuration.apiKey = context.environment["OPENAI_API_KEY"]
        configuration.temperature = try a.double("--temperature") ?? 0
        // The served model: named, or the first one the server lists.
        var served = a.value("--served-model")
        if served == nil {
            switch HTTPGet.fetch(configuration.root + "/v1/models", timeout: 10) {
            case .success(let r) where r.status == 200:
                served = ModelList.firstID(r.body)
            case .success(let r):
                context.stderr.write("warning: \(configuration.root)/v1/models answered HTTP \(r.status); sending no 'model' field (give --served-model)\n")
            case .failure(let e):
                throw CommandFailure("cannot reach the endpoint: \(e). Is the server running and listening on that address?")
            }
        }
        configuration.model = served
        // The model's shape: --model (a preset or GGUF, ideally the one the server serves), else
        // the catalog entry the served id names, else unknown (request-level metrics only).
        var descriptor: ModelDescriptor
        var maxContext = 2048, vocab = 1000
        let shapeKnown = a.isGiven("--model")
        if shapeKnown {
            let loaded = try loadModel(a, seed: seed, context: context)
            descriptor = loaded.descriptor()
            descriptor.source = "endpoint (served as '\(served ?? "?")'); shape from --model \(a.value("--model")!)"
            maxContext = loaded.weights.config.maxSeqLen
            vocab = loaded.weights.config.vocabSize
        } else if let id = served, let row = try? ModelCatalog.lookup(id) {
            descriptor = row.descriptor()
            descriptor.source = "endpoint (served as '\(id)'); shape from the catalog"
            maxContext = min(descriptor.maxContext > 0 ? descriptor.maxContext : 2048, 4096)
        } else {
            descriptor = ModelDescriptor(name: served ?? "unknown model", source: "unknown", dim: 0, layers: 0, heads: 0, kvHeads: 0,
                                         headDim: 0, ffnDim: 0, vocabSize: 0, maxContext: 0, weightType: "unknown",
                                         bytesPerWeight: 0, kvType: "unknown", bytesPerKVElement: 0)
        }
        configuration.promptFormat = formatText == "text" || (formatText == "auto" && !shapeKnown) ? .text : .tokens
        if formatText == "tokens" && !shapeKnown { vocab = 1000 }
        // Metrics: given, disabled, or the endpoint's /metrics if it answers.
        var metricsURL: String?
        var server: String?
        switch a.value("--metrics-url") {
        case "none"?: metricsURL = nil
        case let given?:
            metricsURL = given
            if case .failure(let e) = HTTPGet.fetch(given, timeout: 5) { throw CommandFailure("--metrics-url: \(e)") }
        case nil:
            if case .success(let r) = HTTPGet.fetch(configuration.root + "/metrics", timeout: 5), r.status == 200 {
                metricsURL = configuration.root + "/metrics"
                server = ServerMetrics.server(ofScrape: r.body)?.rawValue
            }
        }
        // A server on this machine (loopback) runs on this host's roofs: measure them (≈ 1 s) so
        // the analyzer's request-level verdict has a hardware spec. A remote server's are unknown
        // (give `analyze --hardware NAME`).
        var hardware = HardwareDescriptor(name: "unknown (remote server)", source: "unknown", threads: 1)
        let host = URLHost.of(configuration.root)
        if ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host) {
            let threads = try a.int("--threads") ?? ThreadPool.onlineCores
            if a.flag("--no-probe") {
                hardware = HardwareDescriptor(name: hostCPUName(), source: "unknown", threads: threads)
            } else {
                let peaks = HostPeaks.measure(threads: threads)
                hardware = HardwareDescriptor(name: hostCPUName(), source: "measured", threads: threads,
                                              memoryBandwidth: peaks.readBandwidth, peakFLOPS: peaks.fmaPeak)
            }
        }
        return EndpointSetup(configuration: configuration, metricsURL: metricsURL, model: descriptor, maxContext: maxContext,
                             vocabSize: vocab, seed: seed, warmup: warmup, server: server, hardware: hardware)
    }

    /// `profile --endpoint`: build the workload, probe the prompt format, run, write the trace.
    func runEndpoint(_ a: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        var setup = try Self.endpointSetup(a, context)
        let shown = a.value("--output")!
        let tracePath = context.resolve(shown)
        try OutputFile.checkReplaceable(tracePath, as: .trace, shownAs: shown)
        var progress: ((LoadProgress, Int64) -> Void)?
        if let fd = context.stderr as? FileDescriptorOutput, isatty(fd.fd) == 1 {
            let stderr = context.stderr
            progress = { p, elapsed in
                let seconds = Double(elapsed) * 1e-9
                let rate = seconds > 0 ? Double(p.chunks) / seconds : 0
                stderr.write("\rprofile: \(p.completed) done, \(p.inFlight) in flight, \(p.failed) errors, \(NumberFormat.significant(rate)) tok/s (content chunks)   ")
            }
        }
        let outcome = try Self.recordEndpoint(a, setup: &setup, arrival: nil, tracePath: tracePath, shownAs: shown,
                                              context: context, progress: progress)
        if progress != nil { context.stderr.write("\n") }
        context.stdout.write(outcome.text)
        let quoted = shown.contains(" ") ? "'\(shown)'" : shown
        context.stdout.write("next        inferscope analyze \(quoted)   (or: inferscope report \(quoted), an HTML page)\n")
        return outcome.summary.completed > 0 ? .success : .failure
    }

    struct EndpointOutcome {
        var summary: EndpointTrace.Summary
        var text: String
    }

    /// One endpoint run at `arrival` (nil: from --rate/--concurrency), its trace written to
    /// `tracePath` atomically. Ctrl-C stops sending, cancels what is in flight and still writes
    /// the trace of what happened.
    static func recordEndpoint(_ a: ParsedArguments, setup: inout EndpointSetup, arrival given: ArrivalPattern?,
                               tracePath: String, shownAs shown: String, context: CommandContext,
                               progress: ((LoadProgress, Int64) -> Void)?) throws -> EndpointOutcome {
        var arrival = given
        if arrival == nil, let rate = try a.double("--rate"), rate > 0 { arrival = try openLoopArrival(rate: rate, a) }
        var workload = try workload(a, maxContext: setup.maxContext, seed: setup.seed, context: context, arrival: arrival)
        let fitted = workload.fit(maxContext: setup.maxContext)
        if fitted.clipped + fitted.dropped > 0 {
            context.stderr.write("warning: \(fitted.clipped) requests clipped and \(fitted.dropped) dropped to fit a context of \(setup.maxContext) tokens\n")
        }
        guard !workload.requests.isEmpty else { throw CommandFailure("no request of \(workload.name) fits a context of \(setup.maxContext) tokens") }
        let materialized: [ServingRequest]
        do { materialized = try workload.materialize(vocabSize: setup.vocabSize, seed: setup.seed) } catch { throw CommandFailure(String(describing: error)) }
        let requests = zip(workload.requests, materialized).map { w, m in
            LoadRequest(id: m.id, arrival: workload.arrival.closedLoopConcurrency == nil ? w.arrival : 0, promptTokens: m.prompt,
                        promptText: syntheticPromptText(tokens: m.prompt.count, seed: m.id), maxTokens: m.outputTokens)
        }
        let loadArrival: LoadArrival = workload.arrival.closedLoopConcurrency.map { .closedLoop(concurrency: $0) } ?? .openLoop
        let inFlight = workload.arrival.closedLoopConcurrency ?? requests.count
        setup.configuration.maxConnections = max(6, min(inFlight, 1024) + 2)
        let clock = MonotonicClock()
        // auto: token lists if the server takes them (one short probe request), else text.
        if a.value("--prompt-format") == "auto" && setup.configuration.promptFormat == .tokens {
            var probe = requests[0]
            probe.maxTokens = 1
            let r = LoadRunner(configuration: setup.configuration, clock: clock).run([probe], arrival: .openLoop)
            if let rec = r.records.first, let s = rec.status, (400..<500).contains(s) {
                context.stderr.write("note: the endpoint refused a token-id prompt (HTTP \(s)); sending text prompts of the target length instead\n")
                setup.configuration.promptFormat = .text
            }
        }
        let warmups = (0..<setup.warmup).map { i -> LoadRequest in
            var w = requests[i % requests.count]
            w.id = UInt64(1_000_000 + i)
            return w
        }
        // Ctrl-C: stop sending, cancel in-flight requests, write what happened.
        let stop = StopFlag()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { stop.stop() }
        source.resume()
        defer { source.cancel(); signal(SIGINT, SIG_DFL) }
        let scraper = setup.metricsURL.map { MetricsScraper(url: $0, clock: clock) }
        let startedAt = isoNow()
        scraper?.start()
        let result = LoadRunner(configuration: setup.configuration, clock: clock)
            .run(requests, arrival: loadArrival, warmup: warmups, stop: stop, progress: progress)
        let scraped = scraper?.stop()
        let snapshots = (scraped?.snapshots ?? []).filter { $0.time >= result.start - 300_000_000 }
        // Header: the endpoint, the server's identity, how prompts and token counts were taken.
        var options: [String: String] = [
            "endpoint.url": setup.configuration.root, "endpoint.api": setup.configuration.api.rawValue,
            "endpoint.prompt_format": setup.configuration.promptFormat.rawValue,
            "endpoint.ignore_eos": "true", "endpoint.max_connections": String(setup.configuration.maxConnections),
        ]
        if let m = setup.configuration.model { options["endpoint.model"] = m }
        if let u = setup.metricsURL { options["metrics.url"] = u }
        if let s = snapshots.compactMap({ (s: ServerSnapshot) in s.server }).first?.rawValue ?? setup.server { options["server.kind"] = s }
        if let sc = scraped {
            options["metrics.scrapes"] = String(sc.snapshots.count)
            options["metrics.failures"] = String(sc.failures)
            options["metrics.names"] = sc.names.sorted().joined(separator: ",")
        }
        var descriptor = workload.descriptor
        descriptor.parameters["burstiness"] = a.value("--burstiness")
        descriptor.parameters["warmup"] = String(setup.warmup)
        if result.notSent > 0 { descriptor.parameters["requests_not_sent"] = String(result.notSent) }
        if result.stopped { descriptor.parameters["stopped"] = "interrupted (Ctrl-C): in-flight requests cancelled" }
        for (k, v) in EndpointTrace.counterSummary(snapshots) { descriptor.parameters[k] = v }
        var header = RunHeader(producer: ToolVersion.producer + " profile --endpoint", model: setup.model,
                               hardware: setup.hardware,
                               options: options, workload: descriptor, clock: clock.name + " (client)", startedAt: startedAt)
        var (events, summary) = EndpointTrace.events(result, snapshots: snapshots, header: header)
        // Identity and token-count provenance known only after decoding the streams.
        if let m = summary.model { header.options["server.model"] = m }
        if let f = summary.fingerprint { header.options["server.fingerprint"] = f }
        header.options["token_counts"] = tokenCountNote(summary)
        events[0] = TraceEvent.header(header)
        let bytes = TraceEncoder.encode(events)
        try OutputFile.writeAtomically(String(decoding: bytes, as: UTF8.self), to: tracePath, shownAs: shown)
        return EndpointOutcome(summary: summary, text: endpointSummary(summary, result: result, setup: setup,
                                                                       options: header.options, tracePath: shown, workload: workload))
    }

    static func tokenCountNote(_ s: EndpointTrace.Summary) -> String {
        let total = s.tokenSources.values.reduce(0, +)
        guard total > 0 else { return "no completed request" }
        if s.tokenSources[.usage] == total {
            var note = "usage (all \(total) requests)"
            if s.chunkMismatches > 0 { note += "; \(s.chunkMismatches) differ from the content chunks received" }
            if s.timingsChecked > 0 {
                note += s.timingsMismatches == 0 ? "; timings.predicted_n agrees on all \(s.timingsChecked)"
                                                 : "; timings.predicted_n disagrees on \(s.timingsMismatches) of \(s.timingsChecked)"
            }
            return note
        }
        return s.tokenSources.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue): \($0.value)" }.joined(separator: ", ")
            + (s.tokenSources[.chunks] != nil ? " (chunks: the server sent no usage; counted one token per content chunk)" : "")
    }

    static func endpointSummary(_ s: EndpointTrace.Summary, result: LoadResult, setup: EndpointSetup, options: [String: String],
                                tracePath: String, workload: Workload) -> String {
        let seconds = Double(result.end - result.start) * 1e-9
        var out = "endpoint    \(setup.configuration.root) (\(options["server.kind"] ?? "server kind unknown"), model \(setup.configuration.model ?? "unnamed"))\n"
        out += "workload    \(workload.name), \(workload.requests.count) requests, \(workload.arrival), prompts as \(setup.configuration.promptFormat.rawValue)\n"
        out += "requests    \(s.completed) completed, \(s.failed) failed, \(s.cancelled) cancelled" + (result.notSent > 0 ? ", \(result.notSent) not sent" : "") + "\n"
        for (reason, n) in s.failures.sorted(by: { $0.key < $1.key }) { out += "  failed    \(n) × \(reason)\n" }
        out += "tokens      \(s.outputTokens) generated in \(NumberFormat.significant(seconds)) s (\(NumberFormat.significant(seconds > 0 ? Double(s.outputTokens) / seconds : 0)) tok/s); counts from \(options["token_counts"] ?? "?")\n"
        if let u = options["metrics.url"] {
            out += "metrics     \(u): \(options["metrics.scrapes"] ?? "0") scrapes, \(options["metrics.failures"] ?? "0") failed; read \(options["metrics.names"].map { $0.isEmpty ? "no recognised names" : $0 } ?? "-")\n"
        } else {
            out += "metrics     none (no /metrics answered; pass --metrics-url)\n"
        }
        if result.stopped { out += "stopped     by Ctrl-C: in-flight requests cancelled, the trace holds what happened\n" }
        out += "trace       \(tracePath)\n"
        return out
    }

    static func isoNow() -> String {
        var t = time(nil)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tmv.tm_year + 1900)-\(two(tmv.tm_mon + 1))-\(two(tmv.tm_mday))T\(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec))Z"
    }
}

/// The host part of an http(s) URL ("http://127.0.0.1:8000/v1" → "127.0.0.1").
enum URLHost {
    static func of(_ url: String) -> String {
        var rest = Substring(url)
        if let r = rest.range(of: "://") { rest = rest[r.upperBound...] }
        rest = rest.prefix { $0 != "/" }
        if rest.hasPrefix("[") { return String(rest.prefix { $0 != "]" }) + "]" }
        return String(rest.prefix { $0 != ":" })
    }
}
