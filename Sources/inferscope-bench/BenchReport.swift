#if canImport(Glibc)
import Glibc
#endif

/// The results of one benchmark run, printed as an aligned table or as JSON (`--json`).
/// Every bench subcommand builds one; values are plain numbers with an explicit unit.
struct BenchReport {
    struct Row {
        var metric: String
        var value: Double
        var unit: String
        /// What the number is measured on, or the target it is compared with.
        var note: String
    }

    var bench: String
    var rows: [Row] = []
    /// Context lines (machine, sizes), printed above the table and as "context" in JSON.
    var context: [(String, String)] = []

    init(bench: String) { self.bench = bench }

    mutating func add(_ metric: String, _ value: Double, _ unit: String, _ note: String = "") {
        rows.append(Row(metric: metric, value: value, unit: unit, note: note))
    }

    func render(json: Bool) -> String { json ? renderJSON() : renderTable() }

    /// Fixed formatting: up to 3 significant decimals, no exponent for ordinary magnitudes.
    static func format(_ v: Double) -> String {
        guard v.isFinite else { return "n/a" }
        let magnitude = abs(v)
        let decimals = magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 3
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (v * scale).rounded() / scale
        var text = "\(Int64(rounded))"
        let fraction = Int64((abs(rounded) * scale).rounded()) % Int64(scale)
        if rounded < 0 && Int64(rounded) == 0 { text = "-0" }
        let digits = String(fraction)
        return text + "." + String(repeating: "0", count: decimals - digits.count) + digits
    }

    private func renderTable() -> String {
        var out = "inferscope-bench \(bench)\n"
        for (key, value) in context { out += "  \(key): \(value)\n" }
        let header = ("metric", "value", "unit", "note")
        let cells = rows.map { ($0.metric, Self.format($0.value), $0.unit, $0.note) }
        let w0 = max(header.0.count, cells.map(\.0.count).max() ?? 0)
        let w1 = max(header.1.count, cells.map(\.1.count).max() ?? 0)
        let w2 = max(header.2.count, cells.map(\.2.count).max() ?? 0)
        func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, w - s.count))
            return right ? fill + s : s + fill
        }
        out += "\n| \(pad(header.0, w0)) | \(pad(header.1, w1, right: true)) | \(pad(header.2, w2)) | \(header.3)\n"
        out += "|-\(String(repeating: "-", count: w0))-|-\(String(repeating: "-", count: w1))-|-\(String(repeating: "-", count: w2))-|-----\n"
        for c in cells {
            out += "| \(pad(c.0, w0)) | \(pad(c.1, w1, right: true)) | \(pad(c.2, w2)) | \(c.3)\n"
        }
        return out
    }

    private func renderJSON() -> String {
        func quote(_ s: String) -> String {
            var out = "\""
            for c in s.unicodeScalars {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default:
                    if c.value < 0x20 { out += "\\u00" + (c.value < 16 ? "0" : "") + String(c.value, radix: 16) }
                    else { out.unicodeScalars.append(c) }
                }
            }
            return out + "\""
        }
        var out = "{\"bench\":\(quote(bench)),\"context\":{"
        out += context.map { "\(quote($0.0)):\(quote($0.1))" }.joined(separator: ",")
        out += "},\"results\":[\n"
        out += rows.map { row in
            let value = row.value.isFinite ? "\(row.value)" : "null"
            return "{\"metric\":\(quote(row.metric)),\"value\":\(value),\"unit\":\(quote(row.unit)),\"note\":\(quote(row.note))}"
        }.joined(separator: ",\n")
        return out + "\n]}\n"
    }
}

/// Writes `text` to standard error (fd 2), unbuffered.
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
