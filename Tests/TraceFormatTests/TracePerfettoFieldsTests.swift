import Foundation
import Testing
@testable import TraceFormat

/// Checks the written file against an independent JSON parser (Foundation's) and against the
/// fields each Chrome `ph` type needs to load in Perfetto / chrome://tracing.
@Suite struct TracePerfettoFieldsTests {
    static func parse(_ bytes: [UInt8]) throws -> [[String: Any]] {
        let json = try JSONSerialization.jsonObject(with: Data(bytes))
        return try #require(json as? [[String: Any]])
    }

    @Test(arguments: [false, true])
    func everyEventHasTheFieldsItsPhaseRequires(adversarial: Bool) throws {
        var synth = SyntheticTrace(seed: 21, adversarial: adversarial)
        let events = try Self.parse(TraceEncoder.encode(synth.events(500)))
        var seen: Set<String> = []
        for (i, event) in events.enumerated() {
            let ph = try #require(event["ph"] as? String, "event \(i)")
            seen.insert(ph)
            func has(_ key: String, _ type: Any.Type) {
                let value = event[key]
                let ok: Bool
                if type == Double.self { ok = value is NSNumber }
                else if type == String.self { ok = value is String }
                else { ok = value is [String: Any] }
                #expect(ok, "event \(i) (ph \(ph)) needs '\(key)' of type \(type): \(event)")
            }
            switch ph {
            case "X":
                for key in ["ts", "dur", "pid", "tid"] { has(key, Double.self) }
                has("name", String.self)
            case "C":
                for key in ["ts", "pid"] { has(key, Double.self) }
                has("name", String.self)
                has("args", [String: Any].self)
                let args = event["args"] as? [String: Any] ?? [:]
                #expect(!args.isEmpty)
                for (key, value) in args {
                    #expect(value is NSNumber, "counter series '\(key)' is not a number: \(event)")
                }
            case "b", "e", "n":
                for key in ["ts", "pid", "id"] { has(key, Double.self) }
                for key in ["cat", "name"] { has(key, String.self) }
            case "M":
                has("name", String.self)
                has("args", [String: Any].self)
                #expect(["process_name", "thread_name"].contains(event["name"] as? String))
            case "i":
                for key in ["ts", "pid"] { has(key, Double.self) }
                has("name", String.self)
                #expect(event["s"] as? String == "g")
            default:
                Issue.record("unexpected ph \(ph)")
            }
        }
        #expect(seen == ["i", "M", "X", "C", "b", "n", "e"])
    }

    /// The independent parser reads the same numbers our reader does: `ts`/`dur` in µs.
    @Test func timestampsAreMicrosecondsForOtherParsers() throws {
        let step = StepEvent(step: 1, phase: .decode, start: 1_234_567, duration: 2_500)
        var synth = SyntheticTrace(seed: 1)
        let events = try Self.parse(TraceEncoder.encode([.header(synth.header()), .step(step)]))
        let x = try #require(events.first { $0["ph"] as? String == "X" })
        #expect((x["ts"] as? NSNumber)?.doubleValue == 1234.567)
        #expect((x["dur"] as? NSNumber)?.doubleValue == 2.5)
        #expect(x["tid"] as? Int == 1)
        #expect(x["name"] as? String == "decode")
    }

    /// Every line of a written file is one complete event (so a prefix cut at a line is valid).
    @Test func oneEventPerLine() throws {
        var synth = SyntheticTrace(seed: 8, adversarial: true)
        let bytes = TraceEncoder.encode(synth.events(100))
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        #expect(lines.first == [UInt8(ascii: "[")])
        #expect(lines.last == [UInt8(ascii: "]")])
        for line in lines.dropFirst().dropLast() {
            var body = Array(line)
            if body.last == UInt8(ascii: ",") { body.removeLast() }
            #expect((try? JSONSerialization.jsonObject(with: Data(body))) is [String: Any],
                    "\(String(decoding: line, as: UTF8.self))")
        }
    }
}
