#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 client over a loopback socket, for server tests: raw writes,
/// responses read by `Content-Length` or chunked coding. Every read has a 20 s receive timeout
/// so a broken server fails the test instead of hanging it.
public final class LoopbackClient {
    public let fd: Int32
    var buffer: [UInt8] = []

    public struct Response {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public struct ClientError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { throw ClientError(description: "connect to port \(port) failed: errno \(errno)") }
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    private var closed = false
    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Sends a request with a JSON body.
    public func post(_ path: String, _ json: String, extraHeaders: String = "") {
        send("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\(extraHeaders)\r\n\(json)")
    }

    public func get(_ path: String) {
        send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }

    /// Reads more bytes; false at end of stream (or timeout).
    @discardableResult
    func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    func line() throws -> String {
        while true {
            if let i = buffer.firstIndex(of: 10), i > 0, buffer[i - 1] == 13 {
                let l = String(decoding: buffer[0..<(i - 1)], as: UTF8.self)
                buffer.removeFirst(i + 1)
                return l
            }
            guard fill() else { throw ClientError(description: "connection closed while reading a line") }
        }
    }

    func take(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { guard fill() else { throw ClientError(description: "connection closed in a body") } }
        let out = Array(buffer[0..<n])
        buffer.removeFirst(n)
        return out
    }

    /// Reads the status line and headers (skipping `100 Continue`).
    public func readHead() throws -> (status: Int, headers: [String: String]) {
        while true {
            let status = try line()
            let parts = status.split(separator: " ")
            guard parts.count >= 2, let code = Int(parts[1]) else { throw ClientError(description: "bad status line '\(status)'") }
            var headers: [String: String] = [:]
            while true {
                let h = try line()
                if h.isEmpty { break }
                if let c = h.firstIndex(of: ":") {
                    headers[h[..<c].lowercased()] = String(h[h.index(after: c)...]).trimmingLeadingSpaces()
                }
            }
            if code == 100 { continue }
            return (code, headers)
        }
    }

    /// Reads one whole response.
    public func readResponse() throws -> Response {
        let (status, headers) = try readHead()
        var body: [UInt8] = []
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while let c = try readChunk() { body += c }
        } else if let n = headers["content-length"].flatMap({ Int($0) }) {
            body = try take(n)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// One chunk of a chunked body, nil after the last.
    public func readChunk() throws -> [UInt8]? {
        let sizeLine = try line()
        guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
            throw ClientError(description: "bad chunk size '\(sizeLine)'")
        }
        if size == 0 {
            _ = try line()
            return nil
        }
        let data = try take(size)
        _ = try take(2)
        return data
    }

    /// Whether the server closed the connection (reads until end of stream, discarding).
    public func readUntilClosed() -> [UInt8] {
        while fill() {}
        return buffer
    }
}

extension String {
    func trimmingLeadingSpaces() -> String { String(drop { $0 == " " }) }
}
