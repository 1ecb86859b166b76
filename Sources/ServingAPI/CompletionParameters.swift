/// An error answered to the client: HTTP status, message, and the request field at fault
/// (OpenAI's `param`).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var param: String?
    public init(_ status: Int, _ message: String, param: String? = nil) {
        self.status = status
        self.message = message
        self.param = param
    }
    public var description: String { "\(status) \(param.map { "[\($0)] " } ?? "")\(message)" }
}

/// One chat message: a role and its text (content parts of type "text" are concatenated).
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// The fields of `POST /v1/completions` and `/v1/chat/completions` this server honours, checked
/// for type and range. Unknown fields are ignored (as vLLM does), so clients that send extras
/// (`logprobs: null`, `repetition_penalty: 1.0`, `best_of: 1`) work unchanged.
public struct CompletionParameters: Sendable, Equatable {
    public enum Prompt: Sendable, Equatable {
        case text(String)
        case tokens([Int32])
        case chat([ChatMessage])
    }
    public var prompt: Prompt
    public var model: String?
    /// `max_tokens` (or chat's `max_completion_tokens`); nil: up to the context length.
    public var maxTokens: Int?
    public var minTokens = 0
    public var temperature: Double?
    public var topP: Double?
    /// 0 or -1: off.
    public var topK: Int?
    public var seed: UInt64?
    public var stop: [String] = []
    /// Token ids that end generation (vLLM's `stop_token_ids`).
    public var stopTokenIDs: [Int32] = []
    public var ignoreEOS = false
    public var stream = false
    public var includeUsage = false

    /// Parses a request body. `chat` selects the chat endpoint's shape (`messages`). Every
    /// error names the field and what was expected.
    public static func parse(_ body: [UInt8], chat: Bool) throws(APIError) -> CompletionParameters {
        let doc: JSON
        do { doc = try JSON.parse(body) } catch {
            throw APIError(400, "the request body is not valid JSON: \(error.description)")
        }
        guard case .object(let o) = doc else { throw APIError(400, "the request body must be a JSON object, found \(doc.kind)") }

        func string(_ k: String) throws(APIError) -> String? {
            guard let v = o[k], v != .null else { return nil }
            guard case .string(let s) = v else { throw APIError(400, "'\(k)' must be a string, found \(v.kind)", param: k) }
            return s
        }
        func bool(_ k: String) throws(APIError) -> Bool? {
            guard let v = o[k], v != .null else { return nil }
            guard case .bool(let b) = v else { throw APIError(400, "'\(k)' must be true or false, found \(v.kind)", param: k) }
            return b
        }
        func number(_ k: String, _ range: ClosedRange<Double>) throws(APIError) -> Double? {
            guard let v = o[k], v != .null else { return nil }
            guard case .number(let d, _) = v else { throw APIError(400, "'\(k)' must be a number, found \(v.kind)", param: k) }
            guard range.contains(d) else {
                throw APIError(400, "'\(k)' must be in \(range.lowerBound)…\(range.upperBound), found \(d)", param: k)
            }
            return d
        }
        func integer(_ k: String, min: Int, max: Int = Int(Int32.max)) throws(APIError) -> Int? {
            guard let v = o[k], v != .null else { return nil }
            guard case .number(let d, let isInt) = v, isInt || d == d.rounded(), abs(d) < 1e15 else {
                throw APIError(400, "'\(k)' must be an integer, found \(v.kind)", param: k)
            }
            guard Int(d) >= min, Int(d) <= max else { throw APIError(400, "'\(k)' must be at least \(min)\(max < Int(Int32.max) ? " and at most \(max)" : ""), found \(Int(d))", param: k) }
            return Int(d)
        }
        func tokenList(_ a: [JSON], _ k: String) throws(APIError) -> [Int32] {
            var out: [Int32] = []
            out.reserveCapacity(a.count)
            for (i, e) in a.enumerated() {
                guard case .number(let d, true) = e, d >= 0, d < Double(Int32.max) else {
                    throw APIError(400, "'\(k)[\(i)]' must be a non-negative integer token id, found \(e.kind)", param: k)
                }
                out.append(Int32(d))
            }
            return out
        }

        let prompt: Prompt
        if chat {
            guard let m = o["messages"] else { throw APIError(400, "'messages' is required", param: "messages") }
            guard case .array(let list) = m, !list.isEmpty else {
                throw APIError(400, "'messages' must be a non-empty array of {role, content}, found \(m.kind)", param: "messages")
            }
            var messages: [ChatMessage] = []
            for (i, item) in list.enumerated() {
                let at = "messages[\(i)]"
                guard case .string(let role)? = item["role"] else {
                    throw APIError(400, "'\(at).role' must be a string (system, user, assistant…)", param: "\(at).role")
                }
                var text = ""
                switch item["content"] {
                case .string(let s)?: text = s
                case .null?, nil: text = ""
                case .array(let parts)?:
                    for (j, part) in parts.enumerated() {
                        guard case .string("text")? = part["type"], case .string(let t)? = part["text"] else {
                            throw APIError(400, "'\(at).content[\(j)]' must be {\"type\": \"text\", \"text\": …} (only text is supported)",
                                           param: "\(at).content[\(j)]")
                        }
                        text += t
                    }
                case let other?:
                    throw APIError(400, "'\(at).content' must be a string or an array of text parts, found \(other.kind)", param: "\(at).content")
                }
                messages.append(ChatMessage(role: role, content: text))
            }
            prompt = .chat(messages)
        } else {
            guard let p = o["prompt"] else { throw APIError(400, "'prompt' is required", param: "prompt") }
            switch p {
            case .string(let s): prompt = .text(s)
            case .array(let a) where a.isEmpty: throw APIError(400, "'prompt' must not be empty", param: "prompt")
            case .array(let a):
                switch a[0] {
                case .number: prompt = .tokens(try tokenList(a, "prompt"))
                case .string(let s):
                    guard a.count == 1 else { throw APIError(400, "'prompt' holds \(a.count) prompts; this server takes one per request", param: "prompt") }
                    prompt = .text(s)
                case .array(let inner):
                    guard a.count == 1 else { throw APIError(400, "'prompt' holds \(a.count) prompts; this server takes one per request", param: "prompt") }
                    prompt = .tokens(try tokenList(inner, "prompt[0]"))
                default:
                    throw APIError(400, "'prompt' must be a string, a list of token ids or a list of one of these, found an array of \(a[0].kind)", param: "prompt")
                }
            default:
                throw APIError(400, "'prompt' must be a string or a list of token ids, found \(p.kind)", param: "prompt")
            }
        }
        var r = CompletionParameters(prompt: prompt)
        r.model = try string("model")
        let maxKey = chat && o["max_completion_tokens"] != nil && o["max_completion_tokens"] != .null ? "max_completion_tokens" : "max_tokens"
        r.maxTokens = try integer(maxKey, min: 1)
        r.minTokens = try integer("min_tokens", min: 0) ?? 0
        r.temperature = try number("temperature", 0...2)
        r.topP = try number("top_p", 0.000001...1)
        r.topK = try integer("top_k", min: -1)
        if let s = try integer("seed", min: Int(Int32.min)) { r.seed = UInt64(bitPattern: Int64(s)) }
        if let n = try integer("n", min: 1), n != 1 { throw APIError(400, "'n' must be 1 (one completion per request), found \(n)", param: "n") }
        switch o["stop"] {
        case nil, .null?: break
        case .string(let s)?: r.stop = s.isEmpty ? [] : [s]
        case .array(let a)?:
            for (i, e) in a.enumerated() {
                guard case .string(let s) = e else { throw APIError(400, "'stop[\(i)]' must be a string, found \(e.kind)", param: "stop") }
                if !s.isEmpty { r.stop.append(s) }
            }
        case let other?: throw APIError(400, "'stop' must be a string or an array of strings, found \(other.kind)", param: "stop")
        }
        if case .array(let a)? = o["stop_token_ids"] { r.stopTokenIDs = try tokenList(a, "stop_token_ids") }
        r.ignoreEOS = try bool("ignore_eos") ?? false
        r.stream = try bool("stream") ?? false
        switch o["stream_options"] {
        case nil, .null?: break
        case .object(let so)?:
            if let v = so["include_usage"], v != .null {
                guard case .bool(let b) = v else {
                    throw APIError(400, "'stream_options.include_usage' must be true or false, found \(v.kind)", param: "stream_options.include_usage")
                }
                r.includeUsage = b
            }
        case let other?: throw APIError(400, "'stream_options' must be an object, found \(other.kind)", param: "stream_options")
        }
        if let m = r.maxTokens, r.minTokens > m {
            throw APIError(400, "'min_tokens' (\(r.minTokens)) must not exceed '\(maxKey)' (\(m))", param: "min_tokens")
        }
        return r
    }

    public init(prompt: Prompt) { self.prompt = prompt }
}

/// The chat template: how `messages` become one prompt for a model without a chat format of
/// its own. Each message is `<|role|>\n` + content + `\n`, in order, and the prompt ends with
/// `<|assistant|>\n` so the model continues as the assistant; the tokenizer adds BOS. Roles are
/// written as sent (lower-cased). Deterministic and documented in docs/serve.md.
public enum ChatTemplate {
    public static func render(_ messages: [ChatMessage]) -> String {
        var out = ""
        for m in messages { out += "<|\(m.role.lowercased())|>\n\(m.content)\n" }
        return out + "<|assistant|>\n"
    }
}
