import Foundation

/// What one streamed `data:` payload of an OpenAI-compatible completion says, read after the run
/// (the client only timestamps and stores payloads while streaming, so JSON decoding never
/// delays a timestamp).
///
/// Recognised: `choices[0].text` (completions), `choices[0].delta.content` and
/// `delta.reasoning_content` (chat), `choices[0].finish_reason`, `usage` (`prompt_tokens`,
/// `completion_tokens`, `prompt_tokens_details.cached_tokens`) on any chunk — usage-only chunks
/// with `choices: []` (OpenAI, vLLM, llama.cpp chat) or on the finish chunk (llama.cpp
/// completions) — llama.cpp's `timings` (`prompt_n`, `predicted_n`, `cache_n`), a mid-stream
/// `error` object, and the server's `model` and `system_fingerprint`.
public struct StreamChunk: Sendable, Equatable {
    /// The payload was `[DONE]`.
    public var done = false
    /// The payload was not a JSON object (reported, not fatal).
    public var malformed = false
    /// `choices` is a non-empty array.
    public var hasChoices = false
    /// Generated text in this chunk (completion text, chat content or reasoning), possibly empty.
    public var text = ""
    public var finishReason: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var cachedTokens: Int?
    /// llama.cpp `timings`.
    public var timingsPromptTokens: Int?
    public var timingsPredictedTokens: Int?
    public var timingsCachedTokens: Int?
    /// A mid-stream `{"error": …}` message.
    public var error: String?
    public var model: String?
    public var systemFingerprint: String?

    public init() {}

    /// Whether the chunk carries generated text (TTFT starts counting at the first such chunk,
    /// as AIPerf and SGLang define it; vLLM counts role-only chunks too).
    public var hasContent: Bool { hasChoices && !text.isEmpty }

    /// Decodes one payload. Never throws: malformed JSON sets `malformed`. O(payload size).
    public static func decode(_ payload: [UInt8]) -> StreamChunk {
        var c = StreamChunk()
        if payload == Array("[DONE]".utf8) { c.done = true; return c }
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else {
            c.malformed = true
            return c
        }
        c.model = object["model"] as? String
        c.systemFingerprint = object["system_fingerprint"] as? String
        if let e = object["error"] {
            if let d = e as? [String: Any] { c.error = (d["message"] as? String) ?? "\(d)" } else { c.error = "\(e)" }
        }
        if let choices = object["choices"] as? [[String: Any]], let first = choices.first {
            c.hasChoices = true
            if let t = first["text"] as? String { c.text += t }
            if let delta = first["delta"] as? [String: Any] {
                if let t = delta["content"] as? String { c.text += t }
                if let t = delta["reasoning_content"] as? String { c.text += t }
            }
            c.finishReason = first["finish_reason"] as? String
        }
        if let usage = object["usage"] as? [String: Any] {
            c.promptTokens = int(usage["prompt_tokens"])
            c.completionTokens = int(usage["completion_tokens"])
            c.cachedTokens = int((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"])
        }
        if let timings = object["timings"] as? [String: Any] {
            c.timingsPromptTokens = int(timings["prompt_n"])
            c.timingsPredictedTokens = int(timings["predicted_n"])
            c.timingsCachedTokens = int(timings["cache_n"])
        }
        return c
    }

    private static func int(_ v: Any?) -> Int? {
        if let i = v as? Int { return i }
        if let d = v as? Double, d.isFinite { return Int(d) }
        if let n = v as? NSNumber { return n.intValue }
        return nil
    }
}
