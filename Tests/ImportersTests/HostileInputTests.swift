import Foundation
import Testing
import Analysis
@testable import Importers
import TraceFormat

/// Hostile numbers and the inputs the fuzzers found (docs/fuzzing.md): every importer, and the
/// analyzer on what it emits, gives a value or a typed error — never a trap. A regression here
/// crashes the test process, which fails the suite.
@Suite struct HostileInputTests {
    /// Imports `bytes` as `format` (nil: auto-detect) and analyzes the events, as
    /// `inferscope analyze FILE` does. Returns the import error's message, or nil on success.
    @discardableResult
    static func importAndAnalyze(_ bytes: [UInt8], _ format: ImportFormat?, options: ImportOptions = .init()) -> String? {
        var analyzer = try? Analyzer(options: AnalysisOptions(hardware: options.hardware))
        do throws(ImportError) {
            // (`??` takes a rethrowing autoclosure whose error is untyped: unwrap explicitly.)
            let f: ImportFormat
            if let format { f = format } else { f = try ImportDetection.detect(firstBytes: bytes, file: "hostile") }
            try f.importer.importTrace(bytes, file: "hostile", options: options) { event in
                do { try analyzer?.consume(event) } catch { analyzer = nil }
            }
            _ = try? analyzer?.finish()
            return nil
        } catch {
            #expect(!error.description.isEmpty)
            return error.description
        }
    }

    /// The fixture of each format.
    static let fixtures: [(String, ImportFormat)] = [
        ("vllm-bench-serve.json", .vllm), ("vllm-append-old.json", .vllm), ("sglang-bench-serving.jsonl", .sglang),
        ("aiperf-profile_export.jsonl", .aiperf), ("aiperf-profile_export_aiperf.csv", .aiperfCSV),
        ("llmperf_individual_responses.json", .llmperf), ("llama-bench.json", .llamaBench),
        ("otel-vllm-spans.jsonl", .otel), ("vllm-metrics.txt", .vllmMetrics),
        ("aiperf-server_metrics_export.jsonl", .vllmMetrics),
    ]

    /// Numbers that do not fit the integer types the importers convert to: before the fix,
    /// `Int(x)`/`Int64(x)` of such a value trapped (llama-bench `n_prompt: 1e300` was the one
    /// found by mutating real files), as did sums of nanosecond times near Int64.max.
    static let hostileNumbers = ["1e300", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
                                 "9.3e18", "-1e300", "4.5e18"]

    /// Each fixture with up to 40 of its numbers (spread over the file) replaced by each hostile
    /// number, through its importer and the analyzer, with and without a model and hardware.
    @Test(arguments: fixtures.map(\.0))
    func hostileNumbersGiveValuesOrTypedErrors(_ name: String) throws {
        let format = try #require(Self.fixtures.first { $0.0 == name }?.1)
        let bytes = try fixtureBytes(name)
        let numbers = Self.numberRanges(bytes)
        #expect(!numbers.isEmpty)
        let stride = max(1, numbers.count / 40)
        var tried = 0
        for range in Swift.stride(from: 0, to: numbers.count, by: stride).map({ numbers[$0] }) {
            for replacement in Self.hostileNumbers {
                let mutated = Array(bytes[..<range.lowerBound]) + Array(replacement.utf8) + Array(bytes[range.upperBound...])
                Self.importAndAnalyze(mutated, format)
                Self.importAndAnalyze(mutated, format, options: ImportOptions(model: "Llama-3.1-8B", hardware: "H100-SXM"))
                tried += 1
            }
        }
        #expect(tried >= min(numbers.count, 40) * Self.hostileNumbers.count / 2)
    }

    /// The typed errors name the field and the value (what the trap used to hide).
    @Test func hugeLlamaBenchCountIsATypedError() throws {
        let text = String(decoding: try fixtureBytes("llama-bench.json"), as: UTF8.self)
        let mutated = text.replacingOccurrences(of: "\"n_prompt\": 512", with: "\"n_prompt\": 1e300")
        #expect(mutated != text)
        let message = try #require(Self.importAndAnalyze(Array(mutated.utf8), .llamaBench))
        #expect(message.contains("n_prompt") && message.contains("at most 2^53"), "\(message)")
    }

    @Test func hugeLLMPerfTokenCountIsATypedError() throws {
        let text = "[{\"number_input_tokens\": 1e300, \"number_output_tokens\": 5, \"end_to_end_latency_s\": 1.0, \"ttft_s\": 0.1}]"
        let message = try #require(Self.importAndAnalyze(Array(text.utf8), .llmperf))
        #expect(message.contains("number_input_tokens") && message.contains("2^53"), "\(message)")
    }

    /// Epoch times at the two ends of Int64 in one OTel file: their difference overflowed.
    @Test func otelTimesAtInt64ExtremesDoNotTrap() throws {
        let text = String(decoding: try fixtureBytes("otel-vllm-spans.jsonl"), as: UTF8.self)
        guard let range = text.range(of: #""startTimeUnixNano":\s*"[0-9]+""#, options: .regularExpression) else {
            Issue.record("no startTimeUnixNano in the OTel fixture")
            return
        }
        let mutated = text.replacingCharacters(in: range, with: "\"startTimeUnixNano\": \"-9223372036854775808\"")
        Self.importAndAnalyze(Array(mutated.utf8), .otel)
    }

    /// Every input a fuzzer found crashing, kept in Fuzz/regressions/fuzz-importers (selector byte
    /// first, as the fuzz-importers target reads it) and Fuzz/regressions/fuzz-trace.
    @Test func fuzzerFindingsGiveValuesOrTypedErrors() throws {
        for (name, bytes) in try Self.regressionInputs("fuzz-importers") where !bytes.isEmpty {
            let selector = Int(bytes[0]), body = Array(bytes.dropFirst())
            let formats = ImportFormat.allCases
            var options = ImportOptions()
            if selector & 0x10 != 0 { options.model = "Llama-3.1-8B"; options.hardware = "H100-SXM" }
            if selector & 0x20 != 0 { options.run = 1 }
            switch selector % 10 {
            case 0..<formats.count: Self.importAndAnalyze(body, formats[selector % 10], options: options)
            case 8: Self.importAndAnalyze(body, nil, options: options)
            default:
                let cut = body.firstIndex(of: 0) ?? body.count
                let metrics = cut < body.count ? Array(body[(cut + 1)...]) : []
                do throws(ImportError) {
                    try CombinedImport.importTrace(Array(body[..<cut]), file: name, format: .aiperf, metrics: metrics,
                                                   metricsFile: name + "-metrics", options: options) { _ in }
                } catch {
                    #expect(!error.description.isEmpty)
                }
            }
        }
        for (_, bytes) in try Self.regressionInputs("fuzz-trace") {
            for strict in [false, true] {
                let reader = TraceReader(bytes: bytes, sourceName: "fuzz.json", options: .init(strict: strict, bufferSize: 256))
                var analyzer = try? Analyzer(options: AnalysisOptions(hardware: strict ? "H100-SXM" : nil))
                while let event = reader.next() {
                    do { try analyzer?.consume(event) } catch { analyzer = nil }
                }
                if !reader.hasErrors { _ = try? analyzer?.finish() }
            }
        }
    }

    /// (file name, bytes) of each file in Fuzz/regressions/TARGET, sorted; none if the directory is absent.
    static func regressionInputs(_ target: String) throws -> [(String, [UInt8])] {
        let directory = packageRoot + "/Fuzz/regressions/" + target
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return try names.sorted().map { name in
            (name, [UInt8](try #require(FileManager.default.contents(atPath: directory + "/" + name))))
        }
    }

    /// Byte ranges of the JSON/CSV/Prometheus numbers in `bytes` (digits with sign, point, exponent).
    static func numberRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        while i < bytes.count {
            let startsNumber = isDigit(bytes[i]) || (bytes[i] == UInt8(ascii: "-") && i + 1 < bytes.count && isDigit(bytes[i + 1]))
            let afterWord = i > 0 && (bytes[i - 1] | 0x20 >= 0x61 && bytes[i - 1] | 0x20 <= 0x7A || bytes[i - 1] == UInt8(ascii: "_"))
            guard startsNumber, !afterWord else { i += 1; continue }
            var j = i + 1
            while j < bytes.count, isDigit(bytes[j]) || [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[j]) {
                j += 1
            }
            out.append(i..<j)
            i = j
        }
        return out
    }
}
