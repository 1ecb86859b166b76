import Testing
@testable import ServingEngine

/// A long-running server's statistics hold only requests in flight; a batch run keeps them all.
@Suite struct RunStatisticsMemoryTests {
    static func serve(_ stats: RunStatistics, requests: Int) {
        for id in UInt64(0)..<UInt64(requests) {
            let t = Int64(id) * 1_000
            stats.arrived(id, prompt: 8, at: t)
            stats.tokens(id, [1], at: t + 10)
            stats.tokens(id, [2, 3], at: t + 20)
            if id % 7 == 0 { stats.aborted(id, reason: "client", at: t + 30) } else { stats.finished(id, at: t + 30) }
        }
    }

    @Test func onlineStatisticsStayBounded() {
        let stats = RunStatistics(retainRequests: false)
        Self.serve(stats, requests: 5_000)
        #expect(stats.heldRequests == 0)
        #expect(stats.heldGaps == 0)
        stats.arrived(9_999, prompt: 4, at: 0)
        stats.tokens(9_999, [1], at: 5)
        #expect(stats.heldRequests == 1, "a request in flight is held until it ends")
    }

    @Test func batchStatisticsKeepEveryRequest() {
        let stats = RunStatistics()
        Self.serve(stats, requests: 500)
        let r = stats.result(start: 0, end: 1_000_000)
        #expect(r.requests.count == 500)
        #expect(r.interTokenGaps.count == 500)
        #expect(r.requests.filter { $0.abortReason != nil }.count == (0..<500).filter { $0 % 7 == 0 }.count)
    }
}
