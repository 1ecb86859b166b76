import TraceFormat

/// Where recorded events go. Implementations own their buffers and are thread-safe.
///
/// `record` is on the hot path of an inference loop: an implementation must not format JSON or
/// allocate per event there (the file recorder copies the value into a preallocated ring and
/// formats on a background thread).
public protocol TraceSink: AnyObject, Sendable {
    /// Records one event. Thread-safe. Must not block on I/O.
    func record(_ event: TraceEvent)
    /// Marks the end of an engine step: everything recorded so far must reach durable storage
    /// soon (the file recorder writes it out within its flush interval), so that a process killed
    /// after this call loses nothing recorded before it.
    func stepCompleted()
}

/// A source of trace timestamps (nanoseconds since an origin the clock chooses).
public protocol TraceClock: Sendable {
    func now() -> TraceTime
    /// A name for the run header's `clock` field, e.g. "CLOCK_MONOTONIC".
    var name: String { get }
}

/// The handle instrumented code holds: a sink (or none) and a clock.
///
/// Pass it in; never reach for a global. With no sink (``Tracer/disabled``) every call is a
/// branch on `nil` and the event-building closure is never evaluated, so disabled tracing costs
/// nothing measurable.
public struct Tracer: Sendable {
    public let sink: (any TraceSink)?
    public let clock: any TraceClock

    public init(sink: (any TraceSink)?, clock: any TraceClock) {
        self.sink = sink
        self.clock = clock
    }

    /// Whether events are recorded. Check it before computing anything only a trace needs.
    @inlinable public var isEnabled: Bool { sink != nil }

    /// Records the event if tracing is enabled; `event` is not evaluated otherwise.
    @inlinable public func record(_ event: @autoclosure () -> TraceEvent) {
        if let sink { sink.record(event()) }
    }

    /// The clock's current time.
    @inlinable public func now() -> TraceTime { clock.now() }

    /// See ``TraceSink/stepCompleted()``.
    @inlinable public func stepCompleted() { sink?.stepCompleted() }
}
