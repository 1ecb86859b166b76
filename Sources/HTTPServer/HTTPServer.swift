#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What the server calls for each parsed request, on the connection's own thread. It must answer
/// through `connection` (``HTTPConnection/respond(_:)`` or a stream); it may block (a streamed
/// completion blocks until the last token).
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, _ connection: HTTPConnection)
}

/// A socket error at start-up: which call failed and errno's text.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// An HTTP/1.1 server on POSIX sockets: one listening socket, one accept thread, one thread per
/// connection (blocking reads and writes with deadlines). Keep-alive and pipelined requests are
/// served in order on a connection; parse failures are answered with their status and the
/// connection closed; a request that does not arrive in full within `requestTimeout` is
/// answered 408; idle keep-alive connections close after `idleTimeout`; more than
/// `maxConnections` open connections are answered 503.
public final class HTTPServer: @unchecked Sendable {
    public let host: String
    public let limits: HTTPLimits
    let handler: any HTTPHandler
    public private(set) var port: UInt16
    private var listenFD: Int32 = -1
    private let lock = NSCondition()
    private var open = 0
    private var stopping = false
    private var acceptDone = false

    public init(host: String = "127.0.0.1", port: UInt16, limits: HTTPLimits = HTTPLimits(), handler: any HTTPHandler) {
        self.host = host
        self.port = port
        self.limits = limits
        self.handler = handler
    }

    /// Binds (port 0 = any free port, see ``port`` afterwards), listens and starts accepting.
    public func start() throws(HTTPServerError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPServerError(message: "socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            close(fd)
            throw HTTPServerError(message: "--host '\(host)' is not an IPv4 address (use e.g. 127.0.0.1 or 0.0.0.0)")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let text = String(cString: strerror(errno))
            close(fd)
            throw HTTPServerError(message: "cannot bind \(host):\(port): \(text) (choose another --port)")
        }
        guard listen(fd, 512) == 0 else {
            close(fd)
            throw HTTPServerError(message: "listen(): \(String(cString: strerror(errno)))")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: actual.sin_port)
        listenFD = fd
        let box = Box(self)
        let t = Thread { box.server.acceptLoop() }
        t.start()
    }

    /// Stops accepting (closes the listening socket) and returns once the accept thread has
    /// ended. Open connections finish their current request; idle ones close within 0.25 s.
    public func stopAccepting() {
        lock.lock()
        stopping = true
        while !acceptDone && listenFD >= 0 { lock.wait() }
        lock.unlock()
    }

    /// Whether ``stopAccepting()`` was called (handlers answer new requests with `Connection: close`).
    public var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    /// Open connections now.
    public var openConnections: Int {
        lock.lock()
        defer { lock.unlock() }
        return open
    }

    /// Waits until every connection has closed or `timeout` seconds passed; true if all closed.
    @discardableResult
    public func waitForConnections(timeout: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while open > 0 { if !lock.wait(until: deadline) { return open == 0 } }
        return true
    }

    final class Box: @unchecked Sendable {
        let server: HTTPServer
        init(_ s: HTTPServer) { server = s }
    }

    func acceptLoop() {
        while true {
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { break }
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, 250)
            if r <= 0 { continue }
            let client = accept(listenFD, nil, nil)
            if client < 0 { continue }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            #if os(Linux)
            // Receive timestamps: a request's arrival is when its bytes reached the host, not
            // when this connection's thread got a core to read them (on a host whose cores are
            // all computing, that wake-up takes milliseconds and belongs to the request's TTFT).
            setsockopt(client, SOL_SOCKET, ReceiveTimestamp.option, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            var tv = timeval(tv_sec: Int(limits.writeTimeout), tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            lock.lock()
            let full = open >= limits.maxConnections
            if !full { open += 1 }
            lock.unlock()
            let connection = HTTPConnection(fd: client, limits: limits)
            if full {
                connection.keepAlive = false
                connection.respond(HTTPResponse.error(status: 503, message: "too many open connections (limit \(limits.maxConnections))"))
                connection.close()
                continue
            }
            let box = Box(self)
            let t = Thread { box.server.serve(connection) }
            t.stackSize = 1 << 20
            t.start()
        }
        close(listenFD)
        lock.lock()
        acceptDone = true
        lock.broadcast()
        lock.unlock()
    }

    /// One connection's request loop.
    func serve(_ c: HTTPConnection) {
        var buffer: [UInt8] = []
        var sentContinue = false
        // Host arrival time (Unix seconds) of the current request's first byte — its arrival and the
        // start of its `requestTimeout` — and of the last read.
        var firstByte: Double?
        var lastRead: Double?
        var chunk = [UInt8](repeating: 0, count: 65536)
        loop: while true {
            switch HTTPRequestParser.parse(buffer, limits: limits) {
            case .complete(var request, let consumed):
                buffer.removeFirst(consumed)
                sentContinue = false
                request.receivedAt = firstByte
                firstByte = buffer.isEmpty ? nil : lastRead
                c.begin(keepAlive: request.keepAlive && !isStopping)
                handler.handle(request, c)
                if !c.responded { c.respond(HTTPResponse.error(status: 500, message: "the handler sent no response")) }
                if c.failed || !c.keepAlive { break loop }
                continue loop
            case .invalid(let e):
                c.keepAlive = false
                c.respond(HTTPResponse.error(status: e.status, message: e.message))
                break loop
            case .incomplete(let expectsContinue):
                if expectsContinue && !sentContinue {
                    sentContinue = true
                    if !c.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) { break loop }
                }
            }
            // Read more, within the request or idle deadline; wake every 0.25 s to notice a stop.
            while true {
                if firstByte == nil && isStopping { break loop }
                var pfd = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
                let r = poll(&pfd, 1, 250)
                if r > 0 { break }
                if r < 0 && errno != EINTR { break loop }
                let now = Date()
                if let start = firstByte {
                    if now.timeIntervalSince1970 - start > limits.requestTimeout {
                        c.keepAlive = false
                        c.respond(HTTPResponse.error(status: 408, message: "the request did not arrive within \(formatSeconds(limits.requestTimeout))"))
                        break loop
                    }
                } else {
                    let since = c.idleSince ?? now
                    c.idleSince = since
                    if now.timeIntervalSince(since) > limits.idleTimeout { break loop }
                }
            }
            let (n, kernelTime) = chunk.withUnsafeMutableBytes { ReceiveTimestamp.receive(c.fd, $0) }
            if n <= 0 { break loop }
            lastRead = kernelTime ?? Date().timeIntervalSince1970
            if firstByte == nil { firstByte = lastRead }
            c.idleSince = nil
            buffer.append(contentsOf: chunk[0..<n])
        }
        c.close()
        lock.lock()
        open -= 1
        lock.broadcast()
        lock.unlock()
    }
}

func formatSeconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : "\(s) s" }

/// One client connection, as a handler sees it: answer once with ``respond(_:)``, or stream with
/// ``startStream(status:headers:)``, ``send(_:)`` and ``endStream()``. Every write reports
/// whether the client is still there; ``peerClosed()`` asks without writing.
public final class HTTPConnection: @unchecked Sendable {
    public let fd: Int32
    let limits: HTTPLimits
    /// Whether the connection stays open after the current response.
    public var keepAlive = true
    /// A write failed (the client went away or stalled past the write timeout).
    public private(set) var failed = false
    /// The current request has been answered (or its stream started).
    public private(set) var responded = false
    var idleSince: Date?
    private var closed = false

    init(fd: Int32, limits: HTTPLimits) {
        self.fd = fd
        self.limits = limits
    }

    func begin(keepAlive: Bool) {
        self.keepAlive = keepAlive
        responded = false
    }

    /// Sends a whole response.
    public func respond(_ response: HTTPResponse) {
        responded = true
        _ = write(response.bytes(keepAlive: keepAlive))
    }

    /// Sends the head of a chunked response. False if the client is gone.
    public func startStream(status: Int, headers: [(name: String, value: String)]) -> Bool {
        responded = true
        return write(HTTPResponse.streamHead(status: status, headers: headers, keepAlive: keepAlive))
    }

    /// Sends `data` as one chunk (nothing for empty data). False if the client is gone.
    public func send(_ data: [UInt8]) -> Bool {
        data.isEmpty ? !failed : write(HTTPResponse.chunk(data))
    }

    /// Ends a stream (the zero-length chunk). False if the client is gone.
    public func endStream() -> Bool { write(HTTPResponse.chunk([])) }

    /// Whether the client has closed its side (or reset) — checked without blocking or reading
    /// its data. O(1).
    public func peerClosed() -> Bool {
        if failed { return true }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN) | 0x2000 /* POLLRDHUP */, revents: 0)
        guard poll(&pfd, 1, 0) > 0 else { return false }
        if pfd.revents & (Int16(POLLHUP) | Int16(POLLERR) | 0x2000) != 0 { return true }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Writes all of `bytes` (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE). False on failure.
    func write(_ bytes: [UInt8]) -> Bool {
        if failed || closed { return false }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                failed = true
                return false
            }
            sent += n
        }
        return true
    }

    func close() {
        guard !closed else { return }
        closed = true
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}

extension HTTPResponse {
    /// An OpenAI-style error body: `{"error": {"message", "type", "param", "code"}}`.
    public static func error(status: Int, message: String, type: String? = nil, param: String? = nil) -> HTTPResponse {
        let kind = type ?? (status == 404 ? "NotFoundError" : status >= 500 ? "ServiceUnavailableError" : "BadRequestError")
        let p = param.map { "\"\(jsonEscape($0))\"" } ?? "null"
        let body = "{\"error\":{\"message\":\"\(jsonEscape(message))\",\"type\":\"\(kind)\",\"param\":\(p),\"code\":\(status)}}"
        return HTTPResponse(status: status, contentType: "application/json", body: body)
    }
}

/// `s` as the inside of a JSON string literal. O(n).
public func jsonEscape(_ s: String) -> String {
    var out = ""
    out.unicodeScalars.reserveCapacity(s.unicodeScalars.count)
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out
}

/// `recv` with the kernel's receive timestamp (Linux SO_TIMESTAMPNS: the time the most recent
/// segment read reached the host, CLOCK_REALTIME). O(1).
enum ReceiveTimestamp {
    /// SO_TIMESTAMPNS (= SCM_TIMESTAMPNS) with the 64-bit `timespec` of x86-64 and arm64; Glibc's
    /// macro for it is not importable (it selects between the old and new values at compile time).
    static let option: Int32 = 35

    /// Reads into `buffer`; returns the byte count (≤ 0: closed or failed) and the receive
    /// timestamp in Unix seconds when the kernel attached one.
    static func receive(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> (Int, Double?) {
        #if os(Linux)
        var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        // cmsghdr (16 bytes: len, level, type) + timespec (16 bytes), with room to spare.
        var control = [UInt64](repeating: 0, count: 16)
        return control.withUnsafeMutableBytes { c -> (Int, Double?) in
            var msg = msghdr()
            msg.msg_control = c.baseAddress
            msg.msg_controllen = c.count
            let n = withUnsafeMutablePointer(to: &iov) { p -> Int in
                msg.msg_iov = p
                msg.msg_iovlen = 1
                return recvmsg(fd, &msg, 0)
            }
            guard n > 0 else { return (n, nil) }
            // Walk the control messages (CMSG_FIRSTHDR/CMSG_NXTHDR by hand: 8-byte aligned).
            var offset = 0
            let header = MemoryLayout<cmsghdr>.size
            while offset + header <= msg.msg_controllen {
                let h = c.load(fromByteOffset: offset, as: cmsghdr.self)
                guard h.cmsg_len >= header else { break }
                if h.cmsg_level == SOL_SOCKET && h.cmsg_type == option,
                   h.cmsg_len >= header + MemoryLayout<timespec>.size {
                    let t = c.load(fromByteOffset: offset + header, as: timespec.self)
                    return (n, Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9)
                }
                offset += (Int(h.cmsg_len) + 7) & ~7
            }
            return (n, nil)
        }
        #else
        return (recv(fd, buffer.baseAddress, buffer.count, 0), nil)
        #endif
    }
}
