/// The Prometheus text exposition format (version 0.0.4), one sample line at a time.
///
/// Shared by the importer of saved vLLM scrapes (`Importers.VLLMMetricsImporter`) and the live
/// scraper of `profile --endpoint` (`LoadGenerator.MetricsScraper`), so both read exactly the same
/// lines the same way. Standard library only.
///
/// A sample line is `name{label="value",…} value [timestamp_ms]`; `#` lines (HELP, TYPE,
/// comments) and blank lines carry no sample. Label values may escape `\\`, `\"` and `\n`.
public struct PrometheusSample: Sendable, Equatable {
    /// The series name as written, including any `_total`, `_sum`, `_count` or `_bucket` suffix.
    public var name: String
    public var labels: [String: String]
    public var value: Double
    /// The optional sample timestamp, milliseconds since the Unix epoch.
    public var timestampMilliseconds: Int64?

    public init(name: String, labels: [String: String] = [:], value: Double, timestampMilliseconds: Int64? = nil) {
        self.name = name
        self.labels = labels
        self.value = value
        self.timestampMilliseconds = timestampMilliseconds
    }
}

/// A line that is not a valid sample: what was wrong (the caller adds file and line).
public struct PrometheusParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

public enum PrometheusText {
    /// Parses one line. nil for blank, comment and `# HELP` / `# TYPE` lines; a thrown error
    /// names what was expected. O(line length).
    public static func parseLine(_ raw: Substring) throws(PrometheusParseError) -> PrometheusSample? {
        var line = raw
        if line.last == "\r" { line = line.dropLast() }
        line = line.drop { $0 == " " || $0 == "\t" }
        guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
        let nameEnd = line.firstIndex { $0 == "{" || $0 == " " || $0 == "\t" } ?? line.endIndex
        let name = String(line[..<nameEnd])
        var rest = line[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while true {
                rest = rest.drop { $0 == " " || $0 == "," }
                if rest.first == "}" { rest = rest.dropFirst(); break }
                guard let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)...].first == "\"" else {
                    throw PrometheusParseError(message: "expected label=\"value\" pairs in the braces of '\(name)'")
                }
                let key = String(rest[..<eq].drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
                var i = rest.index(eq, offsetBy: 2)
                var value = ""
                var closed = false
                while i < rest.endIndex {
                    let c = rest[i]
                    if c == "\\", rest.index(after: i) < rest.endIndex {
                        let n = rest[rest.index(after: i)]
                        value.append(n == "n" ? "\n" : n)
                        i = rest.index(i, offsetBy: 2)
                        continue
                    }
                    if c == "\"" { closed = true; i = rest.index(after: i); break }
                    value.append(c)
                    i = rest.index(after: i)
                }
                guard closed else { throw PrometheusParseError(message: "unterminated label value in '\(name)'") }
                labels[key] = value
                rest = rest[i...]
            }
        }
        let fields = rest.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let valueText = fields.first, let value = parseValue(valueText) else {
            throw PrometheusParseError(message: "expected a sample value after '\(name)', found '\(fields.first.map(String.init) ?? "")'")
        }
        var timestamp: Int64?
        if fields.count > 1 {
            guard let ms = Int64(fields[1]) else {
                throw PrometheusParseError(message: "expected a millisecond timestamp after the value of '\(name)', found '\(fields[1])'")
            }
            timestamp = ms
        }
        return PrometheusSample(name: name, labels: labels, value: value, timestampMilliseconds: timestamp)
    }

    /// Every sample of a scrape. Lines that are not valid samples are skipped when `lenient`
    /// (a live scrape must not stop a run), else the first one throws with its 1-based line.
    /// O(text length).
    public static func parse(_ text: String, lenient: Bool) throws(PrometheusLineError) -> [PrometheusSample] {
        var out: [PrometheusSample] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            do {
                if let s = try parseLine(line) { out.append(s) }
            } catch {
                if !lenient { throw PrometheusLineError(line: number, message: error.message) }
            }
        }
        return out
    }

    /// A sample value: a decimal or exponent float, `NaN`, `+Inf`, `-Inf`.
    public static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard let first = text.first, first.isNumber || first == "-" || first == "+" || first == "." else { return nil }
            return Double(text)
        }
    }
}

/// A scrape line that is not a valid sample, with its 1-based line number.
public struct PrometheusLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}
