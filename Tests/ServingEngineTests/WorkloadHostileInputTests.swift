import Foundation
import Testing
import ServingEngine

/// Workload files with numbers that do not fit the engine's integer types, and the inputs the
/// fuzz-workload target found (Fuzz/regressions/fuzz-workload): a typed error naming the line
/// and field, never a trap (docs/fuzzing.md).
struct WorkloadHostileInputTests {
    func error(_ text: String) -> WorkloadError? {
        do {
            _ = try Workload.parseJSONL(Data(text.utf8), source: "req.jsonl")
            return nil
        } catch {
            return error
        }
    }

    /// `arrival` × 1e9 used to be converted to Int64 unchecked: 1e300 s trapped.
    @Test(arguments: ["1e300", "9.3e9", "1.7976931348623157e308"])
    func hugeArrivalIsATypedError(_ value: String) throws {
        let e = try #require(error("{\"arrival\": \(value), \"prompt_length\": 5, \"output_length\": 2}"))
        #expect(e.line == 1 && e.field == "arrival", "\(e)")
    }

    /// Counts beyond Int32 are refused (prompt + max output overflowed in `fit`).
    @Test(arguments: ["prompt_length", "output_length", "max_output", "prefix_length"])
    func hugeCountIsATypedError(_ field: String) throws {
        var object = ["prompt_length": "5", "output_length": "2"]
        object[field] = "9223372036854775807"
        let text = "{" + object.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        let e = try #require(error(text))
        #expect(e.field == field, "\(e)")
    }

    /// The largest accepted output still fits a context without overflowing.
    @Test func largestOutputIsClippedToTheContext() throws {
        var w = try Workload.parseJSONL(Data("{\"prompt_length\": 5, \"output_length\": 2147483647}".utf8), source: "req.jsonl")
        let (clipped, dropped) = w.fit(maxContext: 64)
        #expect(clipped == 1 && dropped == 0 && w.requests[0].maxOutputTokens == 59)
    }

    /// Every input in Fuzz/regressions/fuzz-workload (first byte: even = JSONL, odd = ShareGPT).
    @Test func fuzzerFindingsGiveValuesOrTypedErrors() throws {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let directory = parts.joined(separator: "/") + "/Fuzz/regressions/fuzz-workload"
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() {
            let bytes = [UInt8](try #require(FileManager.default.contents(atPath: directory + "/" + name)))
            guard let first = bytes.first else { continue }
            let body = Data(bytes.dropFirst())
            do {
                var w = first & 1 == 0 ? try Workload.parseJSONL(body, source: name) : try Workload.parseShareGPT(body, source: name)
                _ = w.fit(maxContext: 256)
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
    }
}
