/// A complete (non-streamed) response; ``bytes(keepAlive:)`` adds `Content-Length` and `Connection`.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int, contentType: String, body: String) {
        self.init(status: status, headers: [("Content-Type", contentType)], body: Array(body.utf8))
    }

    /// Status line, headers, `Content-Length`, `Connection`, blank line and body. O(body).
    public func bytes(keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reason(status))\r\n"
        for h in headers { head += "\(h.name): \(h.value)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// The head of a streamed response: chunked transfer coding, so the connection can be
    /// kept alive after the stream ends.
    public static func streamHead(status: Int, headers: [(name: String, value: String)], keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reason(status))\r\n"
        for h in headers { head += "\(h.name): \(h.value)\r\n" }
        head += "Transfer-Encoding: chunked\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(head.utf8)
    }

    /// One chunk of chunked transfer coding (`size-hex CRLF data CRLF`); empty data is the
    /// terminating chunk `0 CRLF CRLF`.
    public static func chunk(_ data: [UInt8]) -> [UInt8] {
        if data.isEmpty { return Array("0\r\n\r\n".utf8) }
        return Array((String(data.count, radix: 16) + "\r\n").utf8) + data + [13, 10]
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }

    public static func == (a: HTTPResponse, b: HTTPResponse) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.map(\.name) == b.headers.map(\.name)
            && a.headers.map(\.value) == b.headers.map(\.value)
    }
}

/// Server-sent events framing (WHATWG HTML §9.2): each event is one or more `data:` lines and a
/// blank line. A payload containing line breaks is split over several `data:` lines, which the
/// client joins back with "\n".
public enum SSE {
    /// `data: <line>\n` per line of `payload`, then `\n`. O(payload).
    public static func event(_ payload: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.utf8.count + 8)
        var line: [UInt8] = []
        func flush() {
            out += Array("data: ".utf8)
            out += line
            out.append(10)
            line.removeAll(keepingCapacity: true)
        }
        var previousCR = false
        for b in payload.utf8 {
            if b == 10 {
                if !previousCR { flush() }
                previousCR = false
            } else if b == 13 {
                flush()
                previousCR = true
            } else {
                previousCR = false
                line.append(b)
            }
        }
        flush()
        out.append(10)
        return out
    }

    /// The end-of-stream marker OpenAI-compatible servers send: `data: [DONE]\n\n`.
    public static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)
}
