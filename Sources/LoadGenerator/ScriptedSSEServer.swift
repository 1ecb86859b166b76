#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A scripted OpenAI-style streaming server on 127.0.0.1 for tests and for measuring the client
/// (`inferscope-bench serve`): not a model server. It answers `GET /v1/models`, `GET /metrics`
/// (vLLM names: running streams, a KV usage that follows them, a generation-token counter) and
/// `POST /v1/completions` / `/v1/chat/completions` with `max_tokens` one-token SSE chunks, a
/// usage chunk when asked (`include_usage`) and `data: [DONE]`. One thread per connection,
/// `Connection: close`, responses close-delimited. Bounded: it stops accepting after
/// `maxRequests` and on ``stop()``.
public final class ScriptedSSEServer: @unchecked Sendable {
    public struct Script: Sendable {
        /// Delay between chunks, nanoseconds (0: the whole stream is written at once).
        public var chunkInterval: Int64 = 1_000_000
        /// Delay before the first chunk, nanoseconds.
        public var firstChunkDelay: Int64 = 2_000_000
        /// Send the usage chunk when the request asks for it.
        public var sendsUsage = true
        /// Answer 400 to token-id prompts (a text-only server).
        public var rejectsTokenPrompts = false
        /// Answer HTTP 500 to every n-th completion request (1-based; nil: never).
        public var failEvery: Int?
        /// Stop accepting after this many requests of any kind.
        public var maxRequests = 10_000
        public init() {}
    }

    public let port: Int
    private let script: Script
    private let listener: Int32
    private let state = Mutex<(requests: Int, completions: Int, active: Int, generated: Int, stopped: Bool)>((0, 0, 0, 0, false))
    private let acceptDone = DispatchSemaphore(value: 0)

    /// Binds 127.0.0.1 on a free port and starts accepting.
    public init(script: Script = Script()) throws {
        self.script = script
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ScriptedServerError(message: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 256) == 0 else {
            close(fd)
            throw ScriptedServerError(message: "bind/listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Completion requests answered so far.
    public var completions: Int { state.withLock { $0.completions } }

    /// Stops accepting and closes the listening socket; streams in progress finish on their own.
    public func stop() {
        let first = state.withLock { s in let f = !s.stopped; s.stopped = true; return f }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        acceptDone.wait()
        close(listener)
    }

    deinit { stop() }

    private func acceptLoop() {
        defer { acceptDone.signal() }
        while true {
            let c = accept(listener, nil, nil)
            if c < 0 {
                if errno == EINTR { continue }
                return
            }
            let admitted = state.withLock { s -> Bool in
                guard !s.stopped, s.requests < script.maxRequests else { return false }
                s.requests += 1
                return true
            }
            guard admitted else { close(c); if state.withLock({ $0.stopped }) { return } else { continue } }
            var one: Int32 = 1
            setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var tv = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let t = Thread { [self] in handle(c) }
            t.start()
        }
    }

    private func handle(_ c: Int32) {
        defer { close(c) }
        guard let (head, body) = readRequest(c) else { return }
        let requestLine = head.split(separator: "\r\n").first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count >= 2 else { respond(c, 400, "text/plain", "bad request line"); return }
        let method = parts[0], path = parts[1]
        switch (method, path) {
        case ("GET", "/v1/models"):
            respond(c, 200, "application/json", #"{"object":"list","data":[{"id":"scripted","object":"model"}]}"#)
        case ("GET", "/metrics"):
            let (active, generated) = state.withLock { ($0.active, $0.generated) }
            respond(c, 200, "text/plain; version=0.0.4", """
                # TYPE vllm:num_requests_running gauge
                vllm:num_requests_running{model_name="scripted"} \(active)
                vllm:num_requests_waiting{model_name="scripted"} 0
                vllm:kv_cache_usage_perc{model_name="scripted"} \(Double(min(active, 10)) / 10)
                vllm:generation_tokens_total{model_name="scripted"} \(generated)
                vllm:num_preemptions_total{model_name="scripted"} 0

                """)
        case ("POST", "/v1/completions"), ("POST", "/v1/chat/completions"):
            stream(c, body: body, chat: path == "/v1/chat/completions")
        default:
            respond(c, 404, "application/json", #"{"error":{"message":"no route","type":"not_found"}}"#)
        }
    }

    private func stream(_ c: Int32, body: [UInt8], chat: Bool) {
        let n = state.withLock { s -> Int in s.completions += 1; return s.completions }
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            respond(c, 400, "application/json", #"{"error":{"message":"body is not JSON","type":"invalid_request_error"}}"#)
            return
        }
        if script.rejectsTokenPrompts, json["prompt"] is [Any] {
            respond(c, 400, "application/json", #"{"error":{"message":"prompt: expected a string","type":"invalid_request_error"}}"#)
            return
        }
        if let every = script.failEvery, n % every == 0 {
            respond(c, 500, "application/json", #"{"error":{"message":"scripted failure","type":"server_error"}}"#)
            return
        }
        let maxTokens = (json["max_tokens"] as? Int) ?? 16
        let usage = script.sendsUsage && ((json["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false)
        let promptTokens = (json["prompt"] as? [Any])?.count ?? ((json["prompt"] as? String)?.split(separator: " ").count ?? 1)
        state.withLock { $0.active += 1 }
        defer { state.withLock { $0.active -= 1 } }
        guard sendAll(c, Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n".utf8)) else { return }
        let chunk = chat ? #"data: {"model":"scripted","choices":[{"index":0,"delta":{"content":"t"},"finish_reason":null}]}"# + "\n\n"
                         : #"data: {"model":"scripted","choices":[{"index":0,"text":"t","finish_reason":null}]}"# + "\n\n"
        var tail = ""
        if usage { tail += #"data: {"model":"scripted","choices":[],"usage":{"prompt_tokens":\#(promptTokens),"completion_tokens":\#(maxTokens),"total_tokens":\#(promptTokens + maxTokens)}}"# + "\n\n" }
        tail += "data: [DONE]\n\n"
        if script.chunkInterval == 0 {
            var all = String(repeating: chunk, count: maxTokens) + tail
            all.reserveCapacity(0)
            state.withLock { $0.generated += maxTokens }
            _ = sendAll(c, Array(all.utf8))
            return
        }
        sleepNanoseconds(script.firstChunkDelay)
        for i in 0..<maxTokens {
            if i > 0 { sleepNanoseconds(script.chunkInterval) }
            guard sendAll(c, Array(chunk.utf8)) else { return }
            state.withLock { $0.generated += 1 }
        }
        _ = sendAll(c, Array(tail.utf8))
    }

    private func respond(_ c: Int32, _ status: Int, _ type: String, _ body: String) {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"][status] ?? "Status"
        let bytes = Array(body.utf8)
        _ = sendAll(c, Array("HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n".utf8) + bytes)
    }

    /// Reads the head and a Content-Length body (at most 1 MiB).
    private func readRequest(_ c: Int32) -> (String, [UInt8])? {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        var headEnd: Int?
        var need = Int.max
        while data.count < need && data.count < 1 << 20 {
            let r = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            if r <= 0 { return nil }
            data.append(contentsOf: buf[0..<r])
            if headEnd == nil, let e = find(data, Array("\r\n\r\n".utf8)) {
                headEnd = e
                let head = String(decoding: data[..<e], as: UTF8.self)
                var length = 0
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
                need = e + 4 + length
            }
        }
        guard let e = headEnd else { return nil }
        return (String(decoding: data[..<e], as: UTF8.self), Array(data[(e + 4)..<min(data.count, need)]))
    }

    private func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    private func sendAll(_ c: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(c, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { if errno == EINTR { continue }; return false }
            off += n
        }
        return true
    }

    private func sleepNanoseconds(_ ns: Int64) {
        guard ns > 0 else { return }
        var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        var rest = timespec()
        while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
    }
}

public struct ScriptedServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
