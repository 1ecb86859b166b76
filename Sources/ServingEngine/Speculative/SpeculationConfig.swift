/// A command-line speculation setting that could not be parsed.
public struct SpeculationConfigError: Error, Equatable, CustomStringConvertible {
    /// The option: "--spec" or "--gamma".
    public var option: String
    public var value: String
    public var expected: String

    public var description: String { "\(option) \(value): \(expected)" }
}

/// Where draft tokens come from (`--spec`).
public enum DraftStrategy: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `draft:MODEL` — a separate, smaller model with the target's vocabulary: a preset name or
    /// a GGUF / llama2.c path. It has its own transformer and KV cache.
    case draftModel(String)
    /// `quant` — the target's own weights re-quantized to q4_0 (QuantSpec-style self-draft).
    case quantized
    /// `early-exit:K` — the target's first K layers, then its final norm and LM head.
    case earlyExit(layers: Int)
    /// `ngram` or `ngram:N` — prompt lookup: match the last N…1 tokens (default N = 3) earlier in
    /// the context and propose what followed. No model.
    case ngram(maxMatch: Int)

    /// Parses `draft:MODEL`, `quant`, `early-exit:K`, `ngram[:N]`.
    public init(parsing text: String) throws(SpeculationConfigError) {
        let expected = "expected draft:MODEL (a preset or model file), quant, early-exit:K (K ≥ 1 layers) or ngram[:N] (N ≥ 1)"
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts.first ?? "" {
        case "draft" where parts.count == 2 && !parts[1].isEmpty:
            self = .draftModel(parts[1])
        case "quant" where parts.count == 1:
            self = .quantized
        case "early-exit" where parts.count == 2:
            guard let k = Int(parts[1]), k >= 1 else { throw SpeculationConfigError(option: "--spec", value: text, expected: expected) }
            self = .earlyExit(layers: k)
        case "ngram":
            guard parts.count == 1 || (Int(parts[1]).map { $0 >= 1 } ?? false) else {
                throw SpeculationConfigError(option: "--spec", value: text, expected: expected)
            }
            self = .ngram(maxMatch: parts.count == 2 ? Int(parts[1])! : 3)
        default:
            throw SpeculationConfigError(option: "--spec", value: text, expected: expected)
        }
    }

    /// The command-line spelling (round-trips through ``init(parsing:)``).
    public var description: String {
        switch self {
        case .draftModel(let model): return "draft:\(model)"
        case .quantized: return "quant"
        case .earlyExit(let k): return "early-exit:\(k)"
        case .ngram(let n): return n == 3 ? "ngram" : "ngram:\(n)"
        }
    }
}

/// How many tokens to draft per round (`--gamma`).
public enum DraftLength: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Always γ.
    case fixed(Int)
    /// Per sequence, the γ in 1…`maximum` that maximizes the predicted speedup from the running
    /// acceptance estimate and cost ratio (see ``AdaptiveDraftLength``).
    case adaptive(maximum: Int)

    /// Parses `N` (1…16) or `adaptive` (maximum 8) or `adaptive:M`.
    public init(parsing text: String) throws(SpeculationConfigError) {
        let expected = "expected a draft length N in 1...16, adaptive, or adaptive:M (maximum M in 1...16)"
        if let n = Int(text) {
            guard (1...16).contains(n) else { throw SpeculationConfigError(option: "--gamma", value: text, expected: expected) }
            self = .fixed(n)
        } else if text == "adaptive" {
            self = .adaptive(maximum: 8)
        } else if text.hasPrefix("adaptive:"), let m = Int(text.dropFirst("adaptive:".count)), (1...16).contains(m) {
            self = .adaptive(maximum: m)
        } else {
            throw SpeculationConfigError(option: "--gamma", value: text, expected: expected)
        }
    }

    /// The largest γ this setting can ask for.
    public var maximum: Int {
        switch self {
        case .fixed(let g): return g
        case .adaptive(let m): return m
        }
    }

    public var description: String {
        switch self {
        case .fixed(let g): return "\(g)"
        case .adaptive(let m): return m == 8 ? "adaptive" : "adaptive:\(m)"
        }
    }
}

/// A run's speculation setting.
public struct SpeculationConfig: Sendable, Equatable, Hashable {
    public var strategy: DraftStrategy
    public var draftLength: DraftLength

    public init(strategy: DraftStrategy, draftLength: DraftLength = .fixed(4)) {
        self.strategy = strategy
        self.draftLength = draftLength
    }
}
