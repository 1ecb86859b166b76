import Testing
@testable import TraceFormat

@Suite struct TraceTruncationTests {
    /// A small trace of every event kind, closed.
    static let sample: [UInt8] = {
        var synth = SyntheticTrace(seed: 11)
        var events = synth.events(24)
        events.append(.request(RequestEvent(request: 1, kind: .aborted, time: 99, reason: "é \"q\" \\ ok")))
        return TraceEncoder.encode(events)
    }()

    static let sampleEvents: [TraceEvent] = Array(TraceReader(bytes: sample))

    /// Every prefix of the sample: the reader never crashes; it returns a prefix of the events
    /// and either a truncation warning (exit 0) or a precise error (no header yet).
    @Test func truncatedAtEveryByteOffset() {
        let bytes = Self.sample
        let full = Self.sampleEvents
        #expect(full.count == 26)
        // Byte offset where the header line ends (after it, every prefix has a header).
        let headerEnd = bytes.firstIndex(of: UInt8(ascii: "}"))!  // inside the header: any earlier cut loses it
        for cut in 0..<bytes.count {
            let reader = TraceReader(bytes: Array(bytes[0..<cut]), options: .init(bufferSize: 64))
            let events = Array(reader)
            #expect(Array(full.prefix(events.count)) == events, "cut \(cut): not a prefix")
            if reader.hasErrors {
                // Only a cut before the header is complete may fail, and it says why.
                #expect(events.isEmpty, "cut \(cut)")
                #expect(reader.diagnostics.count == 1, "cut \(cut): \(reader.diagnostics)")
                let message = reader.diagnostics.first?.message ?? ""
                #expect(message.hasPrefix("empty file") || message.hasPrefix("the run header is cut off")
                        || message.hasPrefix("no run header"), "cut \(cut): \(message)")
            } else if cut >= bytes.count - 1 {
                // Only the final newline is missing: a complete trace.
                #expect(events == full)
                #expect(reader.diagnostics.isEmpty)
                continue
            } else {
                #expect(cut > headerEnd, "cut \(cut) accepted without a header")
                #expect(events.first.map { if case .header = $0 { true } else { false } } == true)
                #expect(reader.warningCount >= 1, "cut \(cut): a truncated trace must warn")
                #expect(reader.diagnostics.allSatisfy { $0.severity == .warning })
            }
            // Strict mode: the same prefix is an error.
            let strict = TraceReader(bytes: Array(bytes[0..<cut]), options: .init(strict: true))
            _ = Array(strict)
            #expect(strict.hasErrors, "cut \(cut): strict mode accepted a truncated trace")
        }
        let whole = TraceReader(bytes: bytes, options: .init(strict: true))
        #expect(Array(whole) == full)
        #expect(whole.diagnostics.isEmpty)
    }

    @Test func missingBracketIsAWarningAndLastEventIsKept() {
        var synth = SyntheticTrace(seed: 3)
        let events = synth.events(5)
        let reader = TraceReader(bytes: TraceEncoder.encode(events, closed: false))
        #expect(Array(reader) == events)
        #expect(reader.diagnostics.map(\.description) == [
            "warning: the trace ends without its closing ']' (the writer did not close it: it crashed or is still running)",
        ])
    }

    @Test func cutLastLineIsAWarningNamingTheLine() {
        var synth = SyntheticTrace(seed: 3)
        let events = synth.events(5)
        var bytes = TraceEncoder.encode(events, closed: false)
        bytes.removeLast(7)
        let reader = TraceReader(bytes: bytes)
        #expect(Array(reader) == Array(events.prefix(5)))
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
        #expect(reader.diagnostics.map(\.description) == [
            "line \(lines): warning: the last event is cut off (the writer stopped mid-line, e.g. it crashed); it was dropped",
        ])
    }
}
