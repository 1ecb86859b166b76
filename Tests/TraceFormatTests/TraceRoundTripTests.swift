import Testing
@testable import TraceFormat

/// Writes events and reads them back: they must come back equal, in order, with no diagnostics.
func roundTrip(_ events: [TraceEvent], closed: Bool = true) -> (events: [TraceEvent], reader: TraceReader) {
    let bytes = TraceEncoder.encode(events, closed: closed)
    let reader = TraceReader(bytes: bytes, options: .init(bufferSize: 64))
    return (Array(reader), reader)
}

@Suite struct TraceRoundTripTests {
    @Test func everyEventKindRoundTrips() {
        var synth = SyntheticTrace(seed: 1)
        let events: [TraceEvent] = [
            .header(synth.header()),
            .step(StepEvent(step: 3, phase: .mixed, start: 1_234_567, duration: 890, lane: 1,
                            batch: [BatchEntry(request: 7, prefillTokens: 128, decodeTokens: 0, contextLength: 0),
                                    BatchEntry(request: 8, prefillTokens: 0, decodeTokens: 1, contextLength: 512)],
                            flops: 1.5e12, bytes: 3.25e9)),
            .step(StepEvent(step: 4, phase: .idle, start: 2_000_000, duration: 0)),
            .request(RequestEvent(request: 7, kind: .arrival, time: 10, promptTokens: 128)),
            .request(RequestEvent(request: 7, kind: .scheduled, time: 11, cachedTokens: 64)),
            .request(RequestEvent(request: 7, kind: .firstToken, time: 12, tokens: 1)),
            .request(RequestEvent(request: 7, kind: .token, time: 13, tokens: 3)),
            .request(RequestEvent(request: 7, kind: .preempted, time: 14, reason: "swap")),
            .request(RequestEvent(request: 7, kind: .resumed, time: 15)),
            .request(RequestEvent(request: 7, kind: .finished, time: 16, promptTokens: 128, tokens: 40)),
            .request(RequestEvent(request: 9, kind: .aborted, time: 17, tokens: 2, reason: "client \"gone\"",
                                  externalID: "cmpl-9")),
            .kvCache(KVCacheCounters(time: 20, pool: "kv.decode", blocksTotal: 100, blocksUsed: 40, blockSize: 16,
                                     tokensStored: 600, bytesUsed: 1 << 30, swappedBlocks: 2, slackTokens: 40,
                                     reservedTokens: 8, sharedBlocks: 3, running: 4, waiting: 5)),
            .speculation(SpeculationCounters(time: 21, step: 4, draftLength: 4, drafted: 8, accepted: 5,
                                             perRequest: [.init(request: 7, drafted: 4, accepted: 3),
                                                          .init(request: 8, drafted: 4, accepted: 2)])),
            .transfer(TransferEvent(kind: .swapOut, start: 22, duration: 5, bytes: 4096, blocks: 1, request: 7,
                                    destination: "host")),
            .transfer(TransferEvent(kind: .handoff, start: 23, duration: 6, bytes: 8192, blocks: 2,
                                    destination: "decode-worker")),
        ]
        let (read, reader) = roundTrip(events)
        #expect(reader.diagnostics == [])
        #expect(read == events)
        for kind in TransferEvent.Kind.allCases {
            let e = TraceEvent.transfer(TransferEvent(kind: kind, start: 1, duration: 1, bytes: 1, blocks: 1, destination: "x"))
            #expect(roundTrip([events[0], e]).events == [events[0], e])
        }
        for phase in Phase.allCases {
            let e = TraceEvent.step(StepEvent(step: 1, phase: phase, start: 1, duration: 1))
            #expect(roundTrip([events[0], e]).events == [events[0], e])
        }
    }

    @Test(arguments: 0..<40)
    func seededRandomSequencesRoundTrip(seed: Int) {
        var synth = SyntheticTrace(seed: UInt64(seed), adversarial: seed % 2 == 0)
        let events = synth.events(200)
        let (read, reader) = roundTrip(events, closed: seed % 3 != 0)
        #expect(reader.errorCount == 0, "\(reader.diagnostics)")
        #expect(read.count == events.count)
        for (i, (a, b)) in zip(read, events).enumerated() where a != b {
            Issue.record("seed \(seed), event \(i) differs:\n  wrote \(b)\n  read  \(a)")
            break
        }
    }

    @Test func timestampsAreMicrosecondsWithThreeFractionDigits() {
        var out = JSONOutput()
        for ns: Int64 in [0, 1, 999, 1000, 1_234_567, -1, -1_500, Int64.max, Int64.min] {
            out.microseconds(ns)
            out.raw(" ")
        }
        #expect(String(decoding: out.bytes, as: UTF8.self)
            == "0.000 0.001 0.999 1.000 1234.567 -0.001 -1.500 9223372036854775.807 -9223372036854775.808 ")
    }

    @Test func doublesRoundTripBitExactly() throws {
        var rng = SplitMix64(seed: 99)
        var values: [Double] = [0, -0.0, 1, 0.1, 1e-7, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, Double(bitPattern: 0x437B_69B4_BA63_0F35), 1e22, Double(bitPattern: 0x44B5_2D02_C7E1_4AF6)]
        for _ in 0..<5000 {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { values.append(d) }
        }
        for value in values {
            var out = JSONOutput()
            out.double(value)
            let bytes = out.bytes
            let parsed = try bytes.withUnsafeBufferPointer { buffer in
                var scanner = JSONScanner(buffer.baseAddress!, Span(start: 0, end: buffer.count))
                return try scanner.readDouble()
            }
            #expect(parsed?.bitPattern == value.bitPattern, "\(value) → \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func readsMicrosecondsFromForeignPrecision() throws {
        func ns(_ text: String) throws -> Int64 {
            let bytes = Array(text.utf8)
            return try bytes.withUnsafeBufferPointer { buffer in
                var scanner = JSONScanner(buffer.baseAddress!, Span(start: 0, end: buffer.count))
                return try scanner.readMicroseconds()
            }
        }
        #expect(try ns("12") == 12_000)
        #expect(try ns("12.5") == 12_500)
        #expect(try ns("12.0004") == 12_000)
        #expect(try ns("12.0005") == 12_001)
        #expect(try ns("1.5e3") == 1_500_000)
        #expect(try ns("-3.25") == -3_250)
    }

    @Test func fileWriterAndReaderRoundTrip() throws {
        let path = temporaryPath("roundtrip.json")
        var synth = SyntheticTrace(seed: 5)
        let events = synth.events(3000)
        try TraceWriter.write(events, to: path)
        let loaded = try TraceReader.readAll(path: path, options: .init(strict: true, bufferSize: 4096))
        #expect([.header(loaded.header)] + loaded.events == events)
        #expect(loaded.warnings.isEmpty)
    }
}
