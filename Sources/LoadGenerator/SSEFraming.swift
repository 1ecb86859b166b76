/// Server-sent events framing (the WHATWG `text/event-stream` rules that OpenAI-compatible
/// servers use for `stream: true`), as a pure function over bytes so the network code only has
/// to append what arrived and keep what was not consumed.
///
/// Lines end with `\n`, `\r\n` or `\r`; a blank line ends a message. `data:` lines are joined with
/// `\n` (one optional space after the colon is dropped); lines starting with `:` are comments
/// (keep-alive pings); `event:`, `id:`, `retry:` and unknown fields are ignored. A message with no
/// `data` field (only comments) is reported with `data == nil` so callers can count pings.
public struct SSEMessage: Sendable, Equatable {
    /// The joined `data` lines, UTF-8 bytes; nil when the message had no `data` field.
    public var data: [UInt8]?

    public init(data: [UInt8]?) { self.data = data }

    /// True for the OpenAI end-of-stream sentinel `[DONE]`.
    public var isDone: Bool { data == Array("[DONE]".utf8) }
}

public enum SSEFraming {
    /// The complete messages at the start of `buffer` and how many bytes they used; the bytes
    /// after `consumed` belong to a message still arriving. A `\r` at the very end is not treated
    /// as a line end yet (a `\n` may follow in the next read). Calling it again on
    /// `buffer[consumed...]` plus new bytes yields the same messages as one call on the
    /// concatenation, wherever the reads split. O(buffer length).
    public static func split<C: RandomAccessCollection>(_ buffer: C) -> (messages: [SSEMessage], consumed: Int)
    where C.Element == UInt8, C.Index == Int {
        var messages: [SSEMessage] = []
        var consumed = 0
        var data: [UInt8]? = nil
        var lineStart = buffer.startIndex
        var i = buffer.startIndex
        let end = buffer.endIndex
        while i < end {
            let b = buffer[i]
            guard b == 0x0A || b == 0x0D else { i += 1; continue }
            var next = i + 1
            if b == 0x0D {
                if next == end { break }                       // "\r" at the end: wait for a possible "\n"
                if buffer[next] == 0x0A { next += 1 }
            }
            if i == lineStart {
                // Blank line: the message ends.
                messages.append(SSEMessage(data: data))
                data = nil
                consumed = next - buffer.startIndex
            } else {
                field(buffer[lineStart..<i], into: &data)
            }
            lineStart = next
            i = next
        }
        return (messages, consumed)
    }

    /// The message left in `rest` when the stream ended without its blank line (a server that
    /// closes right after its last `data:` line); nil when `rest` holds no `data` field.
    public static func finish<C: RandomAccessCollection>(_ rest: C) -> SSEMessage?
    where C.Element == UInt8, C.Index == Int {
        var bytes = Array(rest)
        bytes.append(contentsOf: [0x0A, 0x0A])
        let (messages, _) = split(bytes)
        return messages.first { $0.data != nil }
    }

    private static func field<S: Collection>(_ line: S, into data: inout [UInt8]?) where S.Element == UInt8 {
        guard let first = line.first, first != UInt8(ascii: ":") else { return }   // comment
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        guard line[line.startIndex..<colon].elementsEqual("data".utf8) else { return }
        var valueStart = colon == line.endIndex ? colon : line.index(after: colon)
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart = line.index(after: valueStart) }
        if data == nil { data = [] } else { data!.append(0x0A) }
        data!.append(contentsOf: line[valueStart..<line.endIndex])
    }
}
