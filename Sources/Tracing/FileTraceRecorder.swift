#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TraceFormat

/// Records a trace to a file, crash-safely, at a hot-path cost of one lock-free queue push.
///
/// - `record` (any thread) copies the event value into a preallocated ring: no JSON
///   formatting, no heap allocation, no lock, no system call.
/// - A background writer thread takes events from the ring, formats them (``TraceEncoder``)
///   and `write(2)`s them. It wakes on ``stepCompleted()``, when the ring is a quarter full,
///   and every ``Options/flushInterval`` (default 20 ms, at most 100 ms).
/// - Loss bound: data given to `write(2)` survives `kill -9` (it is in the kernel's page
///   cache), and the file is then a valid trace missing its `]`. So after `kill -9`, the file
///   holds every event recorded more than one flush interval before the kill and, with
///   ``Options/synchronousSteps``, every event recorded before the last ``stepCompleted()``
///   returned. (Power loss is a different matter: nothing here calls `fsync`.)
/// - Full ring: `record` wakes the writer and yields the CPU until a slot frees, for at most
///   ``Options/maxBlock`` (default 2 ms); after that the event is **dropped** and counted in
///   ``droppedEvents`` — recording never deadlocks the engine. Size the ring (default 65 536
///   events) so that this does not happen; `inferscope` warns when it did.
///
/// Call ``close()`` at the end: it drains the ring, writes the closing `]` and closes the file.
public final class FileTraceRecorder: TraceSink {
    public struct Options: Sendable {
        /// Events the ring holds (rounded up to a power of two).
        public var ringCapacity: Int
        /// Longest time between writes while events are pending, nanoseconds.
        public var flushInterval: Int64
        /// Make ``stepCompleted()`` wait until everything recorded before it is written.
        public var synchronousSteps: Bool
        /// Longest time `record` waits for a free slot before dropping, nanoseconds.
        public var maxBlock: Int64

        public init(ringCapacity: Int = 1 << 16, flushInterval: Int64 = 20_000_000, synchronousSteps: Bool = false,
                    maxBlock: Int64 = 2_000_000) {
            precondition(flushInterval > 0 && flushInterval <= 100_000_000, "flushInterval must be in (0, 100 ms]")
            self.ringCapacity = ringCapacity
            self.flushInterval = flushInterval
            self.synchronousSteps = synchronousSteps
            self.maxBlock = maxBlock
        }
    }

    public let path: String
    public let options: Options
    private let ring: EventRing
    private let wakeMask: Int
    private let writer: Writer
    private let closed = Atomic<Bool>(false)
    private let dropped = Atomic<Int>(0)
    private let thread: pthread_t

    /// Creates (truncates) `path`, writes the opening `[` and starts the writer thread.
    /// Record the ``RunHeader`` first.
    public init(path: String, options: Options = Options()) throws(TraceWriteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TraceWriteError(path: path, operation: "create", errno: errno) }
        self.path = path
        self.options = options
        ring = EventRing(capacity: options.ringCapacity)
        wakeMask = Swift.max(ring.capacity / 4, 1) - 1
        writer = Writer(fd: fd, ring: ring, flushInterval: options.flushInterval)
        writer.writeOpening()
        guard let thread = writer.start() else {
            _ = writer.finish()
            throw TraceWriteError(path: path, operation: "start the writer thread for", errno: EAGAIN)
        }
        self.thread = thread
    }

    deinit {
        try? close()
    }

    /// Events dropped because the ring stayed full for ``Options/maxBlock``.
    public var droppedEvents: Int { dropped.load(ordering: .relaxed) }

    /// Events written to the file so far.
    public var writtenEvents: Int { writer.written.load(ordering: .acquiring) }

    /// Copies `event` into the ring. Thread-safe, lock-free, no allocation; O(1).
    public func record(_ event: TraceEvent) {
        if let ticket = ring.push(event) {
            if ticket & wakeMask == wakeMask { writer.wake() }
            return
        }
        recordWhenFull(event)
    }

    /// The slow path: wait for the writer to free a slot, or drop.
    @inline(never)
    private func recordWhenFull(_ event: TraceEvent) {
        guard !closed.load(ordering: .relaxed) else {
            dropped.add(1, ordering: .relaxed)
            return
        }
        let deadline = MonotonicClock.absoluteNow() + options.maxBlock
        repeat {
            writer.wake()
            sched_yield()
            if ring.push(event) != nil { return }
        } while MonotonicClock.absoluteNow() < deadline
        dropped.add(1, ordering: .relaxed)
    }

    /// Wakes the writer so the step's events reach the file now; with
    /// ``Options/synchronousSteps``, waits until they have.
    public func stepCompleted() {
        if options.synchronousSteps { flush() } else { writer.wake() }
    }

    /// Blocks until every event recorded before the call is written to the file.
    public func flush() {
        let target = ring.enqueued
        while writer.written.load(ordering: .acquiring) < target && !writer.failed {
            writer.wake()
            usleep(50)
        }
    }

    /// Drains the ring, writes the closing `]`, stops the writer and closes the file.
    /// Idempotent. Throws if any write failed (the trace is then incomplete).
    public func close() throws(TraceWriteError) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writer.stop()
        pthread_join(thread, nil)
        if let code = writer.finish() {
            throw TraceWriteError(path: path, operation: "write", errno: code)
        }
    }
}

/// The writer thread's state: the encoder, the file, the wake-up semaphore.
private final class Writer: @unchecked Sendable {
    let fd: Int32
    let ring: EventRing
    let flushInterval: Int64
    /// Events written so far (for `flush`).
    let written = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let errorCode = Atomic<Int32>(0)
    private var semaphore = sem_t()
    private var encoder = TraceEncoder()

    init(fd: Int32, ring: EventRing, flushInterval: Int64) {
        self.fd = fd
        self.ring = ring
        self.flushInterval = flushInterval
        sem_init(&semaphore, 0, 0)
    }

    deinit { sem_destroy(&semaphore) }

    var failed: Bool { errorCode.load(ordering: .relaxed) != 0 }

    func writeOpening() {
        encoder.appendOpening()
        writeBuffered()
    }

    func wake() { sem_post(&semaphore) }

    func stop() {
        stopping.store(true, ordering: .releasing)
        wake()
    }

    /// Starts the thread running ``run()``.
    func start() -> pthread_t? {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            let writer = Unmanaged<Writer>.fromOpaque(context!).takeRetainedValue()
            writer.run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Writer>.fromOpaque(context).release()
            return nil
        }
        return thread
    }

    private func run() {
        while !stopping.load(ordering: .acquiring) {
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            let nanos = Int64(deadline.tv_nsec) + flushInterval
            deadline.tv_sec += Int(nanos / 1_000_000_000)
            deadline.tv_nsec = Int(nanos % 1_000_000_000)
            _ = sem_timedwait(&semaphore, &deadline)
            drain()
        }
    }

    /// Formats and writes every published event.
    private func drain() {
        var count = 0
        while let event = ring.pop() {
            encoder.append(event)
            count += 1
            if encoder.byteCount >= 1 << 20 { writeBuffered() }
        }
        writeBuffered()
        if count > 0 { written.add(count, ordering: .releasing) }
    }

    private func writeBuffered() {
        guard encoder.byteCount > 0 else { return }
        if errorCode.load(ordering: .relaxed) == 0 {
            let ok = encoder.withUnsafeBytes { writeAll(fd, $0) }
            if !ok { errorCode.store(errno == 0 ? EIO : errno, ordering: .relaxed) }
        }
        encoder.removeAll()
    }

    /// After the thread stopped (or never started): drain, close the array, close the file.
    /// Returns the errno of the first failed write, if any.
    func finish() -> Int32? {
        drain()
        encoder.appendClosing()
        writeBuffered()
        if Glibc.close(fd) != 0 && errorCode.load(ordering: .relaxed) == 0 {
            errorCode.store(errno, ordering: .relaxed)
        }
        let code = errorCode.load(ordering: .relaxed)
        return code == 0 ? nil : code
    }
}

/// Writes all of `bytes` to `fd`, retrying on short writes and EINTR. False on error.
private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        offset += n
    }
    return true
}
