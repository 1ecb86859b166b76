import Analysis
import Foundation

/// A small, dependency-free SVG chart: linear or log axes with round ticks, lines (gaps where a
/// value is missing), stacked areas, labelled points and a legend. Output is deterministic
/// (coordinates to 0.1 px) and self-contained, so reports open offline in any browser.
struct SVGPlot {
    enum Scale {
        case linear(Double, Double)
        case log10(Double, Double)

        var bounds: (Double, Double) {
            switch self {
            case .linear(let a, let b), .log10(let a, let b): return (a, b)
            }
        }

        /// Position of `v` in 0…1 along the axis.
        func fraction(_ v: Double) -> Double {
            switch self {
            case .linear(let a, let b): return b > a ? (v - a) / (b - a) : 0
            case .log10(let a, let b):
                let lo = Foundation.log10(a), hi = Foundation.log10(b)
                return hi > lo ? (Foundation.log10(max(v, a)) - lo) / (hi - lo) : 0
            }
        }

        /// Tick values: about five round numbers for a linear axis, powers of ten for a log one.
        var ticks: [Double] {
            switch self {
            case .linear(let a, let b):
                guard b > a else { return [a] }
                let raw = (b - a) / 5
                let magnitude = pow(10, (Foundation.log10(raw)).rounded(.down))
                let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
                var t = (a / step).rounded(.up) * step, out: [Double] = []
                while t <= b + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
                return out
            case .log10(let a, let b):
                var e = Foundation.log10(a).rounded(.up), out: [Double] = []
                while e <= Foundation.log10(b) + 1e-9 { out.append(pow(10, e)); e += 1 }
                return out
            }
        }
    }

    var width = 640.0, height = 240.0
    var title: String
    var xLabel: String
    var yLabel: String
    var x: Scale
    var y: Scale
    var yFormat: (Double) -> String = { NumberFormat.significant($0) }
    var xFormat: (Double) -> String = { NumberFormat.significant($0) }
    private var body: [String] = []
    private var legend: [(String, String)] = []
    /// Point and note labels, placed at render time so that none overlaps another.
    private var labels: [(x: Double, y: Double, text: String, anchor: String, size: Double, color: String)] = []

    private let left = 58.0, right = 22.0, top = 40.0, bottom = 40.0
    private var plotWidth: Double { width - left - right }
    private var plotHeight: Double { height - top - bottom }

    init(title: String, xLabel: String, yLabel: String, x: Scale, y: Scale) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.x = x
        self.y = y
    }

    func px(_ v: Double) -> Double { left + x.fraction(v) * plotWidth }
    func py(_ v: Double) -> Double { top + (1 - y.fraction(v)) * plotHeight }

    /// A polyline through the points; a nil value breaks the line.
    mutating func line(_ xs: [Double], _ ys: [Double?], color: String, label: String?, dashed: Bool = false) {
        var segment: [String] = []
        func flush() {
            if segment.count == 1 { segment.append(segment[0]) }
            if !segment.isEmpty {
                body.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\"\(dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(segment.joined(separator: " "))\"/>")
            }
            segment = []
        }
        for (xv, yv) in zip(xs, ys) {
            guard let yv, yv.isFinite else { flush(); continue }
            segment.append("\(c(px(xv))),\(c(py(yv)))")
        }
        flush()
        if let label { legend.append((label, color)) }
    }

    /// Layers stacked upward from zero, each a filled band, in the order given.
    mutating func stacked(_ xs: [Double], _ layers: [(label: String, color: String, values: [Double])]) {
        var base = [Double](repeating: 0, count: xs.count)
        for layer in layers {
            let tops = zip(base, layer.values).map { $0 + $1 }
            var points = zip(xs, tops).map { "\(c(px($0))),\(c(py($1)))" }
            points += zip(xs, base).reversed().map { "\(c(px($0))),\(c(py($1)))" }
            body.append("<polygon fill=\"\(layer.color)\" fill-opacity=\"0.85\" stroke=\"none\" points=\"\(points.joined(separator: " "))\"/>")
            legend.append((layer.label, layer.color))
            base = tops
        }
    }

    /// A marked point with a text label beside it.
    mutating func point(_ xv: Double, _ yv: Double, color: String, label: String) {
        body.append("<circle cx=\"\(c(px(xv)))\" cy=\"\(c(py(yv)))\" r=\"4.5\" fill=\"\(color)\" stroke=\"#222\" stroke-width=\"0.8\"/>")
        // Labels of points in the right half go to the point's left, so they stay inside the chart.
        let leftSide = x.fraction(xv) > 0.5
        labels.append((px(xv) + (leftSide ? -7 : 7), py(yv) - 6, label, leftSide ? "end" : "start", 11, "#000"))
    }

    /// Free text at data coordinates.
    mutating func note(_ xv: Double, _ yv: Double, _ text: String, anchor: String = "start") {
        labels.append((px(xv), py(yv) - 4, text, anchor, 10, "#555"))
    }

    /// A horizontal bar from x1 to x2 at data height `yv`, `thickness` px thick.
    mutating func bar(_ x1: Double, _ x2: Double, _ yv: Double, color: String, thickness: Double) {
        let a = px(x1), b = max(px(x2), a + 0.6)
        body.append("<rect x=\"\(c(a))\" y=\"\(c(py(yv) - thickness / 2))\" width=\"\(c(b - a))\" height=\"\(c(thickness))\" fill=\"\(color)\"/>")
    }

    /// Adds a legend entry without drawing anything.
    mutating func legendEntry(_ label: String, color: String) { legend.append((label, color)) }

    /// Labels in order of height, each moved down (then up, if it would leave the plot) by a line
    /// until its box — estimated from its length — overlaps none placed before. O(labels²).
    func placedLabels() -> String {
        var placed: [(x0: Double, x1: Double, y0: Double, y1: Double)] = []
        var out = ""
        for l in labels.sorted(by: { ($0.y, $0.x) < ($1.y, $1.x) }) {
            let w = Double(l.text.count) * l.size * 0.56
            let x0 = l.anchor == "end" ? l.x - w : (l.anchor == "middle" ? l.x - w / 2 : l.x), x1 = x0 + w
            let h = l.size + 2
            func clashes(_ y: Double) -> Bool { placed.contains { x0 < $0.x1 && $0.x0 < x1 && y - h < $0.y1 && $0.y0 < y } }
            var y = l.y
            var step = 0
            while clashes(y) && step < 40 { y += h; step += 1 }
            if y > top + plotHeight - 2 {
                y = l.y
                step = 0
                while clashes(y) && step < 40 { y -= h; step += 1 }
            }
            placed.append((x0, x1, y - h, y))
            let weight = l.size >= 11 ? "" : " fill=\"\(l.color)\""
            out += "<text x=\"\(c(l.x))\" y=\"\(c(y))\" font-size=\"\(c(l.size))\"\(weight) text-anchor=\"\(l.anchor)\">\(HTML.escape(l.text))</text>"
        }
        return out
    }

    func render() -> String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(c(width)) \(c(height))\" width=\"\(c(width))\" height=\"\(c(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\" font-family=\"system-ui, sans-serif\">"
        s += "<text x=\"\(c(left))\" y=\"16\" font-size=\"13\" font-weight=\"600\">\(HTML.escape(title))</text>"
        for t in y.ticks {
            let yy = c(py(t))
            s += "<line x1=\"\(c(left))\" x2=\"\(c(width - right))\" y1=\"\(yy)\" y2=\"\(yy)\" stroke=\"#e4e4e4\"/>"
            s += "<text x=\"\(c(left - 5))\" y=\"\(yy)\" dy=\"3.5\" font-size=\"10\" text-anchor=\"end\" fill=\"#444\">\(HTML.escape(yFormat(t)))</text>"
        }
        for t in x.ticks {
            let xx = c(px(t))
            s += "<line x1=\"\(xx)\" x2=\"\(xx)\" y1=\"\(c(top))\" y2=\"\(c(top + plotHeight))\" stroke=\"#f0f0f0\"/>"
            s += "<text x=\"\(xx)\" y=\"\(c(top + plotHeight + 13))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#444\">\(HTML.escape(xFormat(t)))</text>"
        }
        s += body.joined()
        s += placedLabels()
        s += "<rect x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(plotWidth))\" height=\"\(c(plotHeight))\" fill=\"none\" stroke=\"#888\"/>"
        s += "<text x=\"\(c(left + plotWidth / 2))\" y=\"\(c(height - 6))\" font-size=\"11\" text-anchor=\"middle\">\(HTML.escape(xLabel))</text>"
        s += "<text transform=\"translate(13 \(c(top + plotHeight / 2))) rotate(-90)\" font-size=\"11\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
        var lx = width - right - 4
        for (label, color) in legend.reversed() {
            let w = Double(label.count) * 6.2 + 18
            lx -= w
            s += "<rect x=\"\(c(lx))\" y=\"22\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            s += "<text x=\"\(c(lx + 13))\" y=\"31\" font-size=\"10.5\">\(HTML.escape(label))</text>"
        }
        return s + "</svg>"
    }

    private func c(_ v: Double) -> String { NumberFormat.fixed(v, decimals: 1, trimZeros: true) }
}

/// HTML text escaping.
enum HTML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
