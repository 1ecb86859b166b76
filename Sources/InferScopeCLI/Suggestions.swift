/// "Did you mean …?" by edit distance.
enum Suggestions {
    /// The closest candidate, as a hint, if it is close enough to be a plausible typo: at most
    /// 2 edits, and fewer than half the characters of the typed word.
    static func didYouMean(_ typed: String, among candidates: [String]) -> String? {
        var best: (String, Int)?
        for candidate in candidates {
            let d = editDistance(typed, candidate)
            if d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        guard let (candidate, distance) = best, distance <= 2, distance * 2 < max(typed.count, 2) else { return nil }
        return "did you mean '\(candidate)'?"
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit
    /// (optimal string alignment). O(|a|·|b|).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
