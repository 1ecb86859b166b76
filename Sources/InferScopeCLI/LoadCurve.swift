import Analysis

/// One point of a load–latency curve, whatever produced it: a `sweep` run of our own engine or a
/// run listed in an imported file (a rate or concurrency sweep written by another tool).
struct LoadPoint {
    /// Offered load: requests/s (open loop, may be `.infinity`) or concurrent requests.
    var load: Double
    /// Whether the point meets the SLOs; nil when no SLO was given or the data cannot say.
    var passes: Bool?
    /// Open loop only: the engine completed less than 90% of the offered requests/s.
    var saturated: Bool
    /// Completed requests per second.
    var completedRPS: Double?
}

/// The conclusions shared by `sweep` and `analyze` of a multi-run file: the highest load meeting
/// the SLOs and the saturation knee (the first load the engine cannot keep up with). O(points).
enum LoadCurve {
    /// Saturated when fewer than 90% of the offered requests/s complete (every point at `inf`).
    static func saturated(load: Double, completedRPS: Double?) -> Bool {
        guard let c = completedRPS else { return load.isInfinite }
        return c < 0.9 * load
    }

    static func conclusion(_ points: [LoadPoint], closedLoop: Bool, searched: (low: Double, high: Double)?) -> String {
        let unit = closedLoop ? "" : " req/s"
        func text(_ x: Double) -> String { x.isInfinite ? "inf" : NumberFormat.significant(x, digits: 4) }
        var lines: [String] = []
        if points.contains(where: { $0.passes != nil }) {
            if let best = points.last(where: { $0.passes == true }) {
                let failAbove = points.first { $0.load > best.load && $0.passes == false }
                var line = "highest load meeting the SLOs: \(text(best.load))\(unit)"
                if let f = failAbove { line += " (fails at \(text(f.load))\(unit))" }
                if let s = searched { line += "; bisection bracket \(text(s.low))–\(text(s.high))\(unit)" }
                lines.append(line)
            } else {
                lines.append("no load point meets the SLOs: lower the load, relax a target, or act on 'inferscope analyze' of the lowest point")
            }
        }
        if !closedLoop {
            if let first = points.first(where: { $0.saturated }) {
                let done = first.completedRPS.map { NumberFormat.significant($0) } ?? "?"
                lines.append("saturated from \(text(first.load)) req/s: the engine completes \(done) req/s of the offered load")
            } else {
                lines.append("not saturated at any swept rate (completed ≥ 90% of the offered requests/s)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
