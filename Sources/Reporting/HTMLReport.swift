import Analysis
import Foundation
import TraceFormat

/// A single self-contained HTML page: the verdict and its evidence, the headline numbers, charts of
/// the run over time (where engine time goes, tokens/s, batch and queue, KV usage), the roofline
/// with each phase placed on it, the ranked recommendations, and the full text report. No scripts,
/// no external resources (inline CSS and SVG): it opens offline, mails as one file, and prints.
/// Deterministic: the same analysis and timeline give the same bytes.
public enum HTMLReport {
    /// `warning`, when given, is shown above everything else (an incomplete run).
    public static func render(_ r: AnalysisResult, timeline: Timeline, source: String, warning: String? = nil) -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>InferScope: \(HTML.escape(r.header.model.name)) — \(HTML.escape(source))</title>
            <style>\(style)</style></head><body>

            """
        if let warning { h += "<div class=\"warning\"><strong>\(HTML.escape(warning))</strong></div>\n" }
        if let f = r.failures, f.mostFailed {
            h += "<p class=\"failed\" style=\"color:#b00020;font-weight:600\">FAILED: \(HTML.escape(f.headline))</p>\n"
        }
        h += header(r, source: source)
        h += verdict(r)
        h += headline(r)
        h += charts(r, timeline)
        h += recommendations(r)
        h += latencyTable(r)
        h += requestCharts(timeline)
        if !r.cannotConclude.isEmpty {
            h += "<section><h2>Cannot conclude</h2><ul>" + r.cannotConclude.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul></section>\n"
        }
        h += "<section><details><summary>Full text report</summary><pre>\(HTML.escape(TextReport.render(r)))</pre></details></section>\n"
        h += "<footer>InferScope · \(HTML.escape(r.header.producer)) · trace format \(r.header.version)</footer>\n</body></html>\n"
        return h
    }

    // MARK: sections

    static func header(_ r: AnalysisResult, source: String) -> String {
        let m = r.header.model
        let hw = r.hardware.map { "\($0.name) (\($0.origin))" } ?? r.header.hardware.name
        var rows: [(String, String)] = [
            ("trace", source), ("producer", r.header.producer),
            ("model", "\(m.name): \(m.weightType) weights, \(m.kvType) KV, \(m.layers) layers, dim \(m.dim)"),
            ("hardware", hw),
            ("workload", "\(r.header.workload.name), \(r.metrics.requests.arrived) requests over \(NumberFormat.duration(r.metrics.duration))"),
        ]
        if !r.header.options.isEmpty {
            rows.append(("options", r.header.options.keys.sorted().map { "\($0)=\(r.header.options[$0]!)" }.joined(separator: " ")))
        }
        return "<header><h1>InferScope report</h1>" + table(rows) + "</header>\n"
    }

    static func verdict(_ r: AnalysisResult) -> String {
        let v = r.verdict
        var cards: [String] = []
        func card(_ title: String, _ value: String, _ kind: String, _ evidence: [Evidence], note: String? = nil) -> String {
            var s = "<div class=\"card \(kind)\"><div class=\"label\">\(HTML.escape(title))</div><div class=\"value\">\(HTML.escape(value))</div><ul>"
            for e in evidence { s += "<li>\(HTML.escape(TextReport.comparison(e)))</li>" }
            if let note { s += "<li class=\"note\">\(HTML.escape(note))</li>" }
            return s + "</ul></div>"
        }
        let level = v.level.map { " (\($0.rawValue))" } ?? ""
        if v.workload != .unknown || v.requestTime == nil {
            cards.append(card("workload" + level, v.workload.rawValue, "primary", v.workloadEvidence, note: v.workloadMissing))
        }
        if let k = v.kernelTime {
            cards.append(card("GPU time (measured kernel times)", k.lead.rawValue, "primary", k.evidence,
                              note: k.shares.map { "\($0.name) \(TextReport.pct($0.share))" }.joined(separator: ", ") + ". " + k.reading))
        }
        if let t = v.requestTime {
            cards.append(card("request time (\(t.level.rawValue))", t.dominant.rawValue, "primary", t.evidence,
                              note: r.aggregateEstimate?.ttftReading))
        }
        for p in v.phases { cards.append(card(p.phase.rawValue + level, p.bound.rawValue, p.bound.rawValue, p.evidence, note: p.note)) }
        if let a = v.admissionCap {
            cards.append(card("admission", "admission-capped (max_num_seqs), not KV-bound", "overhead-bound", a))
        }
        if let cap = v.capacityBound {
            cards.append(card("KV capacity", cap ? "capacity-bound" : "not capacity-bound", cap ? "memory-bound" : "ok", v.capacityEvidence))
        }
        var s = "<section><h2>Verdict</h2>"
        s += "<div class=\"cards\">" + cards.joined() + "</div>"
        if let x = v.sloCrossCheck { s += "<p class=\"note\">\(HTML.escape(x))</p>" }
        return s + "</section>\n"
    }

    static func headline(_ r: AnalysisResult) -> String {
        let m = r.metrics
        var tiles: [(String, String)] = []
        if let d = m.ttft { tiles.append(("TTFT p50 / p99", "\(NumberFormat.duration(d.p50)) / \(NumberFormat.duration(d.p99))")) }
        if let d = m.tpot { tiles.append(("TPOT p50 / p99", "\(NumberFormat.duration(d.p50)) / \(NumberFormat.duration(d.p99))")) }
        if let d = m.itl { tiles.append(("ITL p50 / p99", "\(NumberFormat.duration(d.p50)) / \(NumberFormat.duration(d.p99))")) }
        tiles.append(("output throughput", NumberFormat.significant(m.throughput.outputTokensPerSecond) + " tok/s"))
        tiles.append(("requests", "\(m.requests.completed) of \(m.requests.arrived) completed"))
        if let g = m.goodput { tiles.append(("SLO attainment", NumberFormat.percent(g.attainment))) }
        if let roof = r.roofline {
            for p in roof.phases where p.phase == .prefill || p.phase == .decode {
                tiles.append(("\(p.phase.rawValue) MFU / MBU", "\(NumberFormat.percent(p.mfu)) / \(NumberFormat.percent(p.mbu))"))
            }
        }
        return "<section><div class=\"tiles\">" + tiles.map { "<div class=\"tile\"><div class=\"label\">\(HTML.escape($0.0))</div><div class=\"value\">\(HTML.escape($0.1))</div></div>" }.joined() + "</div></section>\n"
    }

    static let phaseColors: [(Phase, String)] = [
        (.prefill, "#4e79a7"), (.decode, "#f28e2b"), (.mixed, "#76b7b2"), (.draft, "#59a14f"), (.verify, "#edc948"),
        (.sample, "#b07aa1"), (.schedule, "#ff9da7"), (.kvTransfer, "#9c755f"),
    ]
    static let poolColors = ["#e15759", "#4e79a7", "#59a14f", "#b07aa1"]

    static func charts(_ r: AnalysisResult, _ t: Timeline) -> String {
        var s = "<section><h2>The run over time</h2>"
        if t.isEmpty {
            s += "<p class=\"note\">The trace has no step spans or counters to plot.</p>"
        } else {
            let xs = t.bucketStarts.map { $0 + t.bucketSeconds / 2 }
            let xMax = (t.bucketStarts.last ?? 0) + t.bucketSeconds
            let xFormat: (Double) -> String = { NumberFormat.significant($0) }

            var time = SVGPlot(title: "Where engine time goes (share of each interval)", xLabel: "time (s)", yLabel: "share",
                               x: .linear(0, xMax), y: .linear(0, 1))
            time.xFormat = xFormat
            time.yFormat = { NumberFormat.percent($0, digits: 2) }
            let layers = phaseColors.compactMap { phase, color -> (label: String, color: String, values: [Double])? in
                guard let seconds = t.phaseSeconds[phase], seconds.contains(where: { $0 > 0 }) else { return nil }
                return (phase.rawValue, color, seconds.map { min(1, $0 / t.bucketSeconds) })
            }
            time.stacked(xs, layers)
            s += figure(time.render(), "Stacked share of wall time per interval spent in each step phase; the white remainder is idle (no step running).")

            var tokens = SVGPlot(title: "Tokens per second", xLabel: "time (s)", yLabel: "tokens/s",
                                 x: .linear(0, xMax), y: .linear(0, niceMax((t.decodeTokensPerSecond + t.prefillTokensPerSecond).max() ?? 1)))
            tokens.xFormat = xFormat
            tokens.line(xs, t.prefillTokensPerSecond.map { $0 }, color: "#4e79a7", label: "prompt (prefill)")
            tokens.line(xs, t.decodeTokensPerSecond.map { $0 }, color: "#f28e2b", label: "output (decode)")
            s += figure(tokens.render(), "Prompt and output tokens per second in each interval; each step's tokens are spread over its span.")

            let rows = t.meanBatchRows.compactMap { $0 }
            let waits = t.hasQueue ? t.waiting.compactMap { $0 } : []
            if !rows.isEmpty {
                var batch = SVGPlot(title: t.hasQueue ? "Batch size and queue" : "Batch size", xLabel: "time (s)", yLabel: "sequences",
                                    x: .linear(0, xMax), y: .linear(0, niceMax(max(rows.max() ?? 1, waits.max() ?? 0))))
                batch.xFormat = xFormat
                batch.line(xs, t.meanBatchRows, color: "#f28e2b", label: "sequences per step")
                if t.hasQueue { batch.line(xs, t.waiting, color: "#e15759", label: "waiting", dashed: true) }
                s += figure(batch.render(), "Time-weighted mean sequences per forward step, and requests waiting at the last KV sample of each interval.")
            }
            if !t.kvUsage.isEmpty {
                var kv = SVGPlot(title: "KV-cache usage (peak per interval)", xLabel: "time (s)", yLabel: "blocks used",
                                 x: .linear(0, xMax), y: .linear(0, 1))
                kv.xFormat = xFormat
                kv.yFormat = { NumberFormat.percent($0, digits: 2) }
                for (i, pool) in t.kvUsage.keys.sorted().enumerated() {
                    kv.line(xs, t.kvUsage[pool]!, color: poolColors[i % poolColors.count], label: "pool \(pool)")
                }
                s += figure(kv.render(), "Highest share of KV blocks in use sampled in each interval.")
            }
        }
        if let roof = r.roofline { s += roofline(roof) }
        return s + "</section>\n"
    }

    static func roofline(_ roof: RooflineAnalysis) -> String {
        let points = roof.phases.filter { $0.seconds > 0 && $0.flops > 0 && $0.intensity > 0 }
        guard roof.peakFLOPS > 0, roof.bandwidth > 0 else { return "" }
        let intensities = points.map(\.intensity) + [roof.ridge]
        let xLo = pow10Floor(max(1e-3, (intensities.min() ?? 1) / 4)), xHi = pow10Ceil((intensities.max() ?? 100) * 4)
        let achieved = points.map { $0.flops / $0.seconds }
        let yHi = pow10Ceil(roof.peakFLOPS * 2)
        let yLo = pow10Floor(max(1, min(roof.bandwidth * xLo, (achieved.min() ?? roof.peakFLOPS) / 4)))
        var plot = SVGPlot(title: "Roofline on \(roof.hardware.name) (\(roof.dtype))", xLabel: "arithmetic intensity (FLOP/byte)",
                           yLabel: "FLOP/s", x: .log10(xLo, xHi), y: .log10(yLo, yHi))
        plot.width = 640
        plot.height = 300
        plot.yFormat = { NumberFormat.si($0, "") }
        plot.xFormat = { NumberFormat.significant($0) }
        var xs: [Double] = [], ys: [Double?] = []
        var e = log10(xLo)
        while e <= log10(xHi) + 1e-9 { let x = pow(10, e); xs.append(x); ys.append(min(roof.peakFLOPS, roof.bandwidth * x)); e += 0.05 }
        xs.append(roof.ridge); ys.append(roof.peakFLOPS)
        let order = xs.indices.sorted { xs[$0] < xs[$1] }
        plot.line(order.map { xs[$0] }, order.map { ys[$0] }, color: "#333", label: "roof")
        plot.note(roof.ridge, roof.peakFLOPS, "ridge \(NumberFormat.significant(roof.ridge)) FLOP/B")
        for (p, y) in zip(points, achieved) {
            let color = phaseColors.first { $0.0 == p.phase }?.1 ?? "#999"
            plot.point(p.intensity, y, color: color, label: "\(p.phase.rawValue): MFU \(NumberFormat.percent(p.mfu)), MBU \(NumberFormat.percent(p.mbu))")
        }
        return figure(plot.render(), "Each phase placed at its mean arithmetic intensity and achieved FLOP/s; the roof is min(peak FLOP/s, bandwidth × intensity) of \(roof.hardware.name): \(NumberFormat.si(roof.peakFLOPS, "FLOP/s")), \(NumberFormat.si(roof.bandwidth, "B/s")).")
    }

    static func recommendations(_ r: AnalysisResult) -> String {
        let o = r.ranking.objective
        var s = "<section><h2>Recommendations for \(o.rawValue)</h2>"
        guard !r.ranking.entries.isEmpty else {
            return s + "<p>None of R1–R13 predicts a gain on \(o.rawValue) for this run.</p></section>\n"
        }
        let byID = Dictionary(uniqueKeysWithValues: r.recommendations.map { ($0.id, $0) })
        s += "<table class=\"recs\"><thead><tr><th>#</th><th>rule</th><th>recommendation</th><th>predicted gain</th><th>confidence</th><th>change to make</th></tr></thead><tbody>"
        for e in r.ranking.entries {
            guard let rec = byID[e.id] else { continue }
            let change = rec.runtimeChange.map { rc in rc.keys.sorted().map { "\($0)=\(rc[$0]!)" }.joined(separator: " ") } ?? ""
            s += "<tr><td>\(e.rank)</td><td>\(HTML.escape(e.id))</td><td><details><summary>\(HTML.escape(rec.title))</summary><ul>"
            s += "<li>gain: \(HTML.escape(e.gain.formula + TextReport.inputs(e.gain.inputs)))</li>"
            for c in rec.conditions { s += "<li>trigger: \(HTML.escape(TextReport.comparison(c)))</li>" }
            for line in rec.evidence { s += "<li>evidence: \(HTML.escape(line))</li>" }
            for c in rec.caveats { s += "<li>caveat: \(HTML.escape(c))</li>" }
            s += "</ul></details></td><td class=\"num\">×\(NumberFormat.significant(e.gain.factor))</td><td class=\"num\">\(NumberFormat.significant(e.confidence))</td><td><code>\(HTML.escape(change))</code></td></tr>"
        }
        return s + "</tbody></table></section>\n"
    }

    static func latencyTable(_ r: AnalysisResult) -> String {
        let m = r.metrics
        let rows: [(String, Distribution?)] = [("TTFT", m.ttft), ("TPOT", m.tpot), ("ITL", m.itl), ("E2E", m.e2e), ("queueing", m.queue)]
        var s = "<section><h2>Latency</h2><table class=\"lat\"><thead><tr><th>metric</th><th>n</th><th>mean</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>max</th></tr></thead><tbody>"
        for (name, d) in rows {
            guard let d else { continue }
            s += "<tr><td>\(name)</td><td class=\"num\">\(d.count)</td>" + [d.mean, d.p50, d.p90, d.p95, d.p99, d.max]
                .map { "<td class=\"num\">\(NumberFormat.duration($0))</td>" }.joined() + "</tr>"
        }
        return s + "</tbody></table><p class=\"note\">Percentiles by linear interpolation (NumPy's default); definitions in docs/metrics.md.</p></section>\n"
    }

    /// Latency CDFs (TTFT, TPOT, ITL, E2E on one log-time axis) and the per-request timeline
    /// (each request a row: waiting for its first token, then decoding), at most
    /// `maxTimelineRows` rows (every k-th request by arrival beyond that, said in the caption).
    static func requestCharts(_ t: Timeline) -> String {
        let series: [(String, [Double], String)] = [("TTFT", t.ttft, "#4e79a7"), ("TPOT", t.tpot, "#59a14f"),
                                                    ("ITL", t.itl, "#b07aa1"), ("E2E", t.e2e, "#f28e2b")]
        let present = series.filter { !$0.1.isEmpty }
        guard !present.isEmpty || !t.requests.isEmpty else { return "" }
        var s = "<section><h2>Requests</h2>"
        let positive = present.flatMap { [$0.1.first { $0 > 0 }, $0.1.last].compactMap { $0 } }.filter { $0 > 0 }
        if let lo = positive.min(), let hi = positive.max() {
            let xLo = pow10Floor(lo), xHi = max(pow10Ceil(hi), xLo * 10)
            var cdf = SVGPlot(title: "Latency CDFs", xLabel: "seconds (log scale)", yLabel: "share of samples",
                              x: .log10(xLo, xHi), y: .linear(0, 1))
            cdf.xFormat = { NumberFormat.duration($0) }
            cdf.yFormat = { NumberFormat.percent($0, digits: 2) }
            for (name, values, color) in present {
                let n = values.count
                let picks = n <= 400 ? Array(0..<n) : (0..<400).map { $0 * (n - 1) / 399 }
                cdf.line(picks.map { max(values[$0], xLo) }, picks.map { Double($0 + 1) / Double(n) }, color: color,
                         label: "\(name) (n=\(n))")
            }
            s += figure(cdf.render(), "Share of requests (TTFT, TPOT, E2E) or of token gaps (ITL) at or below each latency. TPOT is (E2E − TTFT)/(output − 1) per request; ITL pools the gaps between a request's consecutive output events.")
        }
        let spans = t.requests
        if !spans.isEmpty, let end = spans.map({ $0.end ?? $0.firstToken ?? $0.arrival }).max(), end > 0 {
            let every = max(1, (spans.count + maxTimelineRows - 1) / maxTimelineRows)
            let rows = stride(from: 0, to: spans.count, by: every).map { spans[$0] }
            var plot = SVGPlot(title: "Per-request timeline", xLabel: "time (s)", yLabel: "request (by arrival)",
                               x: .linear(0, niceMax(end)), y: .linear(0, Double(rows.count)))
            plot.height = min(520, max(180, 90 + Double(rows.count) * 2.2))
            plot.xFormat = { NumberFormat.significant($0) }
            let count = Double(rows.count)
            plot.yFormat = { NumberFormat.significant((count - $0) * Double(every)) }   // requests from the top
            let thickness = max(0.6, min(6, (plot.height - 80) / Double(rows.count) * 0.8))
            for (i, r) in rows.enumerated() {
                let y = Double(rows.count - i) - 0.5
                let first = r.firstToken ?? r.end ?? r.arrival
                plot.bar(r.arrival, first, y, color: r.aborted && r.firstToken == nil ? "#bab0ac" : "#e15759", thickness: thickness)
                if let f = r.firstToken, let e = r.end { plot.bar(f, e, y, color: r.aborted ? "#bab0ac" : "#f28e2b", thickness: thickness) }
            }
            plot.legendEntry("arrival → first token", color: "#e15759")
            plot.legendEntry("decoding", color: "#f28e2b")
            if rows.contains(where: \.aborted) { plot.legendEntry("aborted", color: "#bab0ac") }
            let sampled = every > 1 ? " Every \(every)th of \(spans.count) requests is drawn." : ""
            s += figure(plot.render(), "One row per request, earliest arrival at the top: from arrival to the first token (queueing and prefill), then to the last token.\(sampled)")
        }
        return s + "</section>\n"
    }

    static let maxTimelineRows = 200

    // MARK: helpers

    static func table(_ rows: [(String, String)]) -> String {
        "<table class=\"meta\">" + rows.map { "<tr><th>\(HTML.escape($0.0))</th><td>\(HTML.escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    static func figure(_ svg: String, _ caption: String) -> String {
        "<figure>\(svg)<figcaption>\(HTML.escape(caption))</figcaption></figure>"
    }

    static func niceMax(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let magnitude = pow(10, log10(x).rounded(.down))
        return ([1.0, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map { $0 * magnitude }.first { $0 >= x * 1.05 }) ?? x
    }
    static func pow10Floor(_ x: Double) -> Double { pow(10, log10(x).rounded(.down)) }
    static func pow10Ceil(_ x: Double) -> Double { pow(10, log10(x).rounded(.up)) }

    static let style = """
        body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1340px;color:#1d1d1f;padding:0 16px}
        h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:26px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
        table{border-collapse:collapse;font-size:13px}th,td{padding:4px 10px;text-align:left;vertical-align:top}
        table.meta th{color:#666;font-weight:500}table.recs,table.lat{width:100%}
        table.recs thead th,table.lat thead th{border-bottom:2px solid #ccc}table.recs td,table.lat td{border-bottom:1px solid #eee}
        td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        .cards,.tiles{display:flex;flex-wrap:wrap;gap:12px}
        .warning{background:#fdecea;border:1px solid #c0392b;color:#7b1d12;padding:10px 14px;border-radius:6px;margin:8px 0}
        .card{border:1px solid #ddd;border-left:6px solid #999;border-radius:6px;padding:10px 14px;min-width:260px;flex:1}
        .card.primary{border-left-color:#1d1d1f}.card.memory-bound{border-left-color:#e15759}.card.compute-bound{border-left-color:#4e79a7}
        .card.overhead-bound{border-left-color:#edc948}.card.ok{border-left-color:#59a14f}
        .card .label,.tile .label{color:#666;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
        .card .value{font-size:20px;font-weight:600;margin:2px 0 6px}.card ul{margin:0;padding-left:18px;font-size:12.5px;color:#333}
        .tile{border:1px solid #e4e4e4;border-radius:6px;padding:8px 14px;min-width:150px}.tile .value{font-size:17px;font-weight:600}
        figure{display:inline-block;margin:8px 12px 8px 0;vertical-align:top}figcaption{font-size:12px;color:#555;max-width:640px}
        .note{color:#555;font-size:12.5px}summary{cursor:pointer}pre{font-size:12px;background:#f7f7f7;padding:12px;overflow-x:auto}
        footer{margin:30px 0 10px;color:#888;font-size:12px}code{font-size:12px}
        """
}
