import Foundation
import LlamaModel
import Scheduling
import TraceFormat

/// One request of a workload, before tokenization: when it arrives, what its prompt is (tokens,
/// a length to fill with seeded synthetic tokens, or text), how many tokens it generates.
public struct WorkloadRequest: Sendable, Equatable {
    /// Arrival offset from the start of the run, nanoseconds (open loop; ignored in closed loop).
    public var arrival: Int64
    /// Explicit prompt token ids, if given.
    public var promptTokens: [Int32]?
    /// Prompt length in tokens (used when neither tokens nor text are given).
    public var promptLength: Int
    /// Prompt text, tokenized with the model's tokenizer when no tokens are given.
    public var text: String?
    /// Tokens to generate.
    public var outputTokens: Int
    /// The client's output limit (≥ `outputTokens`); what the contiguous layout reserves.
    public var maxOutputTokens: Int
    /// Requests of the same group start with the same `prefixLength` tokens.
    public var prefixGroup: String?
    public var prefixLength: Int

    public init(arrival: Int64 = 0, promptTokens: [Int32]? = nil, promptLength: Int, text: String? = nil,
                outputTokens: Int, maxOutputTokens: Int? = nil, prefixGroup: String? = nil, prefixLength: Int = 0) {
        self.arrival = arrival
        self.promptTokens = promptTokens
        self.promptLength = promptLength
        self.text = text
        self.outputTokens = outputTokens
        self.maxOutputTokens = max(outputTokens, maxOutputTokens ?? outputTokens)
        self.prefixGroup = prefixGroup
        self.prefixLength = prefixLength
    }
}

/// How requests enter the engine.
public enum ArrivalPattern: Sendable, Equatable, CustomStringConvertible {
    /// All at time 0 (offline batch).
    case burst
    /// Open loop, exponential inter-arrival times at `rate` requests per second.
    case poisson(rate: Double)
    /// Open loop, gamma inter-arrival times at `rate` req/s with coefficient of variation `cv`
    /// (cv > 1 burstier than Poisson, cv = 1 is Poisson).
    case gamma(rate: Double, cv: Double)
    /// Closed loop: `concurrency` requests in flight; each completion releases the next.
    case closedLoop(concurrency: Int)
    /// Open loop with the arrival offsets given per request (a workload file).
    case recorded

    public var description: String {
        switch self {
        case .burst: return "burst"
        case .poisson(let r): return "poisson:\(formatNumber(r))"
        case .gamma(let r, let cv): return "gamma:\(formatNumber(r)),\(formatNumber(cv))"
        case .closedLoop(let n): return "closed:\(n)"
        case .recorded: return "recorded"
        }
    }

    /// Arrival offsets (ns) for `count` requests. O(count).
    public func offsets(count: Int, rng: inout Xoshiro256) -> [Int64] {
        var t = 0.0
        var out: [Int64] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            out.append(Int64((t * 1e9).rounded()))
            switch self {
            case .burst, .closedLoop, .recorded: break
            case .poisson(let rate): t += -log(max(rng.unit(), 0x1.0p-53)) / rate
            case .gamma(let rate, let cv):
                let k = 1 / (cv * cv)
                t += rng.gamma(shape: k) / (k * rate)
            }
        }
        return out
    }

    public var closedLoopConcurrency: Int? {
        if case .closedLoop(let n) = self { return n }
        return nil
    }
}

/// A named list of requests plus how they arrive, and the parameters that regenerate it.
public struct Workload: Sendable, Equatable {
    /// "mixed", "chat", a file path…
    public var name: String
    public var requests: [WorkloadRequest]
    public var arrival: ArrivalPattern
    /// Generator parameters and seed (for the trace header's workload descriptor).
    public var parameters: [String: String]

    public init(name: String, requests: [WorkloadRequest], arrival: ArrivalPattern, parameters: [String: String] = [:]) {
        self.name = name
        self.requests = requests
        self.arrival = arrival
        self.parameters = parameters
    }

    /// The trace header's description of this workload.
    public var descriptor: WorkloadDescriptor {
        var p = parameters
        p["arrival"] = arrival.description
        return WorkloadDescriptor(name: name, requests: requests.count, parameters: p)
    }

    /// Turns every request into token ids for a model with `vocabSize` tokens: explicit tokens as
    /// given; text through `tokenize`; otherwise seeded synthetic tokens (ids 3 ..< vocabSize, so
    /// never the usual BOS/EOS ids), where requests of one prefix group share their first
    /// `prefixLength` tokens. Request ids are 1-based positions in the workload.
    public func materialize(vocabSize: Int, seed: UInt64,
                            tokenize: ((String) -> [Int32])? = nil) throws(WorkloadError) -> [ServingRequest] {
        var out: [ServingRequest] = []
        out.reserveCapacity(requests.count)
        let low: Int32 = vocabSize > 8 ? 3 : 0
        let span = UInt64(max(1, vocabSize - Int(low)))
        for (i, r) in requests.enumerated() {
            var prompt: [Int32]
            if let tokens = r.promptTokens {
                if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabSize }) {
                    throw WorkloadError(source: name, line: i + 1, field: "prompt_tokens",
                                        message: "token id \(bad) is outside the model's vocabulary",
                                        expected: "ids in 0..<\(vocabSize)")
                }
                prompt = tokens
            } else if let text = r.text, let tokenize {
                prompt = tokenize(text)
            } else {
                var rng = Xoshiro256(seed: SplitMix64.mix(seed, UInt64(i)))
                prompt = (0..<r.promptLength).map { _ in low + Int32(rng.next() % span) }
                if let group = r.prefixGroup, r.prefixLength > 0 {
                    var g = Xoshiro256(seed: SplitMix64.mix(seed, stableHash(group)))
                    for j in 0..<min(r.prefixLength, prompt.count) { prompt[j] = low + Int32(g.next() % span) }
                }
            }
            out.append(ServingRequest(id: SequenceIDBase + UInt64(i), prompt: prompt, outputTokens: r.outputTokens,
                                      maxOutputTokens: r.maxOutputTokens))
        }
        return out
    }
}

/// Request ids start at 1 (0 is reserved).
let SequenceIDBase: UInt64 = 1

/// FNV-1a of a string's UTF-8 bytes: a hash that is the same in every run (unlike `Hasher`).
func stableHash(_ s: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}

/// A workload that cannot be read or built: where (file and line, or the option), which field,
/// what was wrong and what was expected.
public struct WorkloadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var line: Int?
    public var field: String
    public var message: String
    public var expected: String

    public init(source: String, line: Int?, field: String, message: String, expected: String) {
        self.source = source
        self.line = line
        self.field = field
        self.message = message
        self.expected = expected
    }

    public var description: String {
        let at = line.map { "\(source):\($0)" } ?? source
        return "\(at): field '\(field)': \(message); expected \(expected)"
    }
}
