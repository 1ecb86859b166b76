import Foundation
import HTTPServer
import LlamaModel
import Scheduling
import ServingEngine
import TraceFormat

/// The OpenAI-compatible API over one ``OnlineEngine``: `POST /v1/completions`,
/// `POST /v1/chat/completions` (streamed as server-sent events or not), `GET /v1/models`,
/// `GET /health`, `GET /metrics` (vLLM's Prometheus names). Each request runs on its
/// connection's thread: it is validated (400 naming the field), tokenized, submitted (503 when
/// the queue is full), then its tokens are written as they come; a client that goes away is
/// noticed within `pollInterval` and its request cancelled (its KV blocks freed).
public final class OpenAIHandler: HTTPHandler, @unchecked Sendable {
    public let engine: OnlineEngine
    public let metrics: ServingMetrics
    public let modelName: String
    let tokenizer: Tokenizer?
    let vocabSize: Int
    let maxModelLength: Int
    let defaultTemperature: Float
    let created: Int
    /// Seconds between checks that a waiting client is still connected.
    public var pollInterval = 0.05
    /// True once the server is shutting down (health answers 503, new completions are refused).
    public var isStopping: @Sendable () -> Bool = { false }

    public init(engine: OnlineEngine, model: LoadedModel, modelName: String) {
        self.engine = engine
        self.modelName = modelName
        tokenizer = model.tokenizer
        vocabSize = model.weights.config.vocabSize
        maxModelLength = model.weights.config.maxSeqLen
        defaultTemperature = engine.engine.options.temperature
        created = Int(Date().timeIntervalSince1970)
        metrics = ServingMetrics(modelName: modelName, blockSize: engine.engine.options.blockSize,
                                 prefixCaching: engine.engine.options.prefixCaching)
    }

    public func handle(_ request: HTTPRequest, _ c: HTTPConnection) {
        let path = request.path
        switch (request.method, path) {
        case ("POST", "/v1/completions"): complete(request, c, chat: false)
        case ("POST", "/v1/chat/completions"): complete(request, c, chat: true)
        case ("GET", "/v1/models"):
            let body = "{\"object\":\"list\",\"data\":[{\"id\":\"\(jsonEscape(modelName))\",\"object\":\"model\",\"created\":\(created),\"owned_by\":\"inferscope\",\"root\":\"\(jsonEscape(modelName))\",\"parent\":null,\"max_model_len\":\(maxModelLength)}]}"
            c.respond(HTTPResponse(status: 200, contentType: "application/json", body: body))
        case ("GET", "/health"):
            c.respond(isStopping() ? HTTPResponse.error(status: 503, message: "the server is shutting down")
                                   : HTTPResponse(status: 200))
        case ("GET", "/metrics"):
            c.respond(HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                   body: metrics.render(engine.gauges)))
        case (_, "/v1/completions"), (_, "/v1/chat/completions"), (_, "/v1/models"), (_, "/health"), (_, "/metrics"):
            c.respond(HTTPResponse.error(status: 405, message: "\(request.method) is not allowed on \(path)"))
        default:
            c.respond(HTTPResponse.error(status: 404, message: "no route \(request.method) \(path) (endpoints: POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /health, GET /metrics)"))
        }
    }

    func fail(_ c: HTTPConnection, _ e: APIError) {
        c.respond(HTTPResponse.error(status: e.status, message: e.message, param: e.param))
    }

    /// The prompt's token ids, or a 400 naming the field.
    func promptTokens(_ p: CompletionParameters.Prompt) throws(APIError) -> [Int32] {
        switch p {
        case .tokens(let ids):
            if let bad = ids.first(where: { Int($0) >= vocabSize }) {
                throw APIError(400, "token id \(bad) is outside the model's vocabulary of \(vocabSize)", param: "prompt")
            }
            return ids
        case .text(let s):
            guard let tokenizer else { throw APIError(400, "model '\(modelName)' has no tokenizer: send token ids as the prompt", param: "prompt") }
            return tokenizer.encode(s).map { Int32($0) }
        case .chat(let messages):
            guard let tokenizer else { throw APIError(400, "model '\(modelName)' has no tokenizer: chat needs one; use /v1/completions with token ids", param: "messages") }
            return tokenizer.encode(ChatTemplate.render(messages)).map { Int32($0) }
        }
    }

    /// The trace time of a request that reached the host at `receivedAt` (Unix seconds), given
    /// the trace clock and the wall clock now. A receive time in the future or older than a
    /// minute (a clock step) is ignored: arrival is then `now`. O(1).
    static func arrival(now: TraceTime, receivedAt: Double?, wallNow: Double) -> TraceTime {
        guard let r = receivedAt else { return now }
        let lag = wallNow - r
        guard lag > 0, lag < 60 else { return now }
        return now - TraceTime((lag * 1e9).rounded())
    }

    func complete(_ request: HTTPRequest, _ c: HTTPConnection, chat: Bool) {
        // Arrival: when the request's first byte reached the host (the kernel's receive time,
        // moved onto the trace clock): reading it, waiting for a core to read it, parsing and
        // tokenizing all count towards its TTFT, as they do for the client.
        let arrival = Self.arrival(now: engine.engine.tracer.now(), receivedAt: request.receivedAt, wallNow: Date().timeIntervalSince1970)
        let p: CompletionParameters
        let prompt: [Int32]
        let maxTokens: Int
        do {
            p = try CompletionParameters.parse(request.body, chat: chat)
            if let m = p.model, m != modelName {
                throw APIError(404, "the model '\(m)' does not exist (this server serves '\(modelName)')", param: "model")
            }
            prompt = try promptTokens(p.prompt)
            guard !prompt.isEmpty else { throw APIError(400, "the prompt is empty", param: chat ? "messages" : "prompt") }
            let maxKey = chat ? "max_completion_tokens" : "max_tokens"
            guard prompt.count < maxModelLength else {
                throw APIError(400, "this model's maximum context length is \(maxModelLength) tokens, but the prompt has \(prompt.count) tokens; shorten it", param: chat ? "messages" : "prompt")
            }
            maxTokens = p.maxTokens ?? (maxModelLength - prompt.count)
            guard prompt.count + maxTokens <= maxModelLength else {
                throw APIError(400, "this model's maximum context length is \(maxModelLength) tokens, but \(prompt.count + maxTokens) were requested (\(prompt.count) in the prompt, \(maxTokens) to generate); reduce '\(maxKey)'", param: maxKey)
            }
        } catch let error as APIError {
            fail(c, error)
            return
        } catch {
            fail(c, APIError(500, "\(error)"))
            return
        }
        var stopTokens = p.stopTokenIDs
        if !p.ignoreEOS, let eos = tokenizer?.vocabulary.eos { stopTokens.append(Int32(eos)) }
        var sampling: SamplingParameters?
        if p.temperature != nil || p.topP != nil || p.topK != nil || p.seed != nil {
            sampling = SamplingParameters(temperature: Float(p.temperature ?? Double(defaultTemperature)),
                                          topK: max(0, p.topK ?? 0), topP: Float(p.topP ?? 1))
        }
        let online = OnlineRequest(prompt: prompt, maxTokens: maxTokens, minTokens: min(p.minTokens, maxTokens),
                                   stopTokens: stopTokens, sampling: sampling, seed: p.seed, arrival: arrival)
        if isStopping() { fail(c, APIError(503, "the server is shutting down")); return }
        let channel = EventChannel()
        let metrics = self.metrics
        let id: UInt64
        do {
            id = try engine.submit(online) { events in channel.push(events) }
        } catch {
            fail(c, APIError(503, error.description))
            return
        }
        metrics.arrived(id, prompt: prompt.count, at: arrival)
        channel.observe { metrics.record(id, events: $0) }

        var run = CompletionRun(handler: self, id: id, chat: chat, params: p, prompt: prompt, connection: c)
        run.serve(channel)
    }
}

/// Events of one request, from the engine thread to the connection's thread; also handed to an
/// observer (the metrics) from the moment it is attached, including those delivered before.
final class EventChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [OnlineEvent] = []
    private var early: [OnlineEvent] = []
    private var observer: (([OnlineEvent]) -> Void)?

    func push(_ events: [OnlineEvent]) {
        condition.lock()
        queue += events
        if let observer { observer(events) } else { early += events }
        condition.broadcast()
        condition.unlock()
    }

    /// Attaches `body`, first replaying what arrived before.
    func observe(_ body: @escaping ([OnlineEvent]) -> Void) {
        condition.lock()
        observer = body
        if !early.isEmpty { body(early) }
        early = []
        condition.unlock()
    }

    /// Everything queued, waiting up to `timeout` seconds for at least one event.
    func take(timeout: Double) -> [OnlineEvent] {
        condition.lock()
        defer { condition.unlock() }
        if queue.isEmpty { _ = condition.wait(until: Date(timeIntervalSinceNow: timeout)) }
        let out = queue
        queue.removeAll()
        return out
    }
}

/// One completion in progress on its connection's thread: turns events into response bytes.
struct CompletionRun {
    let handler: OpenAIHandler
    let id: UInt64
    let chat: Bool
    let params: CompletionParameters
    let prompt: [Int32]
    let connection: HTTPConnection
    var text: TextStream
    /// Text decoded so far, and how much of it has been sent (unicode scalars).
    var decoded: [Unicode.Scalar] = []
    var sent = 0
    var generated = 0
    var streamStarted = false
    var roleSent = false
    let created = Int(Date().timeIntervalSince1970)
    let maxStop: Int

    init(handler: OpenAIHandler, id: UInt64, chat: Bool, params: CompletionParameters, prompt: [Int32], connection: HTTPConnection) {
        self.handler = handler
        self.id = id
        self.chat = chat
        self.params = params
        self.prompt = prompt
        self.connection = connection
        text = TextStream(tokenizer: handler.tokenizer, after: prompt)
        maxStop = params.stop.map { $0.unicodeScalars.count }.max() ?? 0
    }

    var responseID: String { chat ? "chatcmpl-\(id)" : "cmpl-\(id)" }

    mutating func serve(_ channel: EventChannel) {
        var finish: String?
        var stopped = false
        loop: while true {
            let events = channel.take(timeout: handler.pollInterval)
            if events.isEmpty {
                if connection.peerClosed() {
                    handler.engine.cancel(id, reason: "client disconnected")
                    return
                }
                continue
            }
            // One streamed event per engine step that produced tokens; the finish reason rides
            // on the step's event that ends the request.
            var pieces: [(text: String, finish: String?)] = []
            for e in events where !stopped {
                switch e {
                case .scheduled: continue
                case .tokens(let tokens, _, _):
                    generated += tokens.count
                    decoded += text.append(tokens).unicodeScalars
                    if let cut = stopMatch() {
                        // A stop string appeared: end here, without it.
                        pieces.append((String(String.UnicodeScalarView(decoded[sent..<cut])), "stop"))
                        sent = cut
                        stopped = true
                        finish = "stop"
                        handler.engine.stopEarly(id)
                    } else {
                        let safe = max(sent, decoded.count - max(0, maxStop - 1))
                        pieces.append((String(String.UnicodeScalarView(decoded[sent..<safe])), nil))
                        sent = safe
                    }
                case .finished(let reason, _):
                    decoded += text.flush().unicodeScalars
                    let rest = String(String.UnicodeScalarView(decoded[sent...]))
                    sent = decoded.count
                    finish = reason == .length ? "length" : "stop"
                    if let last = pieces.last, last.finish == nil {
                        pieces[pieces.count - 1] = (last.text + rest, finish)
                    } else {
                        pieces.append((rest, finish))
                    }
                case .aborted(let reason, _):
                    if !streamStarted {
                        let status = reason == "server stopping" ? 503 : 400
                        handler.fail(connection, APIError(status, "the request was aborted: \(reason)"))
                    } else {
                        _ = connection.send(SSE.event("{\"error\":{\"message\":\"\(jsonEscape("the request was aborted: \(reason)"))\",\"type\":\"AbortedError\",\"code\":503}}"))
                        _ = connection.endStream()
                        connection.keepAlive = false
                    }
                    return
                }
            }
            if params.stream {
                if !streamStarted {
                    streamStarted = true
                    guard connection.startStream(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]) else {
                        handler.engine.cancel(id, reason: "client disconnected")
                        return
                    }
                }
                for p in pieces where !connection.send(SSE.event(chunk(p.text, finish: p.finish))) {
                    handler.engine.cancel(id, reason: "client disconnected")
                    return
                }
            } else if finish == nil, connection.peerClosed() {
                handler.engine.cancel(id, reason: "client disconnected")
                return
            }
            if let finish {
                finishResponse(finish)
                break loop
            }
        }
    }

    /// Where the earliest stop string starts in the decoded text, once `min_tokens` are out.
    func stopMatch() -> Int? {
        guard maxStop > 0, generated >= params.minTokens else { return nil }
        let from = max(0, sent - maxStop)
        let hay = String(String.UnicodeScalarView(decoded[from...]))
        var best: Int?
        for s in params.stop {
            if let r = hay.range(of: s) {
                let offset = from + hay.unicodeScalars.distance(from: hay.unicodeScalars.startIndex, to: r.lowerBound)
                best = min(best ?? offset, offset)
            }
        }
        return best
    }

    func usageJSON() -> String {
        "{\"prompt_tokens\":\(prompt.count),\"completion_tokens\":\(generated),\"total_tokens\":\(prompt.count + generated)}"
    }

    func head(_ object: String) -> String {
        "\"id\":\"\(responseID)\",\"object\":\"\(object)\",\"created\":\(created),\"model\":\"\(jsonEscape(handler.modelName))\""
    }

    /// One streamed chunk carrying `text` (and the finish reason on the last).
    mutating func chunk(_ text: String, finish: String?) -> String {
        let f = finish.map { "\"\($0)\"" } ?? "null"
        if chat {
            let role = roleSent ? "" : "\"role\":\"assistant\","
            roleSent = true
            return "{\(head("chat.completion.chunk")),\"choices\":[{\"index\":0,\"delta\":{\(role)\"content\":\"\(jsonEscape(text))\"},\"logprobs\":null,\"finish_reason\":\(f)}]}"
        }
        return "{\(head("text_completion")),\"choices\":[{\"index\":0,\"text\":\"\(jsonEscape(text))\",\"logprobs\":null,\"finish_reason\":\(f)}]}"
    }

    func finishResponse(_ finish: String) {
        if params.stream {
            if params.includeUsage {
                _ = connection.send(SSE.event("{\(head(chat ? "chat.completion.chunk" : "text_completion")),\"choices\":[],\"usage\":\(usageJSON())}"))
            }
            _ = connection.send(SSE.done)
            _ = connection.endStream()
            return
        }
        let all = jsonEscape(String(String.UnicodeScalarView(decoded[..<sent])))
        let body: String
        if chat {
            body = "{\(head("chat.completion")),\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\(all)\"},\"logprobs\":null,\"finish_reason\":\"\(finish)\"}],\"usage\":\(usageJSON())}"
        } else {
            body = "{\(head("text_completion")),\"choices\":[{\"index\":0,\"text\":\"\(all)\",\"logprobs\":null,\"finish_reason\":\"\(finish)\"}],\"usage\":\(usageJSON())}"
        }
        connection.respond(HTTPResponse(status: 200, contentType: "application/json", body: body))
    }
}
