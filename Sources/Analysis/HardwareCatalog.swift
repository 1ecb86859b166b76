import Foundation
import TraceFormat

/// One row of the embedded hardware catalog (hardware.csv), kept with its sources.
public struct HardwareCatalogRow: Sendable, Equatable {
    public var name: String
    public var aliases: [String]
    public var memoryGiB: Double?
    public var bandwidthGBps: Double
    public var bf16TFLOPS: Double?
    public var fp8TFLOPS: Double?
    public var fp4TFLOPS: Double?
    public var interconnect: String
    public var fieldStatus: String
    public var notes: String
    public var source: String
    public var verification: String

    /// The row as a roofline spec. Memory: the CSV's `memory_GiB` column × 2^30 (the column's
    /// stated unit; methodology §1.8 uses 10^9 — see docs/methodology-notes.md).
    public var spec: HardwareSpec {
        var peaks: [String: Double] = [:]
        if let v = bf16TFLOPS { peaks["bf16"] = v * 1e12 }
        if let v = fp8TFLOPS { peaks["fp8"] = v * 1e12 }
        if let v = fp4TFLOPS { peaks["fp4"] = v * 1e12 }
        return HardwareSpec(name: name, origin: "catalog", memoryBandwidth: bandwidthGBps * 1e9, peakFLOPS: peaks,
                            memoryBytes: memoryGiB.map { $0 * 1_073_741_824 },
                            source: "hardware.csv: \(source) [\(verification)]")
    }
}

/// Lookup in the embedded hardware catalog by name or alias (case, spaces, dashes and
/// underscores ignored). Unknown names are errors that list the closest entries; nothing is guessed.
public enum HardwareCatalog {
    public static var all: [HardwareCatalogRow] { rows }

    static func normalize(_ s: String) -> String {
        String(s.lowercased().filter { $0.isLetter || $0.isNumber })
    }

    /// The row named `name` (full name or alias). O(rows).
    public static func lookup(_ name: String) throws(AnalysisError) -> HardwareCatalogRow {
        let key = normalize(name)
        if let row = rows.first(where: { normalize($0.name) == key || $0.aliases.contains { normalize($0) == key } }) {
            return row
        }
        throw .unknownHardware(name: name, suggestions: closest(to: name, among: rows.map { $0.aliases.first ?? $0.name }))
    }

    /// Every row, one line each plus its source (`--hardware list`). Deterministic.
    public static func listing() -> String {
        var lines = ["hardware catalog (--hardware NAME or alias; 'host'; or a JSON spec file):"]
        for r in rows {
            let peaks = [("BF16", r.bf16TFLOPS), ("FP8", r.fp8TFLOPS), ("FP4", r.fp4TFLOPS)].compactMap { p in p.1.map { "\(p.0) \(NumberFormat.significant($0)) TFLOPS" } }
            lines.append("  \(r.name) [\(r.aliases.joined(separator: ", "))]: \(NumberFormat.significant(r.bandwidthGBps)) GB/s, \(r.memoryGiB.map { NumberFormat.significant($0) + " GiB" } ?? "memory unknown"), \(peaks.joined(separator: ", ")) dense")
            lines.append("      source: \(r.source) [\(r.verification)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Resolves `--hardware`: a catalog name, a JSON spec file path (ends in .json), or nil.
    public static func resolve(_ argument: String) throws(AnalysisError) -> HardwareSpec {
        if argument.lowercased().hasSuffix(".json") { return try loadSpecFile(argument) }
        return try lookup(argument).spec
    }

    /// Reads a user spec: `{"name": "...", "memory_bandwidth_GBps": 3350, "bf16_dense_TFLOPS": 989.4,
    /// "fp8_dense_TFLOPS": 1978.9, "memory_GiB": 80}` (bandwidth and one peak are required).
    public static func loadSpecFile(_ path: String) throws(AnalysisError) -> HardwareSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidHardwareSpec(file: path, field: "(file)", expected: "a readable JSON file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .invalidHardwareSpec(file: path, field: "(document)", expected: "a JSON object")
        }
        return try spec(from: object, file: path)
    }

    static func spec(from o: [String: Any], file: String) throws(AnalysisError) -> HardwareSpec {
        func number(_ key: String) throws(AnalysisError) -> Double? {
            guard let v = o[key] else { return nil }
            guard let n = v as? NSNumber, !(v is Bool), n.doubleValue > 0, n.doubleValue.isFinite else {
                throw .invalidHardwareSpec(file: file, field: key, expected: "a positive number")
            }
            return n.doubleValue
        }
        guard let bw = try number("memory_bandwidth_GBps") else {
            throw .invalidHardwareSpec(file: file, field: "memory_bandwidth_GBps", expected: "a positive number (GB/s)")
        }
        var peaks: [String: Double] = [:]
        if let v = try number("bf16_dense_TFLOPS") { peaks["bf16"] = v * 1e12 }
        if let v = try number("fp8_dense_TFLOPS") { peaks["fp8"] = v * 1e12 }
        if let v = try number("fp4_dense_TFLOPS") { peaks["fp4"] = v * 1e12 }
        if peaks.isEmpty {
            throw .invalidHardwareSpec(file: file, field: "bf16_dense_TFLOPS",
                                       expected: "at least one dense peak (bf16_dense_TFLOPS, fp8_dense_TFLOPS, fp4_dense_TFLOPS)")
        }
        let name = (o["name"] as? String) ?? file
        return HardwareSpec(name: name, origin: "user", memoryBandwidth: bw * 1e9, peakFLOPS: peaks,
                            memoryBytes: try number("memory_GiB").map { $0 * 1_073_741_824 }, source: "spec file \(file)")
    }

    /// Up to three names closest to `name` (substring matches first, then edit distance ≤ half).
    static func closest(to name: String, among names: [String]) -> [String] {
        let key = normalize(name)
        let scored = names.map { n -> (String, Int) in
            let k = normalize(n)
            if !key.isEmpty && (k.contains(key) || key.contains(k)) { return (n, 0) }
            return (n, EditDistance.between(key, k))
        }
        let limit = max(2, key.count / 2)
        return scored.filter { $0.1 <= limit }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(3).map(\.0)
    }
}
