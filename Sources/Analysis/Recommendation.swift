/// A predicted improvement on one objective: `factor` > 1 is better (latency divided by it,
/// throughput multiplied by it), with the formula and the inputs it used.
public struct Gain: Sendable, Equatable {
    public var factor: Double
    public var formula: String
    /// Input name → value, printed in key order.
    public var inputs: [String: Double]

    public init(_ factor: Double, _ formula: String, _ inputs: [String: Double] = [:]) {
        self.factor = factor
        self.formula = formula
        self.inputs = inputs
    }

    /// Factors below this are a predicted loss worth reporting (a 5% loss); between it and 1 the
    /// change is "about the same" at the analyzer's precision.
    public static let lossBelow = 0.95

    /// Whether this predicts a material loss (``lossBelow``).
    public var isLoss: Bool { factor < Gain.lossBelow }
}

/// Whether a rule fired.
public enum RuleStatus: String, Sendable, Equatable {
    case triggered
    case notTriggered = "not-triggered"
    /// The rule needs data the trace lacks; ``Recommendation/missing`` says what.
    case insufficientData = "insufficient-data"
}

/// One rule's outcome (methodology §7.4): trigger conditions with their numbers, evidence,
/// predicted gains per objective, confidence, caveats and the runtime switch it maps to.
public struct Recommendation: Sendable, Equatable {
    /// Stable id, "R1"…"R11".
    public var id: String
    /// Stable machine key, e.g. "kv-quantization".
    public var key: String
    public var title: String
    public var status: RuleStatus
    /// Every trigger condition, evaluated.
    public var conditions: [Evidence]
    public var evidence: [String]
    public var gains: [Objective: Gain]
    /// 1.0 formula with measured inputs; 0.6 formula with assumed inputs; 0.4 literature range.
    public var confidence: Double
    public var caveats: [String]
    /// Data the rule needed and the trace did not have.
    public var missing: [String]
    /// The InferScope runtime options (RunHeader.options keys) that apply this advice, if any.
    public var runtimeChange: [String: String]?
    public var literature: [String]
    /// A §7.6 disagreement in the literature that matters here.
    public var disagreement: String?

    public init(id: String, key: String, title: String, status: RuleStatus = .notTriggered,
                conditions: [Evidence] = [], evidence: [String] = [], gains: [Objective: Gain] = [:],
                confidence: Double = 1, caveats: [String] = [], missing: [String] = [],
                runtimeChange: [String: String]? = nil, literature: [String] = [], disagreement: String? = nil) {
        self.id = id
        self.key = key
        self.title = title
        self.status = status
        self.conditions = conditions
        self.evidence = evidence
        self.gains = gains
        self.confidence = confidence
        self.caveats = caveats
        self.missing = missing
        self.runtimeChange = runtimeChange
        self.literature = literature
        self.disagreement = disagreement
    }

    /// Ranking score for `objective`: gain × confidence (0 when the rule did not fire or does not
    /// help this objective).
    public func score(for objective: Objective) -> Double {
        guard status == .triggered, let g = gains[objective], g.factor > 1 else { return 0 }
        return g.factor * confidence
    }

    /// Sets status from the conditions: triggered iff all hold.
    mutating func decide() {
        if !missing.isEmpty { status = .insufficientData; return }
        status = conditions.allSatisfy(\.holds) ? .triggered : .notTriggered
    }
}

/// One of the rules R1–R13.
public protocol Rule: Sendable {
    var id: String { get }
    /// Evaluates the rule on the features.
    func evaluate(_ f: Features) -> Recommendation
    /// The features after this advice is applied (for greedy re-ranking); identity by default.
    func apply(_ r: Recommendation, to f: Features) -> Features
}

extension Rule {
    public func apply(_ r: Recommendation, to f: Features) -> Features { f }
}

/// Amdahl: whole-run speedup when a part with time share `share` gets `factor` faster.
func amdahl(share: Double, factor: Double) -> Double {
    guard factor > 0 else { return 1 }
    return 1 / ((1 - share) + share / factor)
}
