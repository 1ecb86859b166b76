import Testing
import TraceFormat
@testable import Reporting

/// The report's timeline conserves what it buckets: every nanosecond of step time lands in some
/// bucket's phase total and every token in some bucket's rate, whatever the bucket boundaries.
struct TimelineTests {
    static func steps(seed: UInt64, count: Int) -> [TraceEvent] {
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_000
        var events: [TraceEvent] = []
        for i in 0..<count {
            let duration = Int64(rng.next() % 20_000_000) + 1
            let phase: Phase = rng.next() % 3 == 0 ? .prefill : .decode
            let batch = (0..<Int(rng.next() % 6) + 1).map { r in
                BatchEntry(request: UInt64(r), prefillTokens: phase == .prefill ? Int32(rng.next() % 300) : 0,
                           decodeTokens: phase == .decode ? 1 : 0, contextLength: 10)
            }
            events.append(.step(StepEvent(step: Int64(i), phase: phase, start: t, duration: duration, batch: batch)))
            t += duration + Int64(rng.next() % 3_000_000)  // idle gaps
            if i % 4 == 0 {
                events.append(.kvCache(KVCacheCounters(time: t, blocksTotal: 100, blocksUsed: Int32(rng.next() % 101), blockSize: 16,
                                                       tokensStored: 0, bytesUsed: 0)))
            }
        }
        return events
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func bucketsConserveTimeAndTokens(seed: UInt64) {
        let events = Self.steps(seed: seed, count: 200)
        var collector = TimelineCollector()
        for e in events { collector.consume(e) }
        for buckets in [20, 37, 300] {
            let t = collector.finish(buckets: buckets)
            var stepSeconds = 0.0, prefill = 0.0, decode = 0.0
            for case .step(let s) in events {
                stepSeconds += Double(s.duration) / 1e9
                prefill += Double(s.prefillTokens)
                decode += Double(s.decodeTokens)
            }
            let bucketed = t.phaseSeconds.values.reduce(0) { $0 + $1.reduce(0, +) }
            #expect(abs(bucketed - stepSeconds) < 1e-9 * Double(events.count) + 1e-12)
            #expect(abs(t.prefillTokensPerSecond.reduce(0, +) * t.bucketSeconds - prefill) < 1e-6 * max(1, prefill))
            #expect(abs(t.decodeTokensPerSecond.reduce(0, +) * t.bucketSeconds - decode) < 1e-6 * max(1, decode))
            // No bucket holds more step time than its own length (steps never overlap here).
            for b in 0..<t.bucketStarts.count {
                let inBucket = t.phaseSeconds.values.reduce(0) { $0 + $1[b] }
                #expect(inBucket <= t.bucketSeconds * (1 + 1e-9))
            }
            #expect(t.bucketStarts.count <= buckets)
        }
    }

    @Test func kvUsageHoldsBetweenSamplesAndStartsAtTheFirst() {
        let events: [TraceEvent] = [
            .step(StepEvent(step: 0, phase: .decode, start: 0, duration: 1_000_000_000, batch: [])),
            .kvCache(KVCacheCounters(time: 250_000_000, blocksTotal: 10, blocksUsed: 5, blockSize: 16, tokensStored: 0, bytesUsed: 0)),
            .kvCache(KVCacheCounters(time: 260_000_000, blocksTotal: 10, blocksUsed: 7, blockSize: 16, tokensStored: 0, bytesUsed: 0)),
        ]
        var collector = TimelineCollector()
        for e in events { collector.consume(e) }
        let t = collector.finish(buckets: 20)
        let series = t.kvUsage["kv"] ?? []
        #expect(series.count == 20)
        #expect(series[0] == nil && series[4] == nil)  // before the first sample: unknown
        #expect(series[5] == 0.7)                       // the peak of the two samples in that interval
        #expect(series[19] == 0.7)                      // held to the end
    }

    @Test func emptyTraceGivesAnEmptyTimeline() {
        #expect(TimelineCollector().finish().isEmpty)
    }
}
