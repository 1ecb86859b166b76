#if canImport(Glibc)
import Glibc
#endif
import TraceFormat
import Tracing

/// `inferscope-bench trace`: the recorder's hot-path cost (ns and heap allocations per recorded
/// event, one and two recording threads, and the disabled tracer), and the reader's throughput
/// on a generated trace of ~100 MB, side by side with a Python `json.loads` per-line loop.
enum TraceBench {
    struct Settings {
        var json = false
        var sizeMB = 100
        var python = true
        var burst = 20_000
        var bursts = 40
        var keep = false
    }

    static let help = """
        USAGE: inferscope-bench trace [--json] [--size-mb N] [--bursts N] [--no-python] [--keep]

        Recorder: events are recorded through Tracer → FileTraceRecorder in bursts of 20 000 (a
        third of the ring, so the writer thread never makes record() wait), then flushed outside
        the timed region. Allocations: counted with glibc's mtrace (libc_malloc_debug.so
        preloaded into a child run of this benchmark) over 10 000 records. Reader: a trace of
        --size-mb MB (default 100) is generated in /tmp, read with TraceReader (median of 3),
        and with a Python json.loads loop over its lines (one run).
        Times are thread CPU time (what the code costs on one core; the machine may be shared)
        and, in the "(wall)" rows, wall-clock time. MB = 10^6 bytes.

        """

    static func run(_ arguments: [String]) -> Int32 {
        var settings = Settings()
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            func value() -> Int? {
                guard i < arguments.count, let v = Int(arguments[i]), v > 0 else { return nil }
                i += 1
                return v
            }
            switch a {
            case "--json": settings.json = true
            case "--no-python": settings.python = false
            case "--keep": settings.keep = true
            case "--size-mb":
                guard let v = value() else { return usageError("--size-mb needs a positive integer") }
                settings.sizeMB = v
            case "--bursts":
                guard let v = value() else { return usageError("--bursts needs a positive integer") }
                settings.bursts = v
            case "--_read":  // profiling aid: read one file, print MB/s
                guard i < arguments.count else { return usageError("--_read needs a path") }
                let path = arguments[i]
                var info = stat()
                stat(path, &info)
                let seconds = readTrace(path, expectedEvents: -1)
                print(Double(info.st_size) / seconds.cpu / 1e6, "MB/s (CPU time);", Double(info.st_size) / seconds.wall / 1e6, "MB/s (wall)")
                return 0
            case "--_count-allocs":
                guard let v = value() else { return usageError("--_count-allocs needs a count") }
                return countAllocationsChild(records: v)
            case "--help", "-h":
                print(help, terminator: "")
                return 0
            default:
                return usageError("unknown option '\(a)'")
            }
        }

        var report = BenchReport(bench: "trace")
        report.context.append(("cpus", "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))"))
        #if DEBUG
        report.context.append(("build", "DEBUG (numbers are not representative: use -c release)"))
        #else
        report.context.append(("build", "release"))
        #endif
        report.context.append(("event size", "\(MemoryLayout<TraceEvent>.size) bytes"))

        let pool = eventPool()
        let disabled = measureDisabled(pool)
        report.add("disabled tracer, per record", disabled, "ns", "Tracer.disabled: the event is never built")
        let single = measureRecorder(pool, threads: 1, settings)
        report.add("record, 1 thread", single.cpu, "ns/event", "thread CPU time; target ≤ 100")
        report.add("record, 1 thread (wall)", single.wall, "ns/event", "wall clock, includes preemption")
        let two = measureRecorder(pool, threads: 2, settings)
        report.add("record, 2 threads", two.cpu, "ns/event", "thread CPU time, per thread, both recording at once")
        report.add("record, 2 threads (wall)", two.wall, "ns/event", "wall clock, per thread")
        if let allocations = countAllocations(records: 10_000) {
            report.add("allocations per record", allocations, "allocs/event", "mallocs seen by mtrace; target 0")
        } else {
            report.add("allocations per record", .nan, "allocs/event", "mtrace unavailable (libc_malloc_debug.so.0)")
        }

        let path = "/tmp/inferscope-bench-trace-\(getpid()).json"
        defer { if !settings.keep { unlink(path) } }
        let (bytes, writeSeconds, events) = writeTrace(path, sizeMB: settings.sizeMB, pool: pool)
        report.context.append(("reader file", "\(path) (\(bytes / 1_000_000) MB, \(events) events)"))
        report.add("write (encode + write(2))", Double(bytes) / writeSeconds / 1e6, "MB/s", "TraceWriter, 1 thread")
        let rssBefore = maxRSS()
        let reads = (0..<3).map { _ in readTrace(path, expectedEvents: events) }
        let readSeconds = reads.map(\.cpu).sorted()[1]
        report.add("read", Double(bytes) / readSeconds / 1e6, "MB/s", "TraceReader, thread CPU time, median of 3; target ≥ 100")
        report.add("read (wall)", Double(bytes) / reads.map(\.wall).sorted()[1] / 1e6, "MB/s", "wall clock, median of 3")
        report.add("reader peak memory growth", Double(maxRSS() - rssBefore) / 1e6, "MB",
                   "max RSS after reading minus before: streaming")
        if settings.python, let python = pythonBaseline(path) {
            report.add("python json.loads loop", Double(bytes) / python.cpu / 1e6, "MB/s", "python3 process CPU time, one run")
            report.add("python json.loads loop (wall)", Double(bytes) / python.wall / 1e6, "MB/s", "wall clock")
            report.add("reader speed-up over python", python.cpu / readSeconds, "x", "CPU time ratio; target ≥ 5")
        }
        print(report.render(json: settings.json), terminator: "")
        return 0
    }

    static func usageError(_ message: String) -> Int32 {
        writeStandardError("error: \(message)\n" + help)
        return 2
    }

    // MARK: - Recorder

    /// 4096 plausible events (no header) to record repeatedly.
    static func eventPool() -> [TraceEvent] {
        var synth = SyntheticTrace(seed: 42)
        return (0..<4096).map { _ in synth.event() }
    }

    static func header() -> TraceEvent {
        var synth = SyntheticTrace(seed: 42)
        return .header(synth.header())
    }

    @inline(never)
    static func measureDisabled(_ pool: [TraceEvent]) -> Double {
        let tracer = opaque(Tracer.disabled)
        let n = 10_000_000
        let t0 = MonotonicClock.absoluteNow()
        for i in 0..<n { tracer.record(pool[i & 4095]) }
        return Double(MonotonicClock.absoluteNow() - t0) / Double(n)
    }

    @inline(never)
    static func opaque<T>(_ value: T) -> T { value }

    /// CPU time consumed by the calling thread, nanoseconds. Under load (other processes on the
    /// same cores) wall time includes preemption; CPU time is what the code itself costs.
    static func threadCPUTime() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// A measurement in wall-clock and CPU time (same unit).
    struct Timing {
        var wall: Double
        var cpu: Double
    }

    /// Mean ns per `record` over `settings.bursts` bursts per thread, recording through a
    /// `Tracer` into a `FileTraceRecorder` writing a file in /tmp.
    static func measureRecorder(_ pool: [TraceEvent], threads: Int, _ settings: Settings) -> Timing {
        let path = "/tmp/inferscope-bench-recorder-\(getpid()).json"
        defer { unlink(path) }
        guard let recorder = try? FileTraceRecorder(path: path) else { return Timing(wall: .nan, cpu: .nan) }
        let tracer = Tracer(sink: recorder, clock: MonotonicClock())
        tracer.record(header())
        let burst = settings.burst / threads
        let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)
        pthread_barrier_init(barrier, nil, UInt32(threads + 1))
        // Per thread: wall ns, CPU ns.
        let results = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * threads)
        results.initialize(repeating: 0, count: 2 * threads)
        let rounds = settings.bursts + 1  // the first is a warm-up

        struct Shared: @unchecked Sendable {
            let barrier: UnsafeMutablePointer<pthread_barrier_t>
            let results: UnsafeMutablePointer<Int64>
        }
        let shared = Shared(barrier: barrier, results: results)
        var workers: [pthread_t] = []
        for t in 0..<threads {
            workers.append(spawn {
                for round in 0..<rounds {
                    pthread_barrier_wait(shared.barrier)
                    let c0 = threadCPUTime()
                    let t0 = MonotonicClock.absoluteNow()
                    for i in 0..<burst { tracer.record(pool[(i &+ t &* 977) & 4095]) }
                    let elapsed = MonotonicClock.absoluteNow() - t0
                    let cpu = threadCPUTime() - c0
                    if round > 0 {
                        shared.results[2 * t] += elapsed
                        shared.results[2 * t + 1] += cpu
                    }
                    pthread_barrier_wait(shared.barrier)
                }
            })
        }
        for _ in 0..<rounds {
            pthread_barrier_wait(barrier)  // start
            pthread_barrier_wait(barrier)  // all recorded
            recorder.flush()
        }
        for worker in workers { pthread_join(worker, nil) }
        try? recorder.close()
        let wall = (0..<threads).reduce(Int64(0)) { $0 + results[2 * $1] }
        let cpu = (0..<threads).reduce(Int64(0)) { $0 + results[2 * $1 + 1] }
        pthread_barrier_destroy(barrier)
        barrier.deallocate()
        results.deallocate()
        if recorder.droppedEvents > 0 { writeStandardError("warning: the recorder dropped \(recorder.droppedEvents) events\n") }
        let count = Double(threads) * Double(settings.bursts * burst)
        return Timing(wall: Double(wall) / count, cpu: Double(cpu) / count)
    }

    // MARK: - Allocations

    /// Runs this benchmark again as a child with glibc's malloc tracer preloaded; counts the
    /// allocations logged while it records `records` events (minus the one calibration malloc the
    /// child makes to prove the tracer works). Nil if the tracer is unavailable.
    static func countAllocations(records: Int) -> Double? {
        let log = "/tmp/inferscope-bench-mtrace-\(getpid()).log"
        defer { unlink(log) }
        var exe = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &exe, exe.count - 1)
        guard n > 0 else { return nil }
        let binary = String(decoding: exe[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var environment = currentEnvironment().filter { !$0.hasPrefix("LD_PRELOAD=") && !$0.hasPrefix("MALLOC_TRACE=") }
        environment += ["LD_PRELOAD=libc_malloc_debug.so.0", "MALLOC_TRACE=\(log)"]
        guard run([binary, "trace", "--_count-allocs", "\(records)"], environment: environment) == 0,
              let text = FileBytes.text(of: log) else { return nil }
        var allocations = 0
        for line in text.split(separator: "\n") {
            let tokens = line.split(separator: " ")
            // "@ caller + address size" (malloc/calloc) and "@ caller > address size" (realloc).
            if tokens.count >= 3 && (tokens[2] == "+" || tokens[2] == ">") { allocations += 1 }
        }
        guard allocations >= 1 else { return nil }  // the calibration malloc was not seen
        return Double(allocations - 1) / Double(records)
    }

    /// The child side: warm up, then trace mallocs around `records` calls of `record`.
    static func countAllocationsChild(records: Int) -> Int32 {
        // mtrace/muntrace are non-default versioned symbols (GLIBC_2.2.5) of the preloaded
        // libc_malloc_debug: plain dlsym does not see them, dlvsym (looked up by dlsym) does.
        typealias VersionedLookup = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>,
                                                    UnsafePointer<CChar>) -> UnsafeMutableRawPointer?
        guard let handle = dlopen(nil, RTLD_NOW), let dlvsymSymbol = dlsym(handle, "dlvsym") else { return 1 }
        let dlvsym = unsafeBitCast(dlvsymSymbol, to: VersionedLookup.self)
        guard let mtraceSymbol = dlvsym(handle, "mtrace", "GLIBC_2.2.5"),
              let muntraceSymbol = dlvsym(handle, "muntrace", "GLIBC_2.2.5") else { return 1 }
        typealias Toggle = @convention(c) () -> Void
        let mtrace = unsafeBitCast(mtraceSymbol, to: Toggle.self)
        let muntrace = unsafeBitCast(muntraceSymbol, to: Toggle.self)
        let pool = eventPool()
        let path = "/tmp/inferscope-bench-allocs-\(getpid()).json"
        defer { unlink(path) }
        guard let recorder = try? FileTraceRecorder(path: path, options: .init(flushInterval: 100_000_000)) else { return 1 }
        let tracer = Tracer(sink: recorder, clock: MonotonicClock())
        tracer.record(header())
        for i in 0..<records { tracer.record(pool[i & 4095]) }  // warm-up: every code path once
        recorder.flush()
        mtrace()
        // Calibration: exactly one malloc, which the parent expects to see in the log.
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        probe.deallocate()
        for i in 0..<records { tracer.record(pool[i & 4095]) }
        muntrace()
        try? recorder.close()
        return 0
    }

    // MARK: - Reader

    /// Writes a trace of about `sizeMB` MB; returns (bytes, seconds, events).
    static func writeTrace(_ path: String, sizeMB: Int, pool: [TraceEvent]) -> (Int, Double, Int) {
        let target = sizeMB * 1_000_000
        let t0 = MonotonicClock.absoluteNow()
        guard let writer = try? TraceWriter(path: path, flushThreshold: 1 << 20) else { return (0, 1, 0) }
        try? writer.write(header())
        var events = 1
        var bytes = 0
        while bytes < target {
            for i in 0..<10_000 { try? writer.write(pool[i & 4095]) }
            events += 10_000
            var info = stat()
            stat(path, &info)
            bytes = Int(info.st_size)
        }
        try? writer.close()
        var info = stat()
        stat(path, &info)
        return (Int(info.st_size), Double(MonotonicClock.absoluteNow() - t0) / 1e9, events)
    }

    /// Seconds to read every event of `path`.
    static func readTrace(_ path: String, expectedEvents: Int) -> Timing {
        let t0 = MonotonicClock.absoluteNow()
        let c0 = threadCPUTime()
        guard let reader = try? TraceReader(path: path) else { return Timing(wall: .nan, cpu: .nan) }
        var count = 0
        while reader.next() != nil { count += 1 }
        let seconds = Timing(wall: Double(MonotonicClock.absoluteNow() - t0) / 1e9, cpu: Double(threadCPUTime() - c0) / 1e9)
        if (expectedEvents >= 0 && count != expectedEvents) || !reader.diagnostics.isEmpty {
            writeStandardError("warning: read \(count) of \(expectedEvents) events: \(reader.diagnostics.prefix(3))\n")
        }
        return seconds
    }

    static let pythonLoop = """
        import json, sys, time
        t = time.perf_counter()
        c = time.process_time()
        n = 0
        with open(sys.argv[1], 'rb') as f:
            for line in f:
                line = line.strip()
                if line.endswith(b','):
                    line = line[:-1]
                if not line or line == b'[' or line == b']':
                    continue
                json.loads(line)
                n += 1
        print(time.perf_counter() - t, time.process_time() - c, n)
        """

    /// Seconds Python's json.loads loop takes over the lines of `path` (timed inside Python:
    /// wall and process CPU time).
    static func pythonBaseline(_ path: String) -> Timing? {
        guard let output = capture(["/usr/bin/env", "python3", "-c", pythonLoop, path]) else { return nil }
        let fields = output.split(separator: " ").compactMap { Double($0) }
        guard fields.count >= 2 else { return nil }
        return Timing(wall: fields[0], cpu: fields[1])
    }

    // MARK: - Process helpers

    static func maxRSS() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    static func currentEnvironment() -> [String] {
        var result: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            result.append(String(cString: pointer))
            entry += 1
        }
        return result
    }

    /// Runs a process, waits, returns its exit status (-1 if it could not start).
    static func run(_ arguments: [String], environment: [String]? = nil) -> Int32 {
        spawnProcess(arguments, environment: environment, stdoutFD: nil).map { pid in
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
        } ?? -1
    }

    /// Runs a process and returns its standard output, nil if it failed.
    static func capture(_ arguments: [String]) -> String? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        guard let pid = spawnProcess(arguments, environment: nil, stdoutFD: fds[1]) else {
            close(fds[0]); close(fds[1])
            return nil
        }
        close(fds[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        close(fds[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func spawnProcess(_ arguments: [String], environment: [String]?, stdoutFD: Int32?) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdoutFD { posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = (environment ?? currentEnvironment()).map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp) == 0 else { return nil }
        return pid
    }

    /// Runs `body` on a new POSIX thread.
    static func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        final class Box: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&thread, nil, { context in
            Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        return thread
    }
}
