/// Why bytes are not a valid request, as the status to answer and a message for the body.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400 malformed, 413 body too large, 431 header too large, 501 unsupported transfer
    /// coding, 505 unsupported HTTP version.
    public var status: Int
    public var message: String
    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { "\(status): \(message)" }
}

/// The outcome of parsing a buffer that starts at a request boundary.
public enum HTTPParseResult: Sendable, Equatable {
    /// A whole request occupying the first `consumed` bytes (pipelined bytes may follow).
    case complete(HTTPRequest, consumed: Int)
    /// More bytes are needed. `expectsContinue`: the head is complete and asks
    /// `Expect: 100-continue` (the server should send `100 Continue` before the body arrives).
    case incomplete(expectsContinue: Bool)
    /// Not a valid request; answer `error.status` and close the connection.
    case invalid(HTTPParseError)
}

/// HTTP/1.0 and 1.1 request parsing (RFC 9112) as a pure function over bytes: no I/O, no state
/// between calls — the server appends received bytes to a buffer and calls ``parse(_:from:limits:)``
/// again until it is complete. This is the entry point for fuzzing: any byte string must yield
/// one of the three results, never a crash, in O(n) time for n bytes (chunk lists included).
///
/// Accepted: request line `METHOD SP target SP HTTP/1.x CRLF`; header fields `name: value CRLF`
/// (token names, optional whitespace trimmed); a body by `Content-Length` (one value, or equal
/// repeated values) or `Transfer-Encoding: chunked` (chunk extensions ignored, trailers read
/// and dropped); no body otherwise. Rejected: bare LF line ends, obsolete line folding, both
/// `Content-Length` and `Transfer-Encoding` (a smuggling vector), other transfer codings (501),
/// versions other than 1.0/1.1 (505), a head over `maxHeaderBytes` (431), a body over
/// `maxBodyBytes` (413, decided from `Content-Length` before the body arrives).
public enum HTTPRequestParser {
    public static func parse(_ bytes: [UInt8], from start: Int = 0, limits: HTTPLimits = HTTPLimits()) -> HTTPParseResult {
        bytes.withUnsafeBufferPointer { parse(UnsafeBufferPointer(rebasing: $0[start...]), limits: limits) }
    }

    /// The same over raw memory (the fuzz target's input). `consumed` counts from `bytes.baseAddress`.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: HTTPLimits = HTTPLimits()) -> HTTPParseResult {
        let cr: UInt8 = 13, lf: UInt8 = 10
        // Tolerate empty lines before the request line (RFC 9112 §2.2).
        var p = 0
        while p + 1 < bytes.count, bytes[p] == cr, bytes[p + 1] == lf { p += 2 }
        // Find the end of the head (CRLF CRLF).
        var headEnd = -1
        var i = p
        while i + 3 < bytes.count {
            if bytes[i] == cr && bytes[i + 1] == lf && bytes[i + 2] == cr && bytes[i + 3] == lf { headEnd = i; break }
            i += 1
        }
        if headEnd < 0 {
            if bytes.count - p > limits.maxHeaderBytes {
                return .invalid(HTTPParseError(status: 431, "the request head exceeds \(limits.maxHeaderBytes) bytes"))
            }
            // Reject obvious garbage early rather than waiting for a head that never comes.
            if let bad = earlyGarbage(bytes, from: p) { return .invalid(bad) }
            return .incomplete(expectsContinue: false)
        }
        if headEnd - p > limits.maxHeaderBytes {
            return .invalid(HTTPParseError(status: 431, "the request head exceeds \(limits.maxHeaderBytes) bytes"))
        }
        // Split the head into lines on CRLF; a bare CR or LF inside is an error.
        var lines: [Range<Int>] = []
        var lineStart = p
        var j = p
        while j < headEnd {
            let b = bytes[j]
            if b == cr {
                guard j + 1 < bytes.count, bytes[j + 1] == lf else { return .invalid(HTTPParseError(status: 400, "bare CR in the request head")) }
                lines.append(lineStart..<j)
                j += 2
                lineStart = j
                continue
            }
            if b == lf { return .invalid(HTTPParseError(status: 400, "bare LF in the request head (lines end with CRLF)")) }
            if b == 0 { return .invalid(HTTPParseError(status: 400, "NUL byte in the request head")) }
            j += 1
        }
        lines.append(lineStart..<headEnd)

        // Request line.
        let requestLine = Array(bytes[lines[0]])
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            return .invalid(HTTPParseError(status: 400, "malformed request line (expected 'METHOD /path HTTP/1.1')"))
        }
        guard parts[0].allSatisfy(isTokenByte) else { return .invalid(HTTPParseError(status: 400, "malformed method")) }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .invalid(HTTPParseError(status: 400, "malformed request target")) }
        let version = String(decoding: parts[2], as: UTF8.self)
        let minor: Int
        switch version {
        case "HTTP/1.1": minor = 1
        case "HTTP/1.0": minor = 0
        default:
            if version.hasPrefix("HTTP/") && version.count == 8 {
                return .invalid(HTTPParseError(status: 505, "HTTP version \(version.dropFirst(5)) is not supported (use HTTP/1.1)"))
            }
            return .invalid(HTTPParseError(status: 400, "malformed HTTP version '\(version.prefix(16))'"))
        }

        // Header fields.
        var headers: [(name: String, value: String)] = []
        var contentLength: Int?
        var chunked = false
        var hasTransferEncoding = false
        var expectsContinue = false
        for range in lines.dropFirst() {
            let line = bytes[range]
            guard let first = line.first else { continue }
            if first == 0x20 || first == 0x09 { return .invalid(HTTPParseError(status: 400, "obsolete header line folding")) }
            guard let colon = line.firstIndex(of: 0x3A) else { return .invalid(HTTPParseError(status: 400, "header line without ':'")) }
            let nameBytes = bytes[line.startIndex..<colon]
            guard !nameBytes.isEmpty, nameBytes.allSatisfy(isTokenByte) else {
                return .invalid(HTTPParseError(status: 400, "malformed header name"))
            }
            var vs = colon + 1, ve = line.endIndex
            while vs < ve, bytes[vs] == 0x20 || bytes[vs] == 0x09 { vs += 1 }
            while ve > vs, bytes[ve - 1] == 0x20 || bytes[ve - 1] == 0x09 { ve -= 1 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let value = String(decoding: bytes[vs..<ve], as: UTF8.self)
            headers.append((name, value))
            switch name.lowercased() {
            case "content-length":
                guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), value.utf8.count <= 18, let n = Int(value) else {
                    return .invalid(HTTPParseError(status: 400, "Content-Length '\(value.prefix(32))' is not a non-negative integer"))
                }
                if let c = contentLength, c != n { return .invalid(HTTPParseError(status: 400, "conflicting Content-Length values")) }
                contentLength = n
            case "transfer-encoding":
                hasTransferEncoding = true
                let codings = value.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: " \t") }
                guard codings.last == "chunked", codings.count == 1 else {
                    return .invalid(HTTPParseError(status: 501, "Transfer-Encoding '\(value.prefix(32))' is not supported (only chunked)"))
                }
                chunked = true
            case "expect":
                expectsContinue = value.lowercased() == "100-continue"
            default: break
            }
        }
        if hasTransferEncoding && contentLength != nil {
            return .invalid(HTTPParseError(status: 400, "both Content-Length and Transfer-Encoding given"))
        }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let bodyStart = headEnd + 4

        if chunked {
            switch dechunk(bytes, from: bodyStart, limit: limits.maxBodyBytes) {
            case .invalid(let e): return .invalid(e)
            case .incomplete: return .incomplete(expectsContinue: expectsContinue)
            case .complete(let body, let end):
                return .complete(HTTPRequest(method: method, target: target, minorVersion: minor, headers: headers, body: body),
                                 consumed: end)
            }
        }
        let length = contentLength ?? 0
        if length > limits.maxBodyBytes {
            return .invalid(HTTPParseError(status: 413, "the body of \(length) bytes exceeds the limit of \(limits.maxBodyBytes) bytes"))
        }
        guard bytes.count - bodyStart >= length else { return .incomplete(expectsContinue: expectsContinue) }
        let body = Array(bytes[bodyStart..<(bodyStart + length)])
        return .complete(HTTPRequest(method: method, target: target, minorVersion: minor, headers: headers, body: body),
                         consumed: bodyStart + length)
    }

    enum Dechunked {
        case complete([UInt8], end: Int)
        case incomplete
        case invalid(HTTPParseError)
    }

    /// Decodes a chunked body starting at `start`. O(bytes).
    static func dechunk(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Dechunked {
        var body: [UInt8] = []
        var p = start
        while true {
            // chunk-size [; ext] CRLF
            guard let lineEnd = findCRLF(bytes, from: p) else {
                if bytes.count - p > 1024 { return .invalid(HTTPParseError(status: 400, "chunk size line too long")) }
                return .incomplete
            }
            var size = 0
            var digits = 0
            var q = p
            while q < lineEnd, let d = hexValue(bytes[q]) {
                // 15 hex digits (< 2^60) fit; the check comes before the 16th digit is shifted in.
                if digits == 15 { return .invalid(HTTPParseError(status: 400, "chunk size too large")) }
                size = size * 16 + d
                digits += 1
                q += 1
            }
            guard digits > 0, q == lineEnd || bytes[q] == 0x3B || bytes[q] == 0x20 || bytes[q] == 0x09 else {
                return .invalid(HTTPParseError(status: 400, "malformed chunk size"))
            }
            p = lineEnd + 2
            if size == 0 {
                // Trailer fields, then an empty line.
                while true {
                    guard let e = findCRLF(bytes, from: p) else {
                        if bytes.count - p > 8192 { return .invalid(HTTPParseError(status: 400, "chunked trailer too long")) }
                        return .incomplete
                    }
                    if e == p { return .complete(body, end: p + 2) }
                    p = e + 2
                }
            }
            if body.count + size > limit {
                return .invalid(HTTPParseError(status: 413, "the chunked body exceeds the limit of \(limit) bytes"))
            }
            guard bytes.count - p >= size + 2 else { return .incomplete }
            body.append(contentsOf: bytes[p..<(p + size)])
            p += size
            guard bytes[p] == 13, bytes[p + 1] == 10 else { return .invalid(HTTPParseError(status: 400, "chunk data not followed by CRLF")) }
            p += 2
        }
    }

    static func findCRLF(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start
        while i + 1 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }

    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return nil
        }
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    /// A partial head that can already be rejected: the method is not a token, or a control byte appears.
    static func earlyGarbage(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> HTTPParseError? {
        var i = start
        while i < bytes.count, bytes[i] != 0x20 {
            if !isTokenByte(bytes[i]) && bytes[i] != 13 && bytes[i] != 10 {
                return HTTPParseError(status: 400, "malformed request line (expected 'METHOD /path HTTP/1.1')")
            }
            i += 1
        }
        if i - start > 32 { return HTTPParseError(status: 400, "malformed request line (method too long)") }
        var j = start
        while j < bytes.count {
            if bytes[j] == 10 && (j == start || bytes[j - 1] != 13) {
                return HTTPParseError(status: 400, "bare LF in the request head (lines end with CRLF)")
            }
            j += 1
        }
        return nil
    }
}
