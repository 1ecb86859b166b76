#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LlamaModel
import LoadGenerator
import ServingAPI
import ServingEngine
import TraceFormat
import Tracing

/// `inferscope-bench serve`: the cost of `profile --endpoint`'s client. Streams from a scripted
/// local SSE source that writes each response in one piece (so the source costs almost nothing)
/// and reports how many chunks per second the client receives, frames and timestamps with the
/// whole process pinned to one core, plus the per-chunk cost of each piece of that work.
enum ServeBench {
    struct Settings {
        var json = false
        var requests = 64
        var tokens = 2_000
        var concurrency = 4
        var cores = 1
        var compare = true
        var compareModel = "stories15m"
        var compareRequests = 16
        var compareConcurrency = 4
        var threads = 2
    }

    static let help = """
        USAGE: inferscope-bench serve [--json] [--requests N] [--tokens N] [--concurrency N] [--cores N]
                                      [--no-compare] [--compare-model PRESET] [--compare-requests N]
                                      [--compare-concurrency N] [--threads N]

        HTTP vs in-process (first, unpinned): the built-in 'chat' workload (--compare-requests,
        default 16, closed loop at --compare-concurrency, default 4) on --compare-model (default
        stories15m) with --threads compute threads (default 2), served once in-process (the engine
        of 'profile', tracing off) and once through 'inferscope serve' in this process driven by
        the 'profile --endpoint' client (token-id prompts, ignore_eos). Reported: output tokens/s
        of each and their ratio (goal ≥ 0.95).

        Client throughput: --requests streams (default 64) of --tokens one-token SSE chunks each
        (default 2000) from a scripted server on 127.0.0.1 in this process, --concurrency in flight
        (default 4), the process pinned to --cores cores (default 1) with sched_setaffinity.
        Reported: chunks received and timestamped per wall second and per CPU second of the
        process (client and source together), and the per-chunk costs measured alone: one
        clock reading (the timestamp), SSE framing, and the JSON decoding done after the run.
        Goal: ≥ 20 000 chunks/s on one core. Run in release; the host may be shared: compare
        figures of one run.

        """

    static func run(_ arguments: [String]) -> Int32 {
        var s = Settings()
        var args = BenchArguments(arguments)
        do {
            while let a = args.next() {
                switch a {
                case "--json": s.json = true
                case "--requests": s.requests = try args.positive(a)
                case "--tokens": s.tokens = try args.positive(a)
                case "--concurrency": s.concurrency = try args.positive(a)
                case "--cores": s.cores = try args.positive(a)
                case "--no-compare": s.compare = false
                case "--compare-model": s.compareModel = try args.value(a)
                case "--compare-requests": s.compareRequests = try args.positive(a)
                case "--compare-concurrency": s.compareConcurrency = try args.positive(a)
                case "--threads": s.threads = try args.positive(a)
                case "--help", "-h": print(help, terminator: ""); return 0
                default: throw BenchUsageError(message: "unknown option '\(a)'")
                }
            }
        } catch {
            writeStandardError("error: \(error)\n" + help)
            return 2
        }
        var comparison: (inProcess: Double, http: Double)?
        if s.compare {
            do { comparison = try compare(s) } catch { writeStandardError("error: HTTP vs in-process: \(error)\n"); return 1 }
        }
        var set = cpu_set_t()
        _ = withUnsafeMutableBytes(of: &set) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        for c in 0..<s.cores { setCPU(c, &set) }
        let pinned = setAffinity(&set)

        // 1. End to end through URLSession.
        var script = ScriptedSSEServer.Script()
        script.chunkInterval = 0
        script.firstChunkDelay = 0
        script.maxRequests = s.requests + 16
        let server: ScriptedSSEServer
        do { server = try ScriptedSSEServer(script: script) } catch { writeStandardError("error: \(error)\n"); return 1 }
        defer { server.stop() }
        let clock = MonotonicClock()
        var config = EndpointConfiguration(baseURL: server.baseURL, model: "scripted")
        config.maxConnections = s.concurrency + 2
        let requests = (0..<s.requests).map { i in
            LoadRequest(id: UInt64(i + 1), arrival: 0, promptTokens: [1, 2, 3, 4], promptText: "a b c d", maxTokens: s.tokens)
        }
        let warm = [LoadRequest(id: 999_999, arrival: 0, promptTokens: [1], promptText: "a", maxTokens: 100)]
        let cpu0 = processCPUSeconds()
        let runner = LoadRunner(configuration: config, clock: clock)
        let result = runner.run(requests, arrival: .closedLoop(concurrency: s.concurrency), warmup: warm)
        let cpu = processCPUSeconds() - cpu0
        let wall = Double(result.end - result.start) * 1e-9
        let chunks = result.records.reduce(0) { $0 + $1.payloads.count }
        let ok = result.records.filter { $0.transportError == nil && $0.status == 200 }.count

        // 2. Per-chunk pieces alone.
        let reads = 2_000_000
        var sink: Int64 = 0
        let t0 = MonotonicClock.absoluteNow()
        for _ in 0..<reads { sink &+= clock.now() }
        let clockNs = Double(MonotonicClock.absoluteNow() - t0) / Double(reads)
        let chunkText = Array(#"data: {"model":"scripted","choices":[{"index":0,"text":"t","finish_reason":null}]}"#.utf8) + [10, 10]
        let framed = 100_000
        var stream: [UInt8] = []
        stream.reserveCapacity(chunkText.count * framed)
        for _ in 0..<framed { stream += chunkText }
        // Framing as the client does it: 16 KiB reads appended to a buffer, split, tail kept.
        let t1 = MonotonicClock.absoluteNow()
        var buffer: [UInt8] = []
        var messages = 0
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + 16_384)
            buffer.append(contentsOf: stream[offset..<end])
            offset = end
            let (m, consumed) = SSEFraming.split(buffer)
            messages += m.count
            buffer.removeFirst(consumed)
        }
        let framingNs = Double(MonotonicClock.absoluteNow() - t1) / Double(framed)
        let decodeCount = 20_000
        let payload = Array(chunkText.dropFirst(6).dropLast(2))
        let t2 = MonotonicClock.absoluteNow()
        var content = 0
        for _ in 0..<decodeCount where StreamChunk.decode(payload).hasContent { content += 1 }
        let decodeNs = Double(MonotonicClock.absoluteNow() - t2) / Double(decodeCount)
        if sink == 42 || messages != framed || content != decodeCount { writeStandardError("(checksum)\n") }

        var rows: [(String, String, String)] = []
        if let c = comparison {
            rows += [("in-process tok/s", fmt(c.inProcess), "\(s.compareModel), chat × \(s.compareRequests), closed loop \(s.compareConcurrency), \(s.threads) threads"),
                     ("through HTTP tok/s", fmt(c.http), "same load via serve + profile --endpoint client"),
                     ("HTTP / in-process", String(format: "%.3f", c.http / c.inProcess), "goal ≥ 0.95")]
        }
        rows += [
            ("streams completed", "\(ok) of \(s.requests)", ""),
            ("chunks received", "\(chunks)", "\(s.tokens) per stream + usage + [DONE]"),
            ("chunks/s (wall)", fmt(Double(chunks) / wall), "goal ≥ 20000 on one core" + (pinned ? "" : " (NOT pinned)")),
            ("chunks per CPU-second", fmt(Double(chunks) / max(cpu, 1e-9)), "process CPU time, client + source"),
            ("timestamp (clock read)", fmt(clockNs) + " ns", "per chunk, CLOCK_MONOTONIC via vDSO"),
            ("SSE framing", fmt(framingNs) + " ns", "per chunk, 16 KiB reads"),
            ("JSON decode (after run)", fmt(decodeNs) + " ns", "per chunk, not on the timing path"),
        ]
        if s.json {
            let object: [String: Any] = [
                "benchmark": "serve", "cores": s.cores, "pinned": pinned, "requests": s.requests, "tokens": s.tokens,
                "concurrency": s.concurrency, "completed": ok, "chunks": chunks, "wall_seconds": wall, "cpu_seconds": cpu,
                "chunks_per_second": Double(chunks) / wall, "chunks_per_cpu_second": Double(chunks) / max(cpu, 1e-9),
                "timestamp_ns": clockNs, "framing_ns_per_chunk": framingNs, "decode_ns_per_chunk": decodeNs,
                "in_process_tps": comparison?.inProcess ?? NSNull(), "http_tps": comparison?.http ?? NSNull(),
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("inferscope-bench serve: \(s.requests) streams × \(s.tokens) chunks, concurrency \(s.concurrency), \(s.cores) core(s)\(pinned ? " (pinned)" : "")")
            let w0 = rows.map(\.0.count).max()!, w1 = rows.map(\.1.count).max()!
            for r in rows {
                print(r.0.padding(toLength: w0, withPad: " ", startingAt: 0) + "  "
                      + String(repeating: " ", count: w1 - r.1.count) + r.1 + "  " + r.2)
            }
            print("The host is shared (other builds may run): figures are upper bounds on the client's cost.")
        }
        return ok == s.requests ? 0 : 1
    }

    /// Output tokens/s of the same closed-loop workload in-process and through HTTP.
    static func compare(_ s: Settings) throws -> (inProcess: Double, http: Double) {
        var options = EngineOptions()
        options.threads = s.threads
        let model = try ModelLoader.load(s.compareModel, seed: 0)
        var workload = try Workload.builtIn("chat", count: s.compareRequests, arrival: .closedLoop(concurrency: s.compareConcurrency),
                                            seed: 0, maxContext: model.weights.config.maxSeqLen)
        _ = workload.fit(maxContext: model.weights.config.maxSeqLen)
        // In-process, as `profile` serves it (tracing off).
        let engine = try ServingEngine(model: model, options: options, tracer: .disabled)
        let run = try engine.run(workload)
        let inTokens = run.requests.reduce(0) { $0 + $1.output.count }
        let inProcess = Double(inTokens) / (Double(run.end - run.start) * 1e-9)
        // Through HTTP: a fresh engine behind `serve`, the endpoint client at the same load.
        let served = try ServingEngine(model: model, options: options, tracer: .disabled)
        let session = ServeSession(engine: served, modelName: s.compareModel, host: "127.0.0.1", port: 0, limits: .init(), maxWaiting: 1024)
        let port = try session.start()
        defer { try? session.stop(drain: false) }
        let materialized = try workload.materialize(vocabSize: model.weights.config.vocabSize, seed: 0)
        let requests = materialized.map {
            LoadRequest(id: $0.id, arrival: 0, promptTokens: $0.prompt, promptText: "", maxTokens: $0.outputTokens)
        }
        var config = EndpointConfiguration(baseURL: "http://127.0.0.1:\(port)", model: s.compareModel)
        config.maxConnections = s.compareConcurrency + 2
        let result = LoadRunner(configuration: config, clock: MonotonicClock())
            .run(requests, arrival: .closedLoop(concurrency: s.compareConcurrency))
        let outcomes = result.records.map(RequestOutcome.init)
        if let bad = outcomes.first(where: { $0.failure != nil }) { throw BenchUsageError(message: "request \(bad.id): \(bad.failure!)") }
        let httpTokens = outcomes.reduce(0) { $0 + $1.completionTokens }
        let http = Double(httpTokens) / (Double(result.end - result.start) * 1e-9)
        if httpTokens != inTokens { writeStandardError("note: \(httpTokens) tokens through HTTP vs \(inTokens) in-process\n") }
        return (inProcess, http)
    }

    static func fmt(_ x: Double) -> String {
        x >= 100 ? String(Int(x.rounded())) : String(format: "%.1f", x)
    }

    static func processCPUSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
    }

    /// sched_setaffinity(0, …) for the calling thread (threads created later inherit it). Glibc
    /// declares it only under _GNU_SOURCE, so it is looked up by name. False if unavailable.
    static func setAffinity(_ set: inout cpu_set_t) -> Bool {
        typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity") else { return false }
        let f = unsafeBitCast(symbol, to: SetAffinity.self)
        return withUnsafeBytes(of: &set) { f(0, MemoryLayout<cpu_set_t>.size, $0.baseAddress!) } == 0
    }

    /// CPU_SET for `cpu_set_t` (a C macro Swift cannot import).
    static func setCPU(_ cpu: Int, _ set: inout cpu_set_t) {
        withUnsafeMutableBytes(of: &set) { raw in
            let words = raw.bindMemory(to: UInt.self)
            let bits = UInt.bitWidth
            if cpu / bits < words.count { words[cpu / bits] |= 1 << UInt(cpu % bits) }
        }
    }
}
