import Synchronization
import TraceFormat

/// Keeps every recorded event in memory, in order (tests, small in-process analyses).
/// Thread-safe (one lock per event); memory grows with the trace.
public final class InMemorySink: TraceSink {
    private let state = Mutex<(events: [TraceEvent], steps: Int)>(([], 0))

    public init() {}

    public func record(_ event: TraceEvent) {
        state.withLock { $0.events.append(event) }
    }

    public func stepCompleted() {
        state.withLock { $0.steps += 1 }
    }

    /// The events recorded so far.
    public var events: [TraceEvent] { state.withLock { $0.events } }

    /// How many times ``stepCompleted()`` was called.
    public var completedSteps: Int { state.withLock { $0.steps } }

    /// Forgets the recorded events.
    public func removeAll() { state.withLock { $0.events.removeAll() } }
}
