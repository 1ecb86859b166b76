#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed set of persistent worker threads that run data-parallel loops.
///
/// The threads are created once, in `init`, and live as long as the pool. A parallel call
/// publishes its loop as `chunkCount` chunks; the calling thread (worker 0) and every worker
/// that wakes in time claim chunks from a shared counter until none are left. The caller then
/// closes the call and waits only for workers that actually joined it — never for a worker
/// that the OS has not scheduled yet — so a descheduled thread on a busy host delays a loop by
/// at most one chunk instead of stalling it. Nothing is allocated per call: the body is
/// passed by reference to the caller's stack frame for the duration of the call.
///
/// Workers spin briefly after a call (a decode step issues hundreds of short parallel loops
/// back to back) and then sleep on a condition variable, so an idle pool costs no CPU.
///
/// Calls from several threads are serialized (one loop runs at a time). The pool is not
/// re-entrant: a body must not call back into its own pool.
///
/// - Complexity: a call costs O(threads + chunks) atomic operations plus the body.
public final class ThreadPool: @unchecked Sendable {
    /// Threads that run a parallel loop, including the calling thread.
    public let threadCount: Int

    /// Incremented once per parallel call; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// The current call's admission gate: `generation << 21 | closed << 20 | joined workers`.
    private let gate = Atomic<Int>(0)
    /// Next unclaimed chunk of the current call.
    private let nextChunk = Atomic<Int>(0)
    /// Workers currently blocked on `wake`.
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    private static let closedBit = 1 << 20
    private static let joinedMask = (1 << 20) - 1

    private var mutex = pthread_mutex_t()
    /// Held for the duration of a call, so concurrent callers take turns.
    private var callMutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var threads: [pthread_t] = []

    /// The current call: `job(chunk, worker)` for chunks `0..<chunkCount`. Set only while a
    /// call is in flight.
    private var job: ((Int, Int) -> Void)?
    private var chunkCount = 0

    /// Spin iterations before a waiting worker goes to sleep (≈ tens of microseconds).
    private let spinLimit: Int

    /// Creates a pool of `threadCount` threads (default: every online core). The calling
    /// thread of each parallel call is one of them, so `threadCount - 1` threads are started.
    public init(threadCount: Int = ThreadPool.onlineCores, spinLimit: Int = 200_000) {
        precondition(threadCount >= 1 && threadCount < 1 << 20, "ThreadPool needs at least one thread, got \(threadCount)")
        self.threadCount = threadCount
        self.spinLimit = spinLimit
        pthread_mutex_init(&mutex, nil)
        pthread_mutex_init(&callMutex, nil)
        pthread_cond_init(&wake, nil)
        for worker in 1..<threadCount {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, worker: worker)).toOpaque()
            #if canImport(Glibc)
            var thread = pthread_t()
            #else
            var thread: pthread_t? = nil
            #endif
            let status = pthread_create(&thread, nil, { raw in
                #if canImport(Glibc)
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                #else
                let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                #endif
                context.pool.workerLoop(context.worker)
                return nil
            }, context)
            precondition(status == 0, "ThreadPool: pthread_create failed with error \(status)")
            #if canImport(Glibc)
            threads.append(thread)
            #else
            threads.append(thread!)
            #endif
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(&wake)
        pthread_mutex_destroy(&mutex)
        pthread_mutex_destroy(&callMutex)
    }

    /// Online logical CPUs of this machine.
    public static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    // MARK: - Parallel loops

    /// Runs `body(part)` for `part` in `0..<threadCount`, in parallel as far as threads are
    /// available (a thread that is late leaves its part to the others). Use it to split work
    /// into exactly one part per thread.
    public func forEachWorker(_ body: (_ part: Int) -> Void) {
        run(chunks: threadCount) { chunk, _ in body(chunk) }
    }

    /// Splits `0..<count` into near-equal contiguous ranges (a few per thread, so a late
    /// thread's share is taken by the others) and runs `body(range)` for each in parallel.
    /// Best when every index costs the same (matrix rows, tokens).
    public func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let parts = min(count, threadCount == 1 ? 1 : 4 * threadCount)
        run(chunks: parts) { chunk, _ in body(ThreadPool.share(of: count, part: chunk, parts: parts)) }
    }

    /// Runs `body(range, worker)` over `0..<count` in chunks of `grain` indices claimed
    /// dynamically by whichever thread is free. Use it when indices cost different amounts
    /// (causal attention rows). `worker` (in `0..<threadCount`) identifies the running thread,
    /// for per-thread scratch memory: no two chunks run on the same worker at once.
    public func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>, _ worker: Int) -> Void) {
        if count <= 0 { return }
        let grain = max(1, grain)
        let chunks = (count + grain - 1) / grain
        run(chunks: chunks) { chunk, worker in body((chunk * grain)..<min(count, (chunk + 1) * grain), worker) }
    }

    /// The `part`-th of `parts` near-equal contiguous ranges of `0..<count`.
    @inlinable
    public static func share(of count: Int, part: Int, parts: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }

    /// Publishes `chunks` chunks of `body`, works on them, and returns when every chunk is done.
    private func run(chunks: Int, _ body: (_ chunk: Int, _ worker: Int) -> Void) {
        if chunks <= 0 { return }
        if threadCount == 1 || chunks == 1 {
            for chunk in 0..<chunks { body(chunk, 0) }
            return
        }
        pthread_mutex_lock(&callMutex)
        defer { pthread_mutex_unlock(&callMutex) }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            chunkCount = chunks
            nextChunk.store(0, ordering: .relaxed)
            let current = generation.load(ordering: .relaxed) + 1
            gate.store(current << 21, ordering: .releasing)
            generation.store(current, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(&mutex)
                pthread_cond_broadcast(&wake)
                pthread_mutex_unlock(&mutex)
            }
            while true {
                let chunk = nextChunk.add(1, ordering: .relaxed).oldValue
                if chunk >= chunks { break }
                escapable(chunk, 0)
            }
            // Admit no more workers; wait for those that joined to finish their chunks.
            gate.bitwiseOr(ThreadPool.closedBit, ordering: .acquiringAndReleasing)
            var spins = 0
            while gate.load(ordering: .acquiring) & ThreadPool.joinedMask != 0 {
                spins += 1
                if spins > 100_000 { sched_yield() }
            }
            job = nil
        }
    }

    // MARK: - Workers

    private func workerLoop(_ worker: Int) {
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins > spinLimit {
                    pthread_mutex_lock(&mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        pthread_cond_wait(&wake, &mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(&mutex)
                    spins = 0
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if stopping.load(ordering: .sequentiallyConsistent) { return }
            // Join the call if it is still open, then claim chunks until none are left.
            var state = gate.load(ordering: .acquiring)
            var joined = false
            while state >> 21 == current && state & ThreadPool.closedBit == 0 {
                let (exchanged, original) = gate.compareExchange(expected: state, desired: state + 1, ordering: .acquiringAndReleasing)
                if exchanged { joined = true; break }
                state = original
            }
            guard joined else { continue }
            do {  // the copy of the body must be gone before the gate is released
                let body = job!, chunks = chunkCount
                while true {
                    let chunk = nextChunk.add(1, ordering: .relaxed).oldValue
                    if chunk >= chunks { break }
                    body(chunk, worker)
                }
            }
            gate.subtract(1, ordering: .releasing)
        }
    }

    private final class WorkerContext {
        /// Unretained: the pool's deinit joins every worker before its memory goes away (a
        /// thread may start only after the pool's last strong reference is gone).
        unowned(unsafe) let pool: ThreadPool
        let worker: Int
        init(pool: ThreadPool, worker: Int) {
            self.pool = pool
            self.worker = worker
        }
    }
}
