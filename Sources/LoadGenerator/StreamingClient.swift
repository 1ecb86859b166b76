import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TraceFormat
import Tracing

/// One `data:` payload as it arrived: the clock reading in the delivery callback and the bytes.
public struct TimedPayload: Sendable, Equatable {
    /// Nanoseconds on the run's clock.
    public var time: Int64
    public var data: [UInt8]
    public init(time: Int64, data: [UInt8]) { self.time = time; self.data = data }
}

/// What happened to one request on the wire. Times are readings of the injected clock, in
/// nanoseconds; payloads are stored raw and decoded after the run (``StreamChunk``).
public struct RequestRecord: Sendable, Equatable {
    public var id: UInt64
    public var promptLength: Int
    public var maxTokens: Int
    /// Just before the request was handed to the HTTP stack (TTFT starts here, connect included).
    public var sent: Int64
    /// Response headers received.
    public var responseStart: Int64?
    public var status: Int?
    /// Every SSE message with a `data` field, in order.
    public var payloads: [TimedPayload] = []
    /// SSE comment-only messages (keep-alive pings).
    public var pings = 0
    /// The stream ended (completed, failed or cancelled).
    public var end: Int64?
    /// A transport failure (connection refused, timeout, reset…).
    public var transportError: String?
    /// Cancelled by the client (Ctrl-C).
    public var cancelled = false
    /// The body of a non-2xx response (first 4 KiB).
    public var errorBody: [UInt8] = []

    public init(id: UInt64, promptLength: Int, maxTokens: Int, sent: Int64) {
        self.id = id
        self.promptLength = promptLength
        self.maxTokens = maxTokens
        self.sent = sent
    }
}

/// Running totals for the progress line.
public struct LoadProgress: Sendable, Equatable {
    public var sent = 0
    public var completed = 0
    public var failed = 0
    /// Data messages received so far (≈ tokens for servers that stream one token per chunk).
    public var chunks = 0
    public var inFlight: Int { sent - completed - failed }
    public init() {}
}

/// Streams requests over FoundationNetworking's `URLSession`. On Linux the only way to see a
/// response body while it arrives is the data delegate's `didReceive data` callback, whose
/// `Data` boundaries are whatever the transport read: every delivery is timestamped, appended
/// to the request's buffer and cut into SSE messages by ``SSEFraming``. The per-host connection
/// cap (6 by default on Linux) is raised to `maxConnections`, or requests would queue inside the
/// client and inflate TTFT. Callbacks arrive on one serial queue. Thread-safe.
public final class StreamingClient: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private struct Live {
        var record: RequestRecord
        var buffer: [UInt8] = []
        var onDone: @Sendable (RequestRecord) -> Void
    }
    private struct State {
        var live: [Int: Live] = [:]
        var progress = LoadProgress()
        var tasks: [Int: URLSessionDataTask] = [:]
    }

    private let clock: any TraceClock
    private let state = Mutex(State())
    private let configuration: EndpointConfiguration
    private var session: URLSession!
    private let queue: OperationQueue

    public init(configuration: EndpointConfiguration, clock: any TraceClock) {
        self.clock = clock
        self.configuration = configuration
        queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        queue.name = "inferscope.load.delegate"
        super.init()
        let c = URLSessionConfiguration.ephemeral
        c.httpMaximumConnectionsPerHost = max(6, configuration.maxConnections)
        c.timeoutIntervalForRequest = configuration.timeout
        c.timeoutIntervalForResource = max(configuration.timeout, 24 * 3600)
        c.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: c, delegate: self, delegateQueue: queue)
    }

    /// Stops the session; in-flight requests are cancelled.
    public func invalidate() { session.invalidateAndCancel() }

    public var progress: LoadProgress { state.withLock { $0.progress } }

    /// Zeroes the progress totals (after the warm-up).
    public func resetProgress() { state.withLock { $0.progress = LoadProgress() } }

    /// Sends `request` (streaming); `onDone` runs once with its record when the stream ends.
    public func send(_ request: LoadRequest, onDone: @escaping @Sendable (RequestRecord) -> Void) {
        let url = URL(string: configuration.root + (configuration.api == .chat ? "/v1/chat/completions" : "/v1/completions"))!
        var r = URLRequest(url: url)
        r.httpMethod = "POST"
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        r.setValue("inferscope-\(request.id)", forHTTPHeaderField: "x-request-id")
        if let key = configuration.apiKey { r.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        r.httpBody = RequestBody.json(for: request, configuration: configuration)
        let task = session.dataTask(with: r)
        let record = RequestRecord(id: request.id, promptLength: request.promptLength, maxTokens: request.maxTokens,
                                   sent: clock.now())
        state.withLock {
            $0.live[task.taskIdentifier] = Live(record: record, onDone: onDone)
            $0.tasks[task.taskIdentifier] = task
            $0.progress.sent += 1
        }
        task.resume()
    }

    /// Cancels every request in flight (each still reports its record, marked cancelled).
    public func cancelAll() {
        let tasks = state.withLock { Array($0.tasks.values) }
        for t in tasks { t.cancel() }
    }

    // MARK: URLSessionDataDelegate

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                           completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let now = clock.now()
        let status = (response as? HTTPURLResponse)?.statusCode
        state.withLock {
            $0.live[dataTask.taskIdentifier]?.record.responseStart = now
            $0.live[dataTask.taskIdentifier]?.record.status = status
        }
        completionHandler(.allow)
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let now = clock.now()
        state.withLock { s in
            guard var live = s.live[dataTask.taskIdentifier] else { return }
            if let status = live.record.status, !(200..<300).contains(status) {
                if live.record.errorBody.count < 4096 { live.record.errorBody.append(contentsOf: data.prefix(4096 - live.record.errorBody.count)) }
            } else {
                live.buffer.append(contentsOf: data)
                let (messages, consumed) = SSEFraming.split(live.buffer)
                if consumed > 0 { live.buffer.removeFirst(consumed) }
                for m in messages {
                    if let d = m.data {
                        live.record.payloads.append(TimedPayload(time: now, data: d))
                        s.progress.chunks += 1
                    } else {
                        live.record.pings += 1
                    }
                }
            }
            s.live[dataTask.taskIdentifier] = live
        }
    }

    public func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let now = clock.now()
        let done: Live? = state.withLock { s in
            guard var live = s.live.removeValue(forKey: task.taskIdentifier) else { return nil }
            s.tasks[task.taskIdentifier] = nil
            if let m = SSEFraming.finish(live.buffer), let d = m.data {
                live.record.payloads.append(TimedPayload(time: now, data: d))
            }
            live.record.end = now
            if let error {
                if (error as? URLError)?.code == .cancelled { live.record.cancelled = true } else {
                    live.record.transportError = (error as? URLError).map { "\($0.code.rawValue): \($0.localizedDescription)" } ?? "\(error)"
                }
            }
            let ok = error == nil && (live.record.status.map { (200..<300).contains($0) } ?? false)
            if ok { s.progress.completed += 1 } else { s.progress.failed += 1 }
            return live
        }
        if let done { done.onDone(done.record) }
    }
}

/// The JSON request bodies.
enum RequestBody {
    /// The streaming body for `request`: `stream: true` with `stream_options.include_usage` (so
    /// servers that support it send token counts), `max_tokens`, `temperature`, `ignore_eos`.
    static func json(for request: LoadRequest, configuration c: EndpointConfiguration) -> Data {
        var body: [String: Any] = [
            "stream": true,
            "stream_options": ["include_usage": true],
            "max_tokens": request.maxTokens,
            "temperature": c.temperature,
        ]
        if c.ignoreEOS { body["ignore_eos"] = true }
        if let m = c.model { body["model"] = m }
        switch (c.api, c.promptFormat) {
        case (.completions, .tokens): body["prompt"] = request.promptTokens.map(Int.init)
        case (.completions, .text): body["prompt"] = request.promptText
        case (.chat, _): body["messages"] = [["role": "user", "content": request.promptText]]
        }
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
    }
}
