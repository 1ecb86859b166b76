import Testing
import Synchronization
import Kernels

@Suite struct ThreadPoolTests {
    @Test(arguments: [1, 2, 4])
    func staticLoopCoversEveryIndexOnce(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        for count in [0, 1, 3, 17, 1000] {
            let hits = Mutex([Int](repeating: 0, count: count))
            pool.parallelFor(count) { range in
                hits.withLock { for i in range { $0[i] += 1 } }
            }
            #expect(hits.withLock { $0.allSatisfy { $0 == 1 } }, "count \(count), \(threads) threads")
        }
    }

    @Test func dynamicLoopCoversEveryIndexOnceWithValidWorkers() {
        let pool = ThreadPool(threadCount: 3)
        let hits = Mutex([Int](repeating: 0, count: 501))
        let workers = Mutex(Set<Int>())
        for _ in 0..<20 {
            pool.parallelFor(501, grain: 7) { range, worker in
                workers.withLock { _ = $0.insert(worker) }
                hits.withLock { for i in range { $0[i] += 1 } }
            }
        }
        #expect(hits.withLock { $0.allSatisfy { $0 == 20 } })
        #expect(workers.withLock { $0.isSubset(of: [0, 1, 2]) })
    }

    @Test func eachWorkerRunsOncePerCallAcrossManyCalls() {
        let pool = ThreadPool(threadCount: 4, spinLimit: 10)  // short spin: exercises sleeping and waking
        let counts = Mutex([0, 0, 0, 0])
        for _ in 0..<300 {
            pool.forEachWorker { worker in counts.withLock { $0[worker] += 1 } }
        }
        #expect(counts.withLock { $0 } == [300, 300, 300, 300])
    }

    @Test func shareSplitsEvenly() {
        #expect(ThreadPool.share(of: 10, part: 0, parts: 3) == 0..<4)
        #expect(ThreadPool.share(of: 10, part: 1, parts: 3) == 4..<7)
        #expect(ThreadPool.share(of: 10, part: 2, parts: 3) == 7..<10)
    }
}

@Suite struct ThreadPoolLifetimeTests {
    /// Pools torn down before their threads have even started, or right after a loop that no
    /// worker joined, must shut down cleanly.
    @Test func shortLivedPoolsShutDownCleanly() {
        for i in 0..<50 {
            let pool = ThreadPool(threadCount: 3, spinLimit: i % 2 == 0 ? 10 : 100_000)
            if i % 3 == 0 {
                let total = Mutex(0)
                pool.parallelFor(10) { range in total.withLock { $0 += range.count } }
                #expect(total.withLock { $0 } == 10)
            }
        }
    }
}
