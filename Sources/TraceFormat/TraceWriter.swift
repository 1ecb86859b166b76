#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a v1 trace file synchronously, one event per line (see ``TraceEncoder`` for the
/// framing). For producers that build a whole trace at once: importers, sample generators,
/// tests. Inference loops record through `Tracing.FileTraceRecorder` instead, which keeps the
/// formatting and the I/O off the hot path.
///
/// Events are buffered and written with `write(2)` when the buffer passes ``flushThreshold``
/// bytes, on ``flush()`` and on ``close()``, which also writes the closing `]`. A writer that is
/// never closed leaves a valid trace without `]` (up to the last flush). Not thread-safe.
public final class TraceWriter {
    /// Buffered bytes that trigger a write.
    public let flushThreshold: Int
    public let path: String
    private var fd: Int32
    private var encoder = TraceEncoder()

    /// Creates (or truncates) the file at `path` and writes the opening `[`.
    public init(path: String, flushThreshold: Int = 1 << 16) throws(TraceWriteError) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TraceWriteError(path: path, operation: "create", errno: errno) }
        self.path = path
        self.flushThreshold = flushThreshold
        encoder.appendOpening()
    }

    deinit {
        if fd >= 0 { try? flush(); Glibc.close(fd) }
    }

    /// Appends one event (written out once enough bytes are buffered).
    public func write(_ event: TraceEvent) throws(TraceWriteError) {
        encoder.append(event)
        if encoder.byteCount >= flushThreshold { try flush() }
    }

    /// Writes everything buffered to the file.
    public func flush() throws(TraceWriteError) {
        guard fd >= 0 else { return }
        let ok = encoder.withUnsafeBytes { writeAll(fd, $0) }
        encoder.removeAll()
        guard ok else { throw TraceWriteError(path: path, operation: "write", errno: errno) }
    }

    /// Writes the closing `]`, flushes and closes the file. Idempotent.
    public func close() throws(TraceWriteError) {
        guard fd >= 0 else { return }
        encoder.appendClosing()
        try flush()
        let result = Glibc.close(fd)
        fd = -1
        guard result == 0 else { throw TraceWriteError(path: path, operation: "close", errno: errno) }
    }

    /// Writes `events` to `path` as a complete, closed trace.
    public static func write(_ events: some Sequence<TraceEvent>, to path: String) throws(TraceWriteError) {
        let writer = try TraceWriter(path: path)
        for event in events { try writer.write(event) }
        try writer.close()
    }
}

/// Writes all of `bytes` to `fd`, retrying on short writes and EINTR. False on error (errno set).
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        offset += n
    }
    return true
}

/// A trace file could not be written.
public struct TraceWriteError: Error, Sendable, CustomStringConvertible {
    public var path: String
    /// "create", "write" or "close".
    public var operation: String
    public var code: Int32

    public init(path: String, operation: String, errno code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
    }

    public var description: String {
        "cannot \(operation) the trace file '\(path)': \(String(cString: strerror(code)))"
    }
}
