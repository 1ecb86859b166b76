#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed set of persistent worker threads that run data-parallel loops.
///
/// The threads are created once, in `init`, and live as long as the pool. A parallel call
/// publishes the loop body to the workers, runs its own share on the calling thread (which
/// counts as worker 0) and returns when every share is done. Nothing is allocated per call:
/// the body is passed by reference to the caller's stack frame for the duration of the call.
///
/// Workers spin briefly after a call (a decode step issues hundreds of short parallel loops
/// back to back) and then sleep on a condition variable, so an idle pool costs no CPU.
///
/// Calls from several threads are serialized (one loop runs at a time). The pool is not
/// re-entrant: a body must not call back into its own pool.
///
/// - Complexity: a call costs O(threads) atomic operations plus the body.
public final class ThreadPool: @unchecked Sendable {
    /// Threads that run a parallel loop, including the calling thread.
    public let threadCount: Int

    /// Incremented once per parallel call; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Workers that have not finished the current call.
    private let pending = Atomic<Int>(0)
    /// Next unclaimed chunk of a dynamically scheduled loop.
    private let nextChunk = Atomic<Int>(0)
    /// Workers currently blocked on `wake`.
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    private var mutex = pthread_mutex_t()
    /// Held for the duration of a call, so concurrent callers take turns.
    private var callMutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var threads: [pthread_t] = []

    /// The body of the current call: `job(worker)`. Set only while a call is in flight.
    private var job: ((Int) -> Void)?

    /// Spin iterations before a waiting worker goes to sleep (≈ tens of microseconds).
    private let spinLimit: Int

    /// Creates a pool of `threadCount` threads (default: every online core). The calling
    /// thread of each parallel call is one of them, so `threadCount - 1` threads are started.
    public init(threadCount: Int = ThreadPool.onlineCores, spinLimit: Int = 200_000) {
        precondition(threadCount >= 1, "ThreadPool needs at least one thread, got \(threadCount)")
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

    /// Runs `body(worker)` once on each of the `threadCount` threads (worker 0 is the caller)
    /// and returns when all have finished. The primitive the other loops are built on; use it
    /// when each thread needs its own scratch memory indexed by `worker`.
    public func forEachWorker(_ body: (_ worker: Int) -> Void) {
        dispatch(body, resetChunks: false)
    }

    private func dispatch(_ body: (_ worker: Int) -> Void, resetChunks: Bool) {
        if threadCount == 1 { body(0); return }
        pthread_mutex_lock(&callMutex)
        defer { pthread_mutex_unlock(&callMutex) }
        if resetChunks { nextChunk.store(0, ordering: .relaxed) }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            pending.store(threadCount - 1, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(&mutex)
                pthread_cond_broadcast(&wake)
                pthread_mutex_unlock(&mutex)
            }
            escapable(0)
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                spins += 1
                if spins > 1_000_000 { sched_yield() }
            }
            job = nil
        }
    }

    /// Splits `0..<count` into at most `threadCount` contiguous ranges of near-equal size and
    /// runs `body(range)` for each in parallel. Empty ranges are not passed. Static
    /// partitioning: best when every index costs the same (matrix rows, vector slices).
    public func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let parts = min(count, threadCount)
        if parts == 1 { body(0..<count); return }
        forEachWorker { worker in
            guard worker < parts else { return }
            body(ThreadPool.share(of: count, part: worker, parts: parts))
        }
    }

    /// Runs `body(range, worker)` over `0..<count` in chunks of `grain` indices claimed
    /// dynamically by whichever thread is free. Use it when indices cost different amounts
    /// (causal attention rows). `worker` indexes per-thread scratch memory.
    public func parallelFor(_ count: Int, grain: Int, _ body: (Range<Int>, _ worker: Int) -> Void) {
        if count <= 0 { return }
        let grain = max(1, grain)
        if threadCount == 1 || count <= grain { body(0..<count, 0); return }
        dispatch({ worker in
            while true {
                let start = nextChunk.add(grain, ordering: .relaxed).oldValue
                if start >= count { break }
                body(start..<min(count, start + grain), worker)
            }
        }, resetChunks: true)
    }

    /// The `part`-th of `parts` near-equal contiguous ranges of `0..<count`.
    @inlinable
    public static func share(of count: Int, part: Int, parts: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
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
            job!(worker)
            pending.subtract(1, ordering: .releasing)
        }
    }

    private final class WorkerContext {
        unowned let pool: ThreadPool
        let worker: Int
        init(pool: ThreadPool, worker: Int) {
            self.pool = pool
            self.worker = worker
        }
    }
}
