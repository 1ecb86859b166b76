#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat
import Tracing

@Suite struct RecorderTests {
    @Test func disabledTracerNeverBuildsTheEvent() {
        var built = 0
        func make() -> TraceEvent {
            built += 1
            return .step(StepEvent(step: 0, phase: .idle, start: 0, duration: 0))
        }
        let tracer = Tracer.disabled
        tracer.record(make())
        tracer.stepCompleted()
        #expect(!tracer.isEnabled)
        #expect(built == 0)

        let sink = InMemorySink()
        let enabled = Tracer(sink: sink, clock: ManualClock())
        enabled.record(make())
        enabled.stepCompleted()
        #expect(built == 1)
        #expect(sink.events.count == 1)
        #expect(sink.completedSteps == 1)
    }

    @Test func manualClockMovesOnlyWhenTold() {
        let clock = ManualClock(start: 5)
        #expect(clock.now() == 5)
        clock.advance(by: 10)
        #expect(clock.now() == 15)
        clock.set(100)
        #expect(clock.now() == 100)
    }

    @Test func monotonicClockStartsNearZeroAndNeverGoesBack() {
        let clock = MonotonicClock()
        var last = clock.now()
        #expect(last >= 0 && last < 1_000_000_000)
        for _ in 0..<1000 {
            let t = clock.now()
            #expect(t >= last)
            last = t
        }
        #expect(clock.name == "CLOCK_MONOTONIC")
    }

    /// Two threads record interleaved events through a small ring (so it wraps many times and
    /// fills up): every event arrives exactly once, each thread's events in order, and the
    /// closed file reads back with no diagnostics in strict mode.
    @Test func fileRecorderKeepsEveryEventFromTwoThreads() throws {
        let path = temporaryPath("recorder.json")
        let recorder = try FileTraceRecorder(path: path, options: .init(ringCapacity: 64, maxBlock: 10_000_000_000))
        var synth = SyntheticTrace(seed: 4)
        let header = synth.header()
        recorder.record(.header(header))
        let perThread = 3000
        let threads = (0..<2).map { lane in
            spawn {
                for i in 0..<perThread {
                    recorder.record(.step(StepEvent(step: Int64(i), phase: .decode, start: Int64(i), duration: 1,
                                                    lane: Int32(lane + 1),
                                                    batch: [BatchEntry(request: UInt64(i), prefillTokens: 0,
                                                                       decodeTokens: 1, contextLength: Int32(i))])))
                    if i % 100 == 0 { recorder.stepCompleted() }
                }
            }
        }
        for thread in threads { pthread_join(thread, nil) }
        try recorder.close()
        #expect(recorder.droppedEvents == 0)
        #expect(recorder.writtenEvents == 2 * perThread + 1)

        let loaded = try TraceReader.readAll(path: path, options: .init(strict: true))
        #expect(loaded.header == header)
        #expect(loaded.warnings.isEmpty)
        for lane in [Int32(1), 2] {
            let steps = loaded.events.compactMap { event -> Int64? in
                if case .step(let s) = event, s.lane == lane { return s.step }
                return nil
            }
            #expect(steps == (0..<Int64(perThread)).map { $0 }, "lane \(lane)")
        }
    }

    @Test func flushWritesEverythingRecordedBeforeIt() throws {
        let path = temporaryPath("flush.json")
        let recorder = try FileTraceRecorder(path: path, options: .init(flushInterval: 100_000_000))
        var synth = SyntheticTrace(seed: 9)
        let events = synth.events(50)
        for event in events { recorder.record(event) }
        recorder.flush()
        // Not closed: the file is a valid trace without its `]`.
        let reader = try TraceReader(path: path)
        #expect(Array(reader) == events)
        #expect(reader.errorCount == 0)
        #expect(reader.warningCount == 1)
        try recorder.close()
        let closed = try TraceReader(path: path, options: .init(strict: true))
        #expect(Array(closed) == events)
        #expect(closed.diagnostics.isEmpty)
    }

    @Test func droppingWhenFullIsCounted() throws {
        let path = temporaryPath("drop.json")
        // Closing first makes every later record take the drop path deterministically.
        let recorder = try FileTraceRecorder(path: path, options: .init(ringCapacity: 4, maxBlock: 0))
        try recorder.close()
        for i in 0..<10 {
            recorder.record(.step(StepEvent(step: Int64(i), phase: .idle, start: 0, duration: 0)))
        }
        // The ring holds 4; the rest are dropped (the writer is gone).
        #expect(recorder.droppedEvents == 6)
    }

    @Test func creatingInAMissingDirectoryFailsWithThePath() {
        #expect {
            _ = try FileTraceRecorder(path: "/nonexistent-dir/t.json")
        } throws: { error in
            "\(error)" == "cannot create the trace file '/nonexistent-dir/t.json': No such file or directory"
        }
    }
}

/// Runs `body` on a new POSIX thread.
func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box: @unchecked Sendable { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    return thread
}
