/// Decoding of the escapes in a JSON string's body (the bytes between its quotes). One
/// implementation for the trace reader, which is strict, and the importers, which read what
/// other tools wrote and are lenient.
public enum JSONEscapes {
    public enum Mode: Sendable {
        /// RFC 8259: an unknown escape, a trailing backslash or an unpaired UTF-16 surrogate is an error.
        case strict
        /// An unknown escape yields its character, a trailing backslash itself, a high surrogate
        /// not followed by a low one is dropped and a lone low surrogate becomes U+FFFD.
        case lenient
    }

    /// Why a body could not be decoded, in words for a diagnostic.
    public struct Failure: Error, Sendable, Equatable {
        public var message: String
    }

    /// The string `raw` (a string body, escapes included) stands for. O(raw.count).
    public static func decode(_ raw: UnsafeBufferPointer<UInt8>, mode: Mode) throws(Failure) -> String {
        let strict = mode == .strict
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        func append(_ scalar: UInt32) {
            bytes.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
        }
        var i = 0
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\") else {
                bytes.append(c)
                i += 1
                continue
            }
            guard i + 1 < raw.count else {
                if strict { throw Failure(message: "incomplete escape at the end of a string") }
                bytes.append(c)
                break
            }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                guard let scalar = hex4(raw, at: i) else {
                    throw Failure(message: strict ? "expected four hex digits after \\u" : "invalid \\u escape in a string")
                }
                i += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    if i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                       let low = hex4(raw, at: i + 2), (0xDC00..<0xE000).contains(low) {
                        i += 6
                        append(0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00))
                    } else if strict {
                        throw Failure(message: "unpaired UTF-16 surrogate in a \\u escape")
                    }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    if strict { throw Failure(message: "unpaired UTF-16 surrogate in a \\u escape") }
                    append(0xFFFD)
                } else {
                    append(scalar)
                }
            default:
                if strict { throw Failure(message: "invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string") }
                bytes.append(e)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value of the four hex digits at `i`, or nil.
    private static func hex4(_ raw: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt32? {
        guard i + 4 <= raw.count else { return nil }
        var value: UInt32 = 0
        for k in i..<(i + 4) {
            let c = raw[k]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}
