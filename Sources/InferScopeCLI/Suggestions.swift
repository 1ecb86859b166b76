import TraceFormat

/// "Did you mean …?" by edit distance.
enum Suggestions {
    /// The closest candidate, as a hint, if it is close enough to be a plausible typo: at most
    /// 2 edits, and fewer than half the characters of the typed word.
    static func didYouMean(_ typed: String, among candidates: [String]) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let d = EditDistance.between(typed, candidate)
            if d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        guard let (candidate, distance) = best, distance <= 2, distance * 2 < max(typed.count, 2) else { return nil }
        return "did you mean '\(candidate)'?"
    }
}
