import Foundation
import Testing
@testable import Importers

/// The importers' JSON pull parser: exact numbers, the non-strict tokens real tools write,
/// escapes, and error positions.
@Suite struct JSONReaderTests {
    @Test func numbersAreExact() throws {
        let texts = ["0", "-0.5", "0.010657954", "1e-3", "12345678901234567890", "3.141592653589793238", "2.5E+10",
                     "0.000000000123", "81234.512345", "1.7976931348623157e308", "5e-324", "123456789012.345678"]
        for t in texts {
            var r = JSONReader(bytes: Array(t.utf8), file: "n")
            #expect(try r.readDouble(nil) == strtod(t, nil), "\(t)")
        }
    }

    @Test func nonStrictTokensAndNumericStrings() throws {
        var r = JSONReader(bytes: Array("[Infinity, -Infinity, NaN, \"inf\", \"-inf\", \"12.5\", \"170000000000000001\"]".utf8), file: "n")
        var out: [Double] = []
        _ = try r.readDoubles("a", into: &out)
        #expect(out[0] == .infinity && out[1] == -.infinity && out[2].isNaN && out[3] == .infinity && out[4] == -.infinity)
        #expect(out[5] == 12.5 && out[6] == 1.7e17)  // the nearest Double to 170000000000000001
    }

    @Test func stringsAndStructure() throws {
        var r = JSONReader(bytes: Array("\u{FEFF}{\"a\\n\\u00e9\\ud83d\\ude00\": [1, {\"b\": null}], \"c\": true}".utf8), file: "s")
        let v = try r.readValue(nil)
        #expect(v == .object(["a\né😀": .array([.integer(1), .object(["b": .null])]), "c": .bool(true)]))
        let atEnd = r.atEnd()
        #expect(atEnd)
    }

    @Test func integersStayExact() throws {
        var r = JSONReader(bytes: Array("[1795774500050000001, 2.5, 1e3, -7, 99999999999999999999]".utf8), file: "i")
        let v = try r.readValue(nil)
        #expect(v == .array([.integer(1795774500050000001), .number(2.5), .number(1000), .integer(-7), .number(1e20)]))
        #expect(JSON.string("1795774500050000001").int64 == 1795774500050000001)
    }

    @Test func errorsCarryLineAndPath() {
        var r = JSONReader(bytes: Array("{\n\"a\": [1,\n  2,\n  x]}".utf8), file: "f.json")
        #expect(throws: ImportError(file: "f.json", line: 4, field: "a[2]", message: "expected a value, found 'x'")) {
            _ = try r.readValue(nil)
        }
        var s = JSONReader(bytes: Array("\"abc".utf8), file: "f.json")
        #expect(throws: ImportError(file: "f.json", line: 1, field: nil, message: "unterminated string (the file is cut off?)")) {
            _ = try s.readValue(nil)
        }
    }
}
