import Foundation
import LlamaModel

extension Workload {
    /// Reads a workload file: `.jsonl` is the request format of docs/workloads.md; `.json` is a
    /// ShareGPT-style conversation list. `arrival` replaces the file's arrival offsets unless it is
    /// `.recorded` (ShareGPT files carry none: `.recorded` means `burst` there).
    public static func load(path: String, arrival: ArrivalPattern = .recorded, seed: UInt64 = 0,
                            limit: Int? = nil) throws(WorkloadError) -> Workload {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WorkloadError(source: path, line: nil, field: "file", message: "cannot read the file",
                                expected: "an existing, readable .jsonl request file or ShareGPT .json file")
        }
        var w: Workload
        if path.hasSuffix(".jsonl") {
            w = try parseJSONL(data, source: path)
        } else {
            w = try parseShareGPT(data, source: path)
        }
        if let limit, limit < w.requests.count { w.requests.removeLast(w.requests.count - limit) }
        w.parameters["file_bytes"] = "\(data.count)"
        w.parameters["file_fnv1a"] = String(stableHash(String(decoding: data, as: UTF8.self)), radix: 16)
        if arrival != .recorded || w.arrival != .recorded {
            let pattern = arrival == .recorded ? ArrivalPattern.burst : arrival
            var rng = Xoshiro256(seed: seed)
            let offsets = pattern.offsets(count: w.requests.count, rng: &rng)
            for i in w.requests.indices { w.requests[i].arrival = offsets[i] }
            w.arrival = pattern
            w.parameters["seed"] = "\(seed)"
        }
        return w
    }

    /// Parses the JSONL request format: one object per non-empty line (see docs/workloads.md).
    /// Errors name the line and field. O(bytes).
    public static func parseJSONL(_ data: Data, source: String) throws(WorkloadError) -> Workload {
        var requests: [WorkloadRequest] = []
        let text = String(decoding: data, as: UTF8.self)
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let n = index + 1
            func fail(_ field: String, _ message: String, _ expected: String) -> WorkloadError {
                WorkloadError(source: source, line: n, field: field, message: message, expected: expected)
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw fail("(line)", "not a JSON object", "one JSON object per line, e.g. {\"prompt_length\": 128, \"output_length\": 64}")
            }
            let known: Set<String> = ["arrival", "prompt_tokens", "prompt_length", "output_length", "max_output",
                                      "prefix_group", "prefix_length", "text"]
            if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw fail(unknown, "unknown field", "only \(known.sorted().joined(separator: ", "))")
            }
            func int(_ key: String, min: Int) throws(WorkloadError) -> Int? {
                guard let v = object[key] else { return nil }
                // At most 2^31 - 1: counts beyond that are not token counts, and sums of them
                // (prompt + output) must not overflow.
                guard let number = v as? NSNumber, !isJSONBool(v), number.doubleValue == number.doubleValue.rounded(),
                      number.doubleValue >= Double(min), number.doubleValue <= Double(Int32.max) else {
                    throw fail(key, "value \(v) is not a whole number in \(min)…\(Int32.max)", "an integer ≥ \(min)")
                }
                return number.intValue
            }
            var arrival: Int64 = 0
            if let v = object["arrival"] {
                // The bound keeps the nanoseconds inside Int64 (a larger value used to trap).
                guard let s = (v as? NSNumber)?.doubleValue, !isJSONBool(v), s >= 0, s.isFinite, s <= 1e9 else {
                    throw fail("arrival", "value \(v) is not a number of seconds in 0…1e9", "seconds since the start, e.g. 0.25")
                }
                arrival = Int64((s * 1e9).rounded())
            }
            var tokens: [Int32]?
            if let v = object["prompt_tokens"] {
                guard let list = v as? [NSNumber], !list.isEmpty,
                      list.allSatisfy({ !isJSONBool($0) && $0.doubleValue == $0.doubleValue.rounded() && $0.int64Value >= 0 && $0.int64Value < Int64(Int32.max) }) else {
                    throw fail("prompt_tokens", "not a non-empty list of token ids", "e.g. [1, 450, 4996]")
                }
                tokens = list.map { Int32($0.int64Value) }
            }
            var text: String?
            if let v = object["text"] {
                guard let s = v as? String else { throw fail("text", "not a string", "the prompt text") }
                text = s
            }
            let length = try int("prompt_length", min: 1)
            guard tokens != nil || length != nil || text != nil else {
                throw fail("prompt_length", "missing: no prompt_tokens, prompt_length or text", "one of them")
            }
            guard let output = try int("output_length", min: 1) else {
                throw fail("output_length", "missing", "the number of tokens to generate, ≥ 1")
            }
            let maxOutput = try int("max_output", min: output)
            var group: String?
            if let v = object["prefix_group"] {
                guard let s = v as? String, !s.isEmpty else { throw fail("prefix_group", "not a non-empty string", "a group name") }
                group = s
            }
            let prefixLength = try int("prefix_length", min: 0) ?? 0
            let promptLength = tokens?.count ?? length ?? 0
            if group != nil && prefixLength >= max(1, promptLength) && tokens == nil && text == nil {
                throw fail("prefix_length", "\(prefixLength) is not shorter than the prompt (\(promptLength))",
                           "a shared prefix shorter than prompt_length")
            }
            requests.append(WorkloadRequest(arrival: arrival, promptTokens: tokens, promptLength: promptLength, text: text,
                                            outputTokens: output, maxOutputTokens: maxOutput, prefixGroup: group,
                                            prefixLength: prefixLength))
        }
        guard !requests.isEmpty else {
            throw WorkloadError(source: source, line: nil, field: "(file)", message: "no requests", expected: "at least one JSON line")
        }
        // Stable sort by arrival: the engine releases requests in time order.
        let sorted = requests.enumerated().sorted { ($0.element.arrival, $0.offset) < ($1.element.arrival, $1.offset) }.map(\.element)
        return Workload(name: source, requests: sorted, arrival: .recorded, parameters: [:])
    }

    /// Converts a ShareGPT-style file — a JSON array of `{"conversations": [{"from": "human",
    /// "value": …}, {"from": "gpt", "value": …}, …]}` — into requests, one per conversation with a
    /// human turn followed by an assistant turn (the first such pair, as vLLM's benchmark does):
    /// the human text is the prompt, the reply's length (≈ 4 characters per token) the output
    /// length. Conversations without such a pair are skipped.
    public static func parseShareGPT(_ data: Data, source: String) throws(WorkloadError) -> Workload {
        guard let array = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
            throw WorkloadError(source: source, line: nil, field: "(file)", message: "not a JSON array",
                                expected: "a ShareGPT-style array of {\"conversations\": [{\"from\", \"value\"}…]}, or a .jsonl request file")
        }
        var requests: [WorkloadRequest] = []
        for (i, item) in array.enumerated() {
            guard let object = item as? [String: Any], let turns = object["conversations"] as? [[String: Any]] else {
                throw WorkloadError(source: source, line: nil, field: "[\(i)].conversations", message: "missing or not a list of turns",
                                    expected: "a list of {\"from\": \"human\"|\"gpt\", \"value\": text}")
            }
            var k = 0
            while k + 1 < turns.count {
                let from = turns[k]["from"] as? String, next = turns[k + 1]["from"] as? String
                if let prompt = turns[k]["value"] as? String, let reply = turns[k + 1]["value"] as? String,
                   from == "human" || from == "user", next == "gpt" || next == "assistant" || next == "chatgpt" {
                    let promptLength = max(1, prompt.count / 4), output = max(1, reply.count / 4)
                    requests.append(WorkloadRequest(promptLength: promptLength, text: prompt, outputTokens: output))
                    break
                }
                k += 1
            }
        }
        guard !requests.isEmpty else {
            throw WorkloadError(source: source, line: nil, field: "conversations", message: "no human → assistant turn pair found",
                                expected: "at least one conversation with a human turn followed by a gpt turn")
        }
        return Workload(name: source, requests: requests, arrival: .recorded, parameters: ["format": "sharegpt"])
    }

    /// Clips every request so prompt + max output fits `maxContext` (prompt kept, output cut);
    /// drops requests whose prompt alone does not fit. Returns how many were changed or dropped.
    public mutating func fit(maxContext: Int, tokenCounts: [Int]? = nil) -> (clipped: Int, dropped: Int) {
        var clipped = 0, dropped = 0
        var kept: [WorkloadRequest] = []
        for (i, var r) in requests.enumerated() {
            let p = tokenCounts?[i] ?? r.promptTokens?.count ?? r.promptLength
            if p >= maxContext { dropped += 1; continue }
            if r.maxOutputTokens > maxContext - p {  // (p + max output could overflow)
                r.maxOutputTokens = maxContext - p
                r.outputTokens = min(r.outputTokens, r.maxOutputTokens)
                clipped += 1
            }
            kept.append(r)
        }
        requests = kept
        return (clipped, dropped)
    }
}

/// Whether a `JSONSerialization` value is `true`/`false` (on Linux every NSNumber bridges to
/// `Bool`, so `is Bool` cannot tell 1 from true).
func isJSONBool(_ v: Any) -> Bool {
    if let n = v as? NSNumber { return String(cString: n.objCType) == "c" }
    return v is Bool
}
