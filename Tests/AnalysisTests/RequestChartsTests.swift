import Testing
import TraceFormat
@testable import Reporting

/// The HTML report's request charts: the collector's per-request spans and latency samples agree
/// with the events, the page draws both charts, and point labels never overlap.
@Suite struct RequestChartsTests {
    static func events() -> [TraceEvent] {
        func r(_ id: Int, _ kind: RequestEvent.Kind, _ ms: Int64, tokens: Int32? = nil) -> TraceEvent {
            .request(RequestEvent(request: RequestID(id), kind: kind, time: ms * 1_000_000, promptTokens: kind == .arrival ? 8 : nil, tokens: tokens))
        }
        return [
            r(0, .arrival, 0), r(0, .firstToken, 100), r(0, .token, 110), r(0, .token, 130), r(0, .finished, 130),
            r(1, .arrival, 50), r(1, .firstToken, 250), r(1, .token, 260, tokens: 4), r(1, .finished, 260),
            r(2, .arrival, 60), r(2, .aborted, 90),
        ]
    }

    @Test func samplesFollowTheEvents() {
        var c = TimelineCollector()
        for e in Self.events() { c.consume(e) }
        let t = c.finish()
        #expect(t.requests.count == 3)
        #expect(t.requests[2].aborted && t.requests[2].firstToken == nil)
        #expect(t.ttft == [0.1, 0.2])
        #expect(t.e2e == [0.13, 0.21])
        // Request 0: 3 tokens over 30 ms after the first → 15 ms; request 1: 5 tokens over 10 ms → 2.5 ms.
        #expect(zip(t.tpot, [0.0025, 0.015]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(t.itl, [0.01, 0.01, 0.02]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func labelsOfCoincidentPointsDoNotOverlap() throws {
        var plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y", x: .log10(1, 1000), y: .log10(1, 1000))
        plot.point(10, 100, color: "#000", label: "decode: MFU 1%, MBU 80%")
        plot.point(10.5, 101, color: "#000", label: "verify: MFU 2%, MBU 70%")
        plot.note(10, 100, "ridge 295 FLOP/B")
        let svg = plot.placedLabels()
        let ys = svg.components(separatedBy: "<text ").dropFirst().compactMap { t -> Double? in
            guard let r = t.range(of: "y=\"") else { return nil }
            return Double(t[r.upperBound...].prefix { $0 != "\"" })
        }
        #expect(ys.count == 3)
        let sorted = ys.sorted()
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $1 - $0 >= 10 }, "\(ys)")
    }
}
