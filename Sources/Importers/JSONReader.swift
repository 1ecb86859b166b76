#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TraceFormat

/// A parsed JSON value, for the small parts of foreign files (metadata, one JSONL record).
/// The large per-request arrays are read with ``JSONReader``'s typed pulls instead.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    /// An integer literal that fits Int64, kept exact (epoch nanoseconds exceed 2^53).
    case integer(Int64)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// A number, or a string holding one ("inf", "12.5", OTLP's string-encoded integers).
    public var double: Double? {
        switch self {
        case .number(let x): return x
        case .integer(let i): return Double(i)
        case .string(let s): return JSONReader.parseNumberText(s)
        default: return nil
        }
    }

    /// An exact integer: an integer literal or a string holding one (OTLP's `"1795774500000000000"`).
    public var int64: Int64? {
        switch self {
        case .integer(let i): return i
        case .number(let x): return x == x.rounded() && abs(x) < 9e15 ? Int64(x) : nil
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var array: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// A short description of the value's kind, for "found …" in messages.
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number, .integer: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A pull parser over the bytes of a whole file holding one JSON value, a JSON array, or several
/// values separated by whitespace/newlines (JSON Lines). Tolerates what real tools write:
/// bare `Infinity`/`-Infinity`/`NaN` tokens (SGLang, Python's json) and missing commas.
///
/// Errors carry the file name, the 1-based line (counted only when an error is made, O(offset))
/// and the JSON path the caller passes. Numbers are parsed exactly: the fast path (mantissa
/// below 2^53, power of ten up to 22) is exact; other numbers go through `strtod`.
public struct JSONReader {
    public let file: String
    let bytes: [UInt8]
    public private(set) var position: Int

    /// `bytes` must be the whole input.
    public init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
        position = 0
        // A UTF-8 byte-order mark.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
    }

    // MARK: position and errors

    /// The 1-based line of byte `offset`. O(offset).
    public func line(at offset: Int) -> Int {
        var n = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end { if bytes[i] == 0x0A { n += 1 }; i += 1 }
        return n
    }

    /// An error at the current position.
    public func error(_ field: String?, _ message: String) -> ImportError {
        ImportError(file: file, line: line(at: position), field: field, message: message)
    }

    /// "expected X, found Y" at the current position.
    public func mismatch(_ field: String?, expected: String) -> ImportError {
        error(field, "expected \(expected), found \(foundDescription())")
    }

    func foundDescription() -> String {
        guard position < bytes.count else { return "the end of the file" }
        return JSONFound.describe(bytes[position])
    }

    // MARK: structure

    @inline(__always) public mutating func skipWhitespace() {
        while position < bytes.count {
            let c = bytes[position]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            position += 1
        }
    }

    /// True when only whitespace remains.
    public mutating func atEnd() -> Bool {
        skipWhitespace()
        return position >= bytes.count
    }

    /// The next non-whitespace byte, not consumed.
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// Consumes `{`.
    public mutating func beginObject(_ field: String?) throws(ImportError) {
        guard peek() == UInt8(ascii: "{") else { throw mismatch(field, expected: "an object") }
        position += 1
    }

    /// The next key of the current object (the value follows), or nil after its `}`.
    public mutating func nextKey(_ field: String?) throws(ImportError) -> String? {
        guard var c = peek() else { throw mismatch(field, expected: "'}' or a key") }
        if c == UInt8(ascii: ",") {
            position += 1
            guard let d = peek() else { throw mismatch(field, expected: "a key") }
            c = d
        }
        if c == UInt8(ascii: "}") { position += 1; return nil }
        guard c == UInt8(ascii: "\"") else { throw mismatch(field, expected: "a key string or '}'") }
        let key = try readString(field)
        guard peek() == UInt8(ascii: ":") else { throw mismatch(field, expected: "':' after key \"\(key)\"") }
        position += 1
        return key
    }

    /// Consumes `[`.
    public mutating func beginArray(_ field: String?) throws(ImportError) {
        guard peek() == UInt8(ascii: "[") else { throw mismatch(field, expected: "an array") }
        position += 1
    }

    /// True when another element of the current array follows; false after its `]`.
    public mutating func nextElement(_ field: String?) throws(ImportError) -> Bool {
        guard var c = peek() else { throw mismatch(field, expected: "']' or a value") }
        if c == UInt8(ascii: ",") {
            position += 1
            guard let d = peek() else { throw mismatch(field, expected: "a value") }
            c = d
        }
        if c == UInt8(ascii: "]") { position += 1; return false }
        return true
    }

    /// Consumes `null` if it is next.
    public mutating func consumeNull() -> Bool {
        guard peek() == UInt8(ascii: "n"), matches("null") else { return false }
        position += 4
        return true
    }

    private func matches(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard position + n <= bytes.count else { return false }
        return literal.withUTF8Buffer { lit in
            for i in 0..<n where bytes[position + i] != lit[i] { return false }
            return true
        }
    }

    // MARK: scalars

    /// A string value (escapes decoded).
    public mutating func readString(_ field: String?) throws(ImportError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw mismatch(field, expected: "a string") }
        let start = position
        position += 1
        var escaped = false
        while position < bytes.count {
            let c = bytes[position]
            if c == UInt8(ascii: "\"") {
                let body = bytes[(start + 1)..<position]
                position += 1
                return escaped ? try unescape(body, field) : String(decoding: body, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") { escaped = true; position += 1 }
            position += 1
        }
        position = start
        throw error(field, "unterminated string (the file is cut off?)")
    }

    private func unescape(_ body: ArraySlice<UInt8>, _ field: String?) throws(ImportError) -> String {
        let decoded: Result<String, JSONEscapes.Failure> = body.withUnsafeBufferPointer { raw in
            Result { () throws(JSONEscapes.Failure) -> String in try JSONEscapes.decode(raw, mode: .lenient) }
        }
        switch decoded {
        case .success(let text): return text
        case .failure(let failure): throw error(field, failure.message)
        }
    }

    private static let powersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    /// A number; also the bare tokens `Infinity`, `-Infinity`, `NaN` and the strings "inf",
    /// "-inf", "nan", "Infinity" (vLLM writes `"inf"`), or a numeric string (OTLP integers).
    public mutating func readDouble(_ field: String?, expected: String = "a number") throws(ImportError) -> Double {
        guard let c = peek() else { throw mismatch(field, expected: expected) }
        if c == UInt8(ascii: "\"") {
            let save = position
            let text = try readString(field)
            if let v = Self.parseNumberText(text) { return v }
            position = save
            throw error(field, "expected \(expected), found the string \"\(text.prefix(40))\"")
        }
        if c == UInt8(ascii: "I"), matches("Infinity") { position += 8; return .infinity }
        if c == UInt8(ascii: "N"), matches("NaN") { position += 3; return .nan }
        if c == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "I") {
            position += 1
            if matches("Infinity") { position += 8; return -.infinity }
            position -= 1
        }
        guard c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else { throw mismatch(field, expected: expected) }
        return try scanNumber(field, expected: expected)
    }

    /// A number, or nil for `null`.
    public mutating func readOptionalDouble(_ field: String?, expected: String = "a number or null") throws(ImportError) -> Double? {
        if consumeNull() { return nil }
        return try readDouble(field, expected: expected)
    }

    private mutating func scanNumber(_ field: String?, expected: String) throws(ImportError) -> Double {
        let start = position
        let n = bytes.count
        var negative = false
        if bytes[position] == UInt8(ascii: "-") { negative = true; position += 1 }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var digits = 0
        while position < n, bytes[position] &- 0x30 < 10 {
            let d = UInt64(bytes[position] &- 0x30)
            if significant < 19 {
                mantissa = mantissa &* 10 &+ d
                if mantissa != 0 { significant += 1 }
            } else {
                exponent += 1
            }
            digits += 1
            position += 1
        }
        if position < n, bytes[position] == UInt8(ascii: ".") {
            position += 1
            while position < n, bytes[position] &- 0x30 < 10 {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[position] &- 0x30)
                    if mantissa != 0 { significant += 1 }
                    exponent -= 1
                }
                digits += 1
                position += 1
            }
        }
        guard digits > 0 else { position = start; throw mismatch(field, expected: expected) }
        if position < n, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            var sign = 1
            if position < n, bytes[position] == UInt8(ascii: "-") { sign = -1; position += 1 }
            else if position < n, bytes[position] == UInt8(ascii: "+") { position += 1 }
            var e = 0, expDigits = 0
            while position < n, bytes[position] &- 0x30 < 10 {
                e = min(e * 10 + Int(bytes[position] &- 0x30), 100_000)
                expDigits += 1
                position += 1
            }
            guard expDigits > 0 else { position = start; throw error(field, "malformed number exponent") }
            exponent += sign * e
        }
        if mantissa < (1 << 53), exponent >= -22, exponent <= 22 {
            var v = Double(mantissa)
            v = exponent < 0 ? v / Self.powersOfTen[-exponent] : v * Self.powersOfTen[exponent]
            return negative ? -v : v
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        return strtod(text, nil)
    }

    /// Parses a number written as text ("12.5", "1,019.69", "inf", "-Infinity", "nan"); nil
    /// otherwise. Thousands separators are accepted only in their proper places (groups of three
    /// digits after the first 1–3), so "1,2" is not a number.
    public static func parseNumberText(_ text: String) -> Double? {
        if text.utf8.contains(UInt8(ascii: ",")) {
            guard let plain = withoutThousandsSeparators(text) else { return nil }
            return parseNumberText(plain)
        }
        switch text.lowercased() {
        case "inf", "infinity", "+inf": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default:
            var r = JSONReader(bytes: Array(text.utf8), file: "")
            guard let first = r.peek(), first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39),
                  let v = try? r.scanNumber(nil, expected: ""), r.atEnd() else { return nil }
            return v
        }
    }

    /// "1,019.69" → "1019.69"; nil when the commas are not thousands separators.
    static func withoutThousandsSeparators(_ text: String) -> String? {
        var u = Array(text.utf8)
        var sign: [UInt8] = []
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { sign = [f]; u.removeFirst() }
        let dot = u.firstIndex(of: UInt8(ascii: ".")) ?? u.count
        let groups = u[..<dot].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard groups.count > 1, (1...3).contains(groups[0].count),
              groups.dropFirst().allSatisfy({ $0.count == 3 }),
              groups.allSatisfy({ $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              !u[dot...].contains(UInt8(ascii: ",")) else { return nil }
        return String(decoding: sign + groups.joined() + u[dot...], as: UTF8.self)
    }

    // MARK: typed arrays

    /// An array of numbers appended to `out`; returns how many.
    public mutating func readDoubles(_ field: String, into out: inout [Double], expected: String = "a number") throws(ImportError) -> Int {
        try beginArray(field)
        var count = 0
        while try nextElement(field) {
            // The element's path is built only for an error (formatting it per number costs more
            // than parsing the number).
            do {
                out.append(try readDouble(nil, expected: expected))
            } catch {
                var e = error
                e.field = "\(field)[\(count)]"
                throw e
            }
            count += 1
        }
        return count
    }

    // MARK: generic values

    /// Any value, parsed into a tree. `depth` guards against pathological nesting.
    public mutating func readValue(_ field: String?, depth: Int = 0) throws(ImportError) -> JSON {
        guard depth < 256 else { throw error(field, "nesting deeper than 256 levels") }
        guard let c = peek() else { throw mismatch(field, expected: "a value") }
        switch c {
        case UInt8(ascii: "{"):
            position += 1
            var o: [String: JSON] = [:]
            while let key = try nextKey(field) {
                o[key] = try readValue(Self.path(field, key), depth: depth + 1)
            }
            return .object(o)
        case UInt8(ascii: "["):
            position += 1
            var a: [JSON] = []
            while try nextElement(field) {
                a.append(try readValue("\(field ?? "")[\(a.count)]", depth: depth + 1))
            }
            return .array(a)
        case UInt8(ascii: "\""):
            return .string(try readString(field))
        case UInt8(ascii: "t"):
            guard matches("true") else { throw mismatch(field, expected: "a value") }
            position += 4
            return .bool(true)
        case UInt8(ascii: "f"):
            guard matches("false") else { throw mismatch(field, expected: "a value") }
            position += 5
            return .bool(false)
        case UInt8(ascii: "n"):
            guard consumeNull() else { throw mismatch(field, expected: "a value") }
            return .null
        default:
            let start = position
            let x = try readDouble(field, expected: "a value")
            // Integer literals that fit Int64 stay exact.
            if position - start <= 20, x.isFinite, x == x.rounded(),
               !bytes[start..<position].contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }),
               let i = Int64(String(decoding: bytes[start..<position], as: UTF8.self)) {
                return .integer(i)
            }
            return .number(x)
        }
    }

    /// Skips one value of any kind.
    public mutating func skipValue(_ field: String?) throws(ImportError) {
        guard let c = peek() else { throw mismatch(field, expected: "a value") }
        switch c {
        case UInt8(ascii: "{"):
            position += 1
            while try nextKey(field) != nil { try skipValue(field) }
        case UInt8(ascii: "["):
            position += 1
            while try nextElement(field) { try skipValue(field) }
        default:
            _ = try readValue(field)
        }
    }

    /// "parent.key" (or "key" at the top).
    public static func path(_ parent: String?, _ key: String) -> String {
        guard let parent, !parent.isEmpty else { return key }
        return parent + "." + key
    }
}
