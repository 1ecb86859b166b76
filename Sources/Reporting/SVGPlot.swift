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
        body.append("<text x=\"\(c(px(xv) + (leftSide ? -7 : 7)))\" y=\"\(c(py(yv) - 6))\" font-size=\"11\" text-anchor=\"\(leftSide ? "end" : "start")\">\(HTML.escape(label))</text>")
    }

    /// Free text at data coordinates.
    mutating func note(_ xv: Double, _ yv: Double, _ text: String, anchor: String = "start") {
        body.append("<text x=\"\(c(px(xv)))\" y=\"\(c(py(yv) - 4))\" font-size=\"10\" fill=\"#555\" text-anchor=\"\(anchor)\">\(HTML.escape(text))</text>")
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
