import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TraceFormat
import Tracing

/// Set from a signal handler (Ctrl-C) or a test: the runner stops sending and cancels what is
/// in flight. Thread-safe.
public final class StopFlag: Sendable {
    private let flag = Atomic(false)
    public init() {}
    public func stop() { flag.store(true, ordering: .relaxed) }
    public var isStopped: Bool { flag.load(ordering: .relaxed) }
}

/// The outcome of one load run.
public struct LoadResult: Sendable {
    /// One record per request sent, by id.
    public var records: [RequestRecord]
    /// Clock readings at the start (after warm-up) and end of the measured run.
    public var start: Int64
    public var end: Int64
    /// Requests never sent because the run was stopped.
    public var notSent: Int
    public var stopped: Bool
    /// Warm-up requests that did not succeed (a hint that the server is not ready).
    public var warmupFailures: Int
}

/// Releases requests to a ``StreamingClient`` by an open-loop schedule (each request at its
/// arrival offset) or a closed loop (`concurrency` in flight), after `warmup` unrecorded
/// requests. Blocks the calling thread until every request sent has ended. The clock is
/// injected; sleeping uses the system's monotonic sleep in ≤ 20 ms slices so a stop is seen
/// quickly.
public final class LoadRunner: Sendable {
    public let configuration: EndpointConfiguration
    private let clock: any TraceClock

    public init(configuration: EndpointConfiguration, clock: any TraceClock) {
        self.configuration = configuration
        self.clock = clock
    }

    /// Runs the load. `progress` is called about every 250 ms on the calling thread.
    public func run(_ requests: [LoadRequest], arrival: LoadArrival, warmup: [LoadRequest] = [],
                    stop: StopFlag = StopFlag(), progress: ((LoadProgress, Int64) -> Void)? = nil) -> LoadResult {
        let client = StreamingClient(configuration: configuration, clock: clock)
        defer { client.invalidate() }
        // Warm-up: sent together (bounded by the run's concurrency), not recorded.
        var warmupFailures = 0
        if !warmup.isEmpty {
            let failures = Counter()
            let slots = DispatchSemaphore(value: max(1, configuration.maxConnections))
            let group = DispatchGroup()
            for w in warmup where !stop.isStopped {
                slots.wait()
                group.enter()
                client.send(w) { r in
                    if r.status.map({ !(200..<300).contains($0) }) ?? true || r.transportError != nil { failures.add() }
                    slots.signal()
                    group.leave()
                }
            }
            waitAll(group, client: client, stop: stop)
            warmupFailures = failures.value
            client.resetProgress()
        }
        let measuring = client
        let records = Records()
        let group = DispatchGroup()
        let start = clock.now()
        var lastProgress = start
        func tick() {
            guard let progress else { return }
            let now = clock.now()
            if now - lastProgress >= 250_000_000 { lastProgress = now; progress(measuring.progress, now - start) }
        }
        var sent = 0
        let concurrency: Int? = { if case .closedLoop(let n) = arrival { return n } else { return nil } }()
        let slots = DispatchSemaphore(value: concurrency ?? Int.max >> 1)
        outer: for r in requests {
            if let _ = concurrency {
                while slots.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
                    if stop.isStopped { break outer }
                    tick()
                }
            } else {
                while true {
                    if stop.isStopped { break outer }
                    let wait = start + r.arrival - clock.now()
                    if wait <= 0 { break }
                    tick()
                    usleep(UInt32(min(wait / 1000, 20_000)))
                }
            }
            if stop.isStopped { if concurrency != nil { slots.signal() }; break }
            group.enter()
            measuring.send(r) { record in
                records.append(record)
                if concurrency != nil { slots.signal() }
                group.leave()
            }
            sent += 1
        }
        waitAll(group, client: measuring, stop: stop, tick: tick)
        let end = clock.now()
        progress?(measuring.progress, end - start)
        let all = records.all.sorted { $0.id < $1.id }
        return LoadResult(records: all, start: start, end: end, notSent: requests.count - sent,
                          stopped: stop.isStopped, warmupFailures: warmupFailures)
    }

    /// Waits for `group`; on a stop, cancels what is in flight and waits for the cancellations.
    private func waitAll(_ group: DispatchGroup, client: StreamingClient, stop: StopFlag, tick: () -> Void = {}) {
        var cancelled = false
        while group.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            if stop.isStopped && !cancelled { client.cancelAll(); cancelled = true }
            tick()
        }
    }
}

/// A thread-safe count (closures cannot capture a non-copyable `Atomic` directly).
final class Counter: Sendable {
    private let count = Atomic(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Records collected from delivery callbacks.
final class Records: Sendable {
    private let list = Mutex<[RequestRecord]>([])
    func append(_ r: RequestRecord) { list.withLock { $0.append(r) } }
    var all: [RequestRecord] { list.withLock { $0 } }
}
