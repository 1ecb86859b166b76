#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a line could not be decoded. `field` is the JSON path of the offending value
/// ("args.batch[2][1]"), nil for syntax errors outside any field; `endOfInput` is set when the
/// line ended inside a value (the mark of a truncated line).
struct DecodeFailure: Error {
    var field: String?
    var message: String
    var endOfInput = false
    /// A failure that makes the rest of the file unreadable (unknown major version, no header).
    var fatal = false

    init(field: String? = nil, _ message: String, endOfInput: Bool = false, fatal: Bool = false) {
        self.field = field
        self.message = message
        self.endOfInput = endOfInput
        self.fatal = fatal
    }

    /// Prefixes the path of the enclosing value: "batch[2]" inside "args" → "args.batch[2]".
    func within(_ parent: String) -> DecodeFailure {
        var copy = self
        if let field {
            copy.field = field.hasPrefix("[") ? parent + field : parent + "." + field
        } else {
            copy.field = parent
        }
        return copy
    }
}

/// A byte range of the line being decoded: a JSON value, or a string's contents without quotes.
struct Span {
    var start: Int
    var end: Int
    /// For string contents: whether they contain a backslash escape.
    var hasEscapes = false
    var count: Int { end - start }
}

/// A small pull scanner over the bytes of one JSON line (no allocation except when it returns a
/// `String`). Every read advances `position` past the value and the whitespace after it.
/// Numbers are parsed exactly: integers by hand, doubles by the fast exact path (mantissa below
/// 2^53, power of ten up to 22) with `strtod` as the fallback.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    var position: Int
    let end: Int

    init(_ base: UnsafePointer<UInt8>, _ span: Span) {
        self.base = base
        self.position = span.start
        self.end = span.end
    }

    @inline(__always) var atEnd: Bool { position >= end }

    @inline(__always) func byte(_ i: Int) -> UInt8 { base[i] }

    @inline(__always) mutating func skipWhitespace() {
        while position < end {
            let c = base[position]
            guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { return }
            position += 1
        }
    }

    /// Describes the value starting at `position`, for "found …" in messages.
    func foundDescription() -> String {
        guard position < end else { return "the end of the line" }
        return JSONFound.describe(base[position])
    }

    func mismatch(_ expected: String) -> DecodeFailure {
        DecodeFailure("expected \(expected), found \(foundDescription())", endOfInput: position >= end)
    }

    /// Consumes `c` (and following whitespace) or fails with "expected <what>".
    @inline(__always) mutating func expect(_ c: UInt8, _ what: String) throws(DecodeFailure) {
        guard position < end, base[position] == c else { throw mismatch(what) }
        position += 1
        skipWhitespace()
    }

    /// Consumes `c` if it is next.
    @inline(__always) mutating func consume(_ c: UInt8) -> Bool {
        guard position < end, base[position] == c else { return false }
        position += 1
        skipWhitespace()
        return true
    }

    // MARK: - Strings

    /// Scans a string, returning the span of its contents (without the quotes).
    mutating func scanString() throws(DecodeFailure) -> Span {
        guard position < end, base[position] == UInt8(ascii: "\"") else { throw mismatch("a string") }
        position += 1
        let start = position
        var escapes = false
        while position < end {
            // Eight bytes at a time up to the first quote, backslash or control character.
            while position + 8 <= end {
                let w = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
                let special = Self.zeroBytes(w ^ Self.quotes) | Self.zeroBytes(w ^ Self.backslashes)
                    | Self.bytesBelow0x20(w)
                if special != 0 {
                    position += special.trailingZeroBitCount >> 3
                    break
                }
                position += 8
            }
            guard position < end else { break }
            let c = base[position]
            if c == UInt8(ascii: "\"") {
                let span = Span(start: start, end: position, hasEscapes: escapes)
                position += 1
                skipWhitespace()
                return span
            }
            if c == UInt8(ascii: "\\") {
                escapes = true
                position += 2
                continue
            }
            if c < 0x20 { throw DecodeFailure("control character inside a string (must be escaped)") }
            position += 1
        }
        throw DecodeFailure("expected the end of a string, found the end of the line", endOfInput: true)
    }

    // SWAR helpers: a high bit set in each flagged byte. The lowest flagged byte is always a
    // true match (borrows only cause false flags above a true one), which is all we use.
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080
    private static let quotes: UInt64 = 0x2222_2222_2222_2222
    private static let backslashes: UInt64 = 0x5C5C_5C5C_5C5C_5C5C

    @inline(__always) private static func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
    @inline(__always) private static func bytesBelow0x20(_ x: UInt64) -> UInt64 { (x &- ones &* 0x20) & ~x & highs }

    mutating func readString() throws(DecodeFailure) -> String {
        let span = try scanString()
        return try string(span)
    }

    /// The Swift string of a scanned span, with escapes decoded.
    func string(_ span: Span) throws(DecodeFailure) -> String {
        let raw = UnsafeBufferPointer(start: base + span.start, count: span.count)
        guard span.hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        do { return try JSONEscapes.decode(raw, mode: .strict) } catch { throw DecodeFailure(error.message) }
    }

    /// Whether a scanned string span equals `literal` (byte-wise; escapes never match).
    @inline(__always) func span(_ span: Span, equals literal: StaticString) -> Bool {
        span.count == literal.utf8CodeUnitCount && !span.hasEscapes
            && memcmp(base + span.start, literal.utf8Start, span.count) == 0
    }

    /// Reads a string that must be one of `cases`' names; returns its index.
    mutating func readEnum<T>(_ cases: [(StaticString, T)], expected: String) throws(DecodeFailure) -> T {
        let s = try scanString()
        for (name, value) in cases where span(s, equals: name) { return value }
        let found = (try? string(s)) ?? "?"
        throw DecodeFailure("expected \(expected), found \"\(found)\"")
    }

    // MARK: - Numbers

    /// Reads an integer literal (no fraction, no exponent) that fits `Int64`.
    mutating func readInt64() throws(DecodeFailure) -> Int64 {
        let negative = position < end && base[position] == UInt8(ascii: "-")
        let start = position
        if negative { position += 1 }
        let magnitude = try readDigits()
        if position < end, base[position] == UInt8(ascii: ".") || base[position] | 0x20 == UInt8(ascii: "e") {
            position = start
            throw DecodeFailure("expected an integer, found \(numberText())")
        }
        skipWhitespace()
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw outOfRange(start) }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw outOfRange(start) }
        return Int64(magnitude)
    }

    /// Reads a non-negative integer literal that fits `UInt64`.
    mutating func readUInt64() throws(DecodeFailure) -> UInt64 {
        if position < end, base[position] == UInt8(ascii: "-") {
            throw DecodeFailure("expected a non-negative integer, found \(numberText())")
        }
        let start = position
        let value = try readDigits()
        if position < end, base[position] == UInt8(ascii: ".") || base[position] | 0x20 == UInt8(ascii: "e") {
            position = start
            throw DecodeFailure("expected an integer, found \(numberText())")
        }
        skipWhitespace()
        return value
    }

    mutating func readInt32() throws(DecodeFailure) -> Int32 {
        let start = position
        let value = try readInt64()
        guard let narrow = Int32(exactly: value) else {
            position = start
            throw DecodeFailure("expected a 32-bit integer, found \(value) (out of range)")
        }
        return narrow
    }

    mutating func readInt() throws(DecodeFailure) -> Int { Int(try readInt64()) }

    /// Digits of an integer (at least one); fails on overflow of UInt64.
    private mutating func readDigits() throws(DecodeFailure) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        // Up to 19 digits cannot overflow UInt64; check only beyond.
        let fastEnd = Swift.min(end, position + 19)
        while position < fastEnd {
            let d = base[position] &- UInt8(ascii: "0")
            guard d < 10 else { break }
            value = value &* 10 &+ UInt64(d)
            position += 1
        }
        while position < end {
            let d = base[position] &- UInt8(ascii: "0")
            guard d < 10 else { break }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d))
            if o1 || o2 { throw outOfRange(start) }
            value = sum
            position += 1
        }
        guard position > start else {
            throw mismatch("an integer")
        }
        return value
    }

    private func outOfRange(_ start: Int) -> DecodeFailure {
        var copy = self
        copy.position = start
        return DecodeFailure("expected an integer in range, found \(copy.numberText()) (out of range)")
    }

    /// The text of the number at `position`, for messages.
    private func numberText() -> String {
        var i = position
        while i < end, i - position < 40 {
            let c = base[i]
            guard (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c | 0x20 == UInt8(ascii: "e") else { break }
            i += 1
        }
        return String(decoding: UnsafeBufferPointer(start: base + position, count: i - position), as: UTF8.self)
    }

    /// The span of a JSON number literal at `position` (validated against the JSON grammar).
    private mutating func scanNumber() throws(DecodeFailure) -> (span: Span, mantissa: UInt64, digits: Int, exponent10: Int, negative: Bool) {
        let start = position
        var negative = false
        if position < end, base[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent10 = 0
        var intDigits = 0
        while position < end, base[position] &- UInt8(ascii: "0") < 10 {
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(base[position] &- UInt8(ascii: "0"))
                if mantissa != 0 { digits += 1 }
            } else {
                exponent10 += 1
                digits += 1
            }
            intDigits += 1
            position += 1
        }
        guard intDigits > 0 else {
            position = start
            throw mismatch("a number")
        }
        if position < end, base[position] == UInt8(ascii: ".") {
            position += 1
            var fractionDigits = 0
            while position < end, base[position] &- UInt8(ascii: "0") < 10 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(base[position] &- UInt8(ascii: "0"))
                    exponent10 -= 1
                    if mantissa != 0 { digits += 1 }
                } else {
                    digits += 1
                }
                fractionDigits += 1
                position += 1
            }
            guard fractionDigits > 0 else {
                throw DecodeFailure("expected digits after the decimal point", endOfInput: position >= end)
            }
        }
        if position < end, base[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            var expNegative = false
            if position < end, base[position] == UInt8(ascii: "+") || base[position] == UInt8(ascii: "-") {
                expNegative = base[position] == UInt8(ascii: "-")
                position += 1
            }
            var e = 0
            var expDigits = 0
            while position < end, base[position] &- UInt8(ascii: "0") < 10 {
                if e < 100_000 { e = e * 10 + Int(base[position] &- UInt8(ascii: "0")) }
                expDigits += 1
                position += 1
            }
            guard expDigits > 0 else {
                throw DecodeFailure("expected digits in the exponent", endOfInput: position >= end)
            }
            exponent10 += expNegative ? -e : e
        }
        return (Span(start: start, end: position), mantissa, digits, exponent10, negative)
    }

    private static let powersOf10: [Double] = (0...22).map { e in
        var p = 1.0
        for _ in 0..<e { p *= 10 }
        return p
    }

    /// Reads a number as `Double`, exactly rounded. `null` reads as nil.
    mutating func readDouble() throws(DecodeFailure) -> Double? {
        if readNull() { return nil }
        let n = try scanNumber()
        skipWhitespace()
        var value: Double
        if n.digits <= 15 && abs(n.exponent10) <= 22 {
            // Exact: the mantissa and the power of ten are both representable, one rounding.
            value = Double(n.mantissa)
            value = n.exponent10 < 0 ? value / Self.powersOf10[-n.exponent10] : value * Self.powersOf10[n.exponent10]
            return n.negative ? -value : value
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n.span.count + 1) { text in
            for i in 0..<n.span.count { text[i] = CChar(bitPattern: base[n.span.start + i]) }
            text[n.span.count] = 0
            return strtod(text.baseAddress!, nil)
        }
    }

    /// Reads microseconds (`1234.567`) as integer nanoseconds, exactly for up to three fraction
    /// digits; more digits (or an exponent) round to the nearest nanosecond.
    mutating func readMicroseconds() throws(DecodeFailure) -> Int64 {
        let start = position
        let n = try scanNumber()
        skipWhitespace()
        // Nanoseconds = mantissa × 10^(exponent10 + 3), in integers while the mantissa is exact.
        let shift = n.exponent10 + 3
        var magnitude: UInt64?
        if n.digits <= 19 {
            if shift >= 0 {
                if shift < Self.integerPowersOf10.count {
                    let (p, overflow) = n.mantissa.multipliedReportingOverflow(by: Self.integerPowersOf10[shift])
                    if !overflow { magnitude = p }
                }
            } else if -shift < Self.integerPowersOf10.count {
                let divisor = Self.integerPowersOf10[-shift]
                let q = n.mantissa / divisor, r = n.mantissa % divisor
                magnitude = q + (r >= divisor - r ? 1 : 0)
            } else {
                magnitude = 0
            }
        }
        guard let magnitude else {
            var copy = self
            copy.position = start
            let us = try copy.readDouble() ?? 0
            guard abs(us) < 9.2e15 else {
                position = start
                throw DecodeFailure("expected a time in microseconds, found \(numberText()) (out of range)")
            }
            return Int64((us * 1000).rounded())
        }
        let limit = n.negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        guard magnitude <= limit else {
            position = start
            throw DecodeFailure("expected a time in microseconds, found \(numberText()) (out of range)")
        }
        return n.negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }

    private static let integerPowersOf10: [UInt64] = (0...19).map { e in
        var p: UInt64 = 1
        for _ in 0..<e { p *= 10 }
        return p
    }

    /// Whether the rest of the line is a proper prefix of `literal` (a literal cut off by the end).
    func restIsPrefix(of literal: StaticString) -> Bool {
        let rest = end - position
        return rest < literal.utf8CodeUnitCount && memcmp(base + position, literal.utf8Start, rest) == 0
    }

    @inline(__always) mutating func readNull() -> Bool {
        guard end - position >= 4, base[position] == UInt8(ascii: "n"), base[position + 1] == UInt8(ascii: "u"),
              base[position + 2] == UInt8(ascii: "l"), base[position + 3] == UInt8(ascii: "l") else { return false }
        position += 4
        skipWhitespace()
        return true
    }

    mutating func readBool() throws(DecodeFailure) -> Bool {
        if end - position >= 4, memcmp(base + position, "true", 4) == 0 {
            position += 4
            skipWhitespace()
            return true
        }
        if end - position >= 5, memcmp(base + position, "false", 5) == 0 {
            position += 5
            skipWhitespace()
            return false
        }
        if restIsPrefix(of: "true") || restIsPrefix(of: "false") {
            throw DecodeFailure("expected true or false, found the end of the line", endOfInput: true)
        }
        throw mismatch("true or false")
    }

    // MARK: - Structure

    /// Skips one value of any type, checking its syntax; returns its span.
    @discardableResult
    mutating func skipValue(depth: Int = 0) throws(DecodeFailure) -> Span {
        let start = position
        guard position < end else { throw mismatch("a value") }
        switch base[position] {
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "{"):
            guard depth < 64 else { throw DecodeFailure("objects nested more than 64 deep") }
            try forEachMember { (_, s: inout JSONScanner) throws(DecodeFailure) in try s.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            guard depth < 64 else { throw DecodeFailure("arrays nested more than 64 deep") }
            try forEachElement { (_, s: inout JSONScanner) throws(DecodeFailure) in try s.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try readBool()
        case UInt8(ascii: "n"):
            guard readNull() else {
                if restIsPrefix(of: "null") {
                    throw DecodeFailure("expected null, found the end of the line", endOfInput: true)
                }
                throw mismatch("a value")
            }
        default:
            _ = try scanNumber()
            skipWhitespace()
        }
        var span = Span(start: start, end: position)
        while span.end > span.start, base[span.end - 1] == 0x20 || base[span.end - 1] == 0x09 { span.end -= 1 }
        return span
    }

    /// Finds the end of the value at `position` without checking it (strings and nesting only;
    /// the caller parses the span later, strictly). Returns the value's span, whitespace excluded.
    mutating func delimitValue() throws(DecodeFailure) -> Span {
        let start = position
        var depth = 0
        while position < end {
            let c = base[position]
            switch c {
            case UInt8(ascii: "\""):
                _ = try scanString()
                if depth == 0 { return Span(start: start, end: trimmedEnd(start)) }
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return Span(start: start, end: trimmedEnd(start)) }
                depth -= 1
                if depth == 0 {
                    position += 1
                    let span = Span(start: start, end: position)
                    skipWhitespace()
                    return span
                }
            case UInt8(ascii: ","):
                if depth == 0 { return Span(start: start, end: trimmedEnd(start)) }
            default:
                break
            }
            position += 1
        }
        if depth > 0 { throw DecodeFailure("expected the end of a value, found the end of the line", endOfInput: true) }
        return Span(start: start, end: trimmedEnd(start))
    }

    /// `position`, moved back over whitespace (not before `start`).
    private func trimmedEnd(_ start: Int) -> Int {
        var e = position
        while e > start, base[e - 1] == 0x20 || base[e - 1] == 0x09 || base[e - 1] == 0x0A || base[e - 1] == 0x0D { e -= 1 }
        return e
    }

    /// Fails unless the whole span was consumed.
    @inline(__always) mutating func expectEnd() throws(DecodeFailure) {
        skipWhitespace()
        guard position >= end else {
            throw DecodeFailure("unexpected \(foundDescription()) after the value")
        }
    }

    /// Iterates an object's members: `body` gets each key's span and must consume the value.
    mutating func forEachMember(_ body: (Span, inout JSONScanner) throws(DecodeFailure) -> Void) throws(DecodeFailure) {
        try expect(UInt8(ascii: "{"), "an object")
        if consume(UInt8(ascii: "}")) { return }
        while true {
            guard position < end, base[position] == UInt8(ascii: "\"") else { throw mismatch("a member name (a string)") }
            let key = try scanString()
            try expect(UInt8(ascii: ":"), "':' after a member name")
            try body(key, &self)
            if consume(UInt8(ascii: ",")) { continue }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return
        }
    }

    /// Iterates an array's elements: `body` gets each index and must consume the element.
    mutating func forEachElement(_ body: (Int, inout JSONScanner) throws(DecodeFailure) -> Void) throws(DecodeFailure) {
        try expect(UInt8(ascii: "["), "an array")
        if consume(UInt8(ascii: "]")) { return }
        var index = 0
        while true {
            try body(index, &self)
            index += 1
            if consume(UInt8(ascii: ",")) { continue }
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return
        }
    }
}

/// What a JSON value starting with a given byte is, for "expected …, found …" messages. Shared by
/// the trace reader and the importers' reader, so both say it the same way.
public enum JSONFound {
    /// "a string", "an object", "an array", "a boolean", "null", "a number", or the character
    /// itself (printable ASCII) / its byte value.
    public static func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
        case UInt8(ascii: "n"): return "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        default: return byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        }
    }
}
