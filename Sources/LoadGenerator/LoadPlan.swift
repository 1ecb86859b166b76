/// One request to send: when (open loop), what prompt, how many tokens to ask for. A plain value
/// built by the CLI from a `ServingEngine.Workload`, so this module does not import the runtime.
public struct LoadRequest: Sendable, Equatable {
    /// 1-based position in the workload (the trace's request id).
    public var id: UInt64
    /// Send time after the run starts, nanoseconds (open loop; ignored in closed loop).
    public var arrival: Int64
    /// Prompt token ids (sent as a list when the server accepts them).
    public var promptTokens: [Int32]
    /// Prompt as text, sent when token lists are refused or `--prompt-format text` is chosen.
    public var promptText: String
    /// `max_tokens`; with `ignoreEOS` the server should generate exactly this many.
    public var maxTokens: Int

    public init(id: UInt64, arrival: Int64, promptTokens: [Int32], promptText: String, maxTokens: Int) {
        self.id = id
        self.arrival = arrival
        self.promptTokens = promptTokens
        self.promptText = promptText
        self.maxTokens = maxTokens
    }

    /// The planned prompt length in tokens.
    public var promptLength: Int { promptTokens.count }
}

/// How requests are released.
public enum LoadArrival: Sendable, Equatable {
    /// At each request's `arrival` offset (Poisson, gamma, recorded, or all at 0 for a burst).
    case openLoop
    /// `concurrency` requests in flight; each completion releases the next.
    case closedLoop(concurrency: Int)
}

/// The OpenAI route to use.
public enum EndpointAPI: String, Sendable, CaseIterable {
    /// `POST /v1/completions` with `prompt` (token list or text).
    case completions
    /// `POST /v1/chat/completions` with one user message (text only).
    case chat
}

/// How a prompt is sent.
public enum PromptFormat: String, Sendable, CaseIterable {
    /// Token ids (exact lengths; vLLM, SGLang, llama.cpp and `inferscope serve` accept them).
    case tokens
    /// Text of about the target length (one common word per token).
    case text
}

/// Where and how to send requests.
public struct EndpointConfiguration: Sendable {
    /// Base URL, e.g. `http://127.0.0.1:8000` (a trailing `/v1` is accepted).
    public var baseURL: String
    /// The `model` field; nil sends none (servers with one model accept that).
    public var model: String?
    public var api: EndpointAPI
    public var promptFormat: PromptFormat
    /// Sent as `ignore_eos: true` so outputs have the planned length (as vLLM's and SGLang's
    /// benchmarks do); servers that do not know it ignore it or stop early — `usage` tells.
    public var ignoreEOS: Bool
    public var temperature: Double
    /// `Authorization: Bearer …` when set.
    public var apiKey: String?
    /// Idle timeout per request, seconds.
    public var timeout: Double
    /// Maximum simultaneous connections (≥ the run's concurrency, else the client queues).
    public var maxConnections: Int

    public init(baseURL: String, model: String? = nil, api: EndpointAPI = .completions, promptFormat: PromptFormat = .tokens,
                ignoreEOS: Bool = true, temperature: Double = 0, apiKey: String? = nil, timeout: Double = 600,
                maxConnections: Int = 64) {
        self.baseURL = baseURL
        self.model = model
        self.api = api
        self.promptFormat = promptFormat
        self.ignoreEOS = ignoreEOS
        self.temperature = temperature
        self.apiKey = apiKey
        self.timeout = timeout
        self.maxConnections = maxConnections
    }

    /// The base URL without a trailing `/` or `/v1`.
    public var root: String {
        var s = baseURL
        while s.hasSuffix("/") { s.removeLast() }
        if s.hasSuffix("/v1") { s.removeLast(3) }
        return s
    }
}

/// A prompt of about `tokens` tokens as text: common English words, one per token for the
/// usual BPE and SentencePiece vocabularies (each word with its leading space is one token),
/// varied by `seed` so requests do not share a prefix by accident. O(tokens).
public func syntheticPromptText(tokens: Int, seed: UInt64) -> String {
    let words = ["the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
                 "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you"]
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var out: [String] = []
    out.reserveCapacity(tokens)
    for _ in 0..<max(1, tokens) {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        out.append(words[Int((state >> 33) % UInt64(words.count))])
    }
    return out.joined(separator: " ")
}
