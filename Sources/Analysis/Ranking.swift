/// One place in a ranked list.
public struct RankedRecommendation: Sendable, Equatable {
    public var rank: Int
    public var id: String
    /// gain × confidence on the objective, as evaluated in the round it was chosen.
    public var score: Double
    public var gain: Gain
    public var confidence: Double
    /// 1…3 for the greedy rounds (features updated after each pick); nil for the tail, ranked
    /// by score on the features after round 3.
    public var round: Int?
}

/// The recommendations ranked for one objective (methodology §7.4): score = gain × confidence;
/// after each pick the features are updated with the pick's predicted effect and the remaining
/// rules re-evaluated (greedy, at most 3 rounds).
public struct Ranking: Sendable, Equatable {
    public var objective: Objective
    public var entries: [RankedRecommendation]
}

/// The rule set and the ranking procedure.
public enum RuleSet {
    /// R1…R13 in id order.
    public static let all: [any Rule] = [
        R1ContinuousBatching(), R2PagedKV(), R3KVQuantization(), R4SpeculativeDecoding(), R5ChunkedPrefill(),
        R6Disaggregation(), R7PrefixCaching(), R8KVOffload(), R9SmallerModel(), R10IncreaseConcurrency(),
        R11KernelOverhead(),
        R12PrefillDecodeRebalance(),
        R13AdmissionCap(),
    ]

    /// Every rule evaluated on `features`, in id order.
    public static func evaluate(_ features: Features) -> [Recommendation] {
        all.map { $0.evaluate(features) }
    }

    /// Greedy ranking for `objective`. O(rounds · rules).
    public static func rank(_ features: Features, objective: Objective, rounds: Int = 3) -> Ranking {
        var f = features
        var remaining = all
        var entries: [RankedRecommendation] = []
        var current = remaining.map { $0.evaluate(f) }
        for round in 1...max(1, rounds) {
            guard let best = bestIndex(current, objective) else { break }
            let rec = current[best]
            entries.append(RankedRecommendation(rank: entries.count + 1, id: rec.id, score: rec.score(for: objective),
                                                gain: rec.gains[objective]!, confidence: rec.confidence, round: round))
            f = remaining[best].apply(rec, to: f)
            remaining.remove(at: best)
            current = remaining.map { $0.evaluate(f) }
        }
        let tail = current.enumerated().filter { $0.element.score(for: objective) > 0 }
            .sorted { a, b in
                let sa = a.element.score(for: objective), sb = b.element.score(for: objective)
                return sa != sb ? sa > sb : a.offset < b.offset
            }
        for (_, rec) in tail {
            entries.append(RankedRecommendation(rank: entries.count + 1, id: rec.id, score: rec.score(for: objective),
                                                gain: rec.gains[objective]!, confidence: rec.confidence, round: nil))
        }
        return Ranking(objective: objective, entries: entries)
    }

    /// Highest score > 0; ties keep id order.
    private static func bestIndex(_ recs: [Recommendation], _ o: Objective) -> Int? {
        var best: Int?
        for (i, r) in recs.enumerated() where r.score(for: o) > 0 {
            if best == nil || r.score(for: o) > recs[best!].score(for: o) { best = i }
        }
        return best
    }
}
