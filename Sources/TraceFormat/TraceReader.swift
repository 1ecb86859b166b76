#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a v1 trace one event at a time, from a file or from bytes in memory.
///
/// Streaming: the reader holds one buffer of ``Options/bufferSize`` bytes (grown only for a
/// longer line), so its memory does not depend on the length of the trace. Each line is
/// decoded by a hand-written scanner; O(bytes) overall.
///
/// Problems are collected as ``diagnostics`` instead of stopping at the first one, so a caller
/// can list every malformed event (`inferscope validate`):
/// - a malformed event is an error; it is skipped and reading continues;
/// - a trace without its closing `]`, or whose last line is cut off, is a warning by default
///   (that is what a crashed writer leaves) and an error with ``Options/strict``;
/// - a file that is not a trace (no `[`, no header first, another schema, an unknown major
///   version) is a fatal error: reading stops.
///
///     let reader = try TraceReader(path: "run.json")
///     for event in reader { … }
///     if reader.hasErrors { … reader.diagnostics … }
///
/// Not thread-safe: one reader per thread.
public final class TraceReader: Sequence, IteratorProtocol {
    public struct Options: Sendable {
        /// Turn truncation warnings (missing `]`, cut last line) into errors.
        public var strict: Bool
        /// Initial read buffer size in bytes.
        public var bufferSize: Int
        /// Longest line accepted, in bytes.
        public var maxLineLength: Int
        /// Diagnostics kept in ``TraceReader/diagnostics``; further ones are only counted.
        public var maxStoredDiagnostics: Int

        public init(strict: Bool = false, bufferSize: Int = 1 << 20, maxLineLength: Int = 1 << 28,
                    maxStoredDiagnostics: Int = 1000) {
            self.strict = strict
            self.bufferSize = bufferSize
            self.maxLineLength = maxLineLength
            self.maxStoredDiagnostics = maxStoredDiagnostics
        }
    }

    private enum Source {
        case file(Int32)
        case memory([UInt8], offset: Int)
    }

    private enum State { case opening, events, closed, finished }

    /// The file path, or "<memory>".
    public let sourceName: String
    public let options: Options
    /// The run header, once read (it is also returned as the first event).
    public private(set) var header: RunHeader? {
        didSet { hasHeader = header != nil }
    }
    /// `header != nil`, without copying the header on every event.
    private var hasHeader = false
    /// Problems found so far (at most ``Options/maxStoredDiagnostics``).
    public private(set) var diagnostics: [TraceDiagnostic] = []
    public private(set) var errorCount = 0
    public private(set) var warningCount = 0
    /// Lines read so far.
    public private(set) var lineNumber = 0
    /// Bytes consumed so far.
    public private(set) var bytesRead = 0
    /// Events of unknown kinds (a newer minor version) that were skipped.
    public private(set) var skippedUnknownEvents = 0

    public var hasErrors: Bool { errorCount > 0 }

    private var source: Source
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var lineStart = 0
    private var filled = 0
    private var sourceExhausted = false
    private var state = State.opening
    private var sawEvent = false

    /// Opens `path` for reading. Throws only if the file cannot be opened.
    public init(path: String, options: Options = Options()) throws(TraceReadError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw TraceReadError(source: path, diagnostics: [
                TraceDiagnostic(severity: .error, line: nil, message: "cannot open the file: \(reason)"),
            ])
        }
        sourceName = path
        self.options = options
        source = .file(fd)
        capacity = Swift.max(options.bufferSize, 64)
        buffer = .allocate(capacity: capacity)
    }

    /// Reads a trace held in memory.
    public init(bytes: [UInt8], sourceName: String = "<memory>", options: Options = Options()) {
        self.sourceName = sourceName
        self.options = options
        source = .memory(bytes, offset: 0)
        capacity = Swift.max(Swift.min(options.bufferSize, bytes.count + 1), 64)
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        if case .file(let fd) = source { close(fd) }
        buffer.deallocate()
    }

    /// The next event, or nil at the end of the trace (or after a fatal error).
    public func next() -> TraceEvent? {
        while state != .finished {
            guard let (span, terminated) = nextLine() else {
                finish()
                return nil
            }
            lineNumber += 1
            if let event = handleLine(span, terminated: terminated) { return event }
        }
        return nil
    }

    /// Reads the whole trace into memory; throws if there was any error (or, in strict mode,
    /// any warning). Convenience for small traces and tests.
    public static func readAll(path: String, options: Options = Options()) throws(TraceReadError) -> LoadedTrace {
        try TraceReader(path: path, options: options).readRemaining()
    }

    /// Reads a whole trace from bytes; see ``readAll(path:options:)``.
    public static func readAll(bytes: [UInt8], options: Options = Options()) throws(TraceReadError) -> LoadedTrace {
        try TraceReader(bytes: bytes, options: options).readRemaining()
    }

    /// Reads the remaining events; throws if there was any error.
    public func readRemaining() throws(TraceReadError) -> LoadedTrace {
        var events: [TraceEvent] = []
        while let event = next() {
            if case .header = event { continue }
            events.append(event)
        }
        guard !hasErrors, let header else { throw readError() }
        return LoadedTrace(header: header, events: events, warnings: diagnostics)
    }

    /// The error describing this reader's problems so far.
    public func readError() -> TraceReadError {
        TraceReadError(source: sourceName, diagnostics: diagnostics,
                       omitted: errorCount + warningCount - diagnostics.count)
    }

    // MARK: - Lines

    private func handleLine(_ span: Span, terminated: Bool) -> TraceEvent? {
        var scanner = JSONScanner(UnsafePointer(buffer), span)
        scanner.skipWhitespace()
        var content = Span(start: scanner.position, end: span.end)
        while content.end > content.start, isWhitespace(buffer[content.end - 1]) { content.end -= 1 }
        if content.count == 0 { return nil }

        switch state {
        case .opening:
            guard buffer[content.start] == UInt8(ascii: "[") else {
                fatal(line: lineNumber, "expected '[' (a trace is a JSON array, one event per line), found "
                      + JSONScanner(UnsafePointer(buffer), content).foundDescription())
                return nil
            }
            state = .events
            content.start += 1
            var rest = JSONScanner(UnsafePointer(buffer), content)
            rest.skipWhitespace()
            guard rest.position < content.end else { return nil }
            return handleEventLine(Span(start: rest.position, end: content.end), terminated: terminated)
        case .events:
            if content.count == 1 && buffer[content.start] == UInt8(ascii: "]") {
                state = .closed
                return nil
            }
            return handleEventLine(content, terminated: terminated)
        case .closed:
            report(.error, line: lineNumber, "unexpected content after the closing ']'")
            state = .finished
            return nil
        case .finished:
            return nil
        }
    }

    private func handleEventLine(_ line: Span, terminated: Bool) -> TraceEvent? {
        var body = line
        if buffer[body.end - 1] == UInt8(ascii: ",") {
            body.end -= 1
            while body.end > body.start, isWhitespace(buffer[body.end - 1]) { body.end -= 1 }
        } else if body.count >= 1 && buffer[body.end - 1] == UInt8(ascii: "]") && hasHeader {
            // `{...}]` — the last event and the closing bracket on one line.
            var inner = body
            inner.end -= 1
            while inner.end > inner.start, isWhitespace(buffer[inner.end - 1]) { inner.end -= 1 }
            if inner.end > inner.start && buffer[inner.end - 1] == UInt8(ascii: "}") {
                let event = decodeEvent(inner, terminated: true)
                if state == .events { state = .closed }
                return event
            }
        }
        return decodeEvent(body, terminated: terminated)
    }

    private func decodeEvent(_ body: Span, terminated: Bool) -> TraceEvent? {
        let decoded: TraceDecoder.Line
        do {
            decoded = try TraceDecoder.decode(UnsafePointer(buffer), body)
        } catch {
            if error.endOfInput && !terminated && sourceExhausted {
                truncatedLastLine(error)
            } else if !hasHeader {
                fatal(line: lineNumber, field: error.field, error.message
                      + (error.fatal ? "" : " (the first event must be a valid run header)"))
            } else if error.fatal {
                fatal(line: lineNumber, field: error.field, error.message)
            } else {
                report(.error, line: lineNumber, field: error.field, error.message)
            }
            return nil
        }
        switch decoded {
        case .event(.header(let h)):
            guard !hasHeader else {
                report(.error, line: lineNumber, "a second run header (a trace has exactly one, first)")
                return nil
            }
            header = h
            sawEvent = true
            return .header(h)
        case .event(let event):
            guard hasHeader else {
                fatal(line: lineNumber, "expected the run header (ph \"i\", cat \"header\") as the first event, "
                      + "found another event: this is not an InferScope trace (foreign Chrome traces go through an importer)")
                return nil
            }
            sawEvent = true
            return event
        case .metadata:
            return nil
        case .unknown(let ph, let cat):
            guard hasHeader else {
                fatal(line: lineNumber, "expected the run header (ph \"i\", cat \"header\") as the first event, "
                      + "found ph \"\(ph)\"" + (cat.map { ", cat \"\($0)\"" } ?? "")
                      + ": this is not an InferScope trace (foreign Chrome traces go through an importer)")
                return nil
            }
            skippedUnknownEvents += 1
            return nil
        }
    }

    private func truncatedLastLine(_ error: DecodeFailure) {
        if !hasHeader {
            fatal(line: lineNumber, "the run header is cut off (the file ends inside it): no event can be read")
            return
        }
        report(options.strict ? .error : .warning, line: lineNumber,
               "the last event is cut off (the writer stopped mid-line, e.g. it crashed); it was dropped")
        state = .finished
    }

    private func finish() {
        switch state {
        case .opening:
            fatal(line: nil, "empty file: expected a JSON array starting with '[' and the run header")
        case .events:
            if !hasHeader {
                fatal(line: nil, "no run header: the trace has no events")
            } else {
                report(options.strict ? .error : .warning, line: nil,
                       "the trace ends without its closing ']' (the writer did not close it: it crashed or is still running)")
            }
        case .closed:
            if !hasHeader { fatal(line: nil, "no run header: the trace has no events") }
        case .finished:
            break
        }
        state = .finished
    }

    private func fatal(line: Int?, field: String? = nil, _ message: String) {
        report(.error, line: line, field: field, message)
        state = .finished
    }

    private func report(_ severity: TraceDiagnostic.Severity, line: Int?, field: String? = nil, _ message: String) {
        if severity == .error { errorCount += 1 } else { warningCount += 1 }
        guard diagnostics.count < options.maxStoredDiagnostics else { return }
        diagnostics.append(TraceDiagnostic(severity: severity, line: line, field: field, message: message))
    }

    @inline(__always) private func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
    }

    // MARK: - Buffering

    /// The next line (without its `\n`), and whether a `\n` ended it. Nil at the end of input.
    private func nextLine() -> (Span, Bool)? {
        var searchFrom = lineStart
        while true {
            if searchFrom < filled,
               let nl = memchr(buffer + searchFrom, Int32(UInt8(ascii: "\n")), filled - searchFrom) {
                let end = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                let span = Span(start: lineStart, end: end)
                lineStart = end + 1
                bytesRead += span.count + 1
                return (span, true)
            }
            searchFrom = filled
            if sourceExhausted {
                guard lineStart < filled else { return nil }
                let span = Span(start: lineStart, end: filled)
                bytesRead += span.count
                lineStart = filled
                return (span, false)
            }
            // Move the partial line to the front, grow if it fills the buffer, read more.
            let partial = filled - lineStart
            if lineStart > 0 {
                if partial > 0 { memmove(buffer, buffer + lineStart, partial) }
                searchFrom -= lineStart
                lineStart = 0
                filled = partial
            }
            if filled == capacity {
                guard capacity < options.maxLineLength else {
                    fatal(line: lineNumber + 1, "line longer than \(options.maxLineLength) bytes")
                    return nil
                }
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                bigger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
            let got = fill(buffer + filled, capacity - filled)
            if got < 0 {
                fatal(line: nil, "read error: \(String(cString: strerror(errno)))")
                return nil
            }
            if got == 0 { sourceExhausted = true } else { filled += got }
        }
    }

    /// Reads up to `count` bytes into `into`; 0 at the end, -1 on error.
    private func fill(_ into: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
        switch source {
        case .file(let fd):
            while true {
                let n = read(fd, into, count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        case .memory(let bytes, let offset):
            let n = Swift.min(count, bytes.count - offset)
            guard n > 0 else { return 0 }
            bytes.withUnsafeBufferPointer { into.update(from: $0.baseAddress! + offset, count: n) }
            source = .memory(bytes, offset: offset + n)
            return n
        }
    }
}

/// A whole trace in memory: the header, the other events in file order, and any warnings.
public struct LoadedTrace: Sendable {
    public var header: RunHeader
    public var events: [TraceEvent]
    public var warnings: [TraceDiagnostic]

    public init(header: RunHeader, events: [TraceEvent], warnings: [TraceDiagnostic] = []) {
        self.header = header
        self.events = events
        self.warnings = warnings
    }
}
