import Analysis

/// A JSON document tree with a deterministic serializer: object keys sorted, two-space indent,
/// numbers through ``NumberFormat/json(_:)`` (≤ 6 significant digits, no locale), non-finite
/// numbers as null.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Pretty-printed text ending in a newline. O(size).
    public func serialized() -> String {
        var out = ""
        write(to: &out, indent: 0)
        out += "\n"
        return out
    }

    private func write(to out: inout String, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += NumberFormat.json(x)
        case .int(let i): out += String(i)
        case .string(let s): JSONValue.escape(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                item.write(to: &out, indent: indent + 2)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .object(let fields):
            if fields.isEmpty { out += "{}"; return }
            out += "{\n"
            let keys = fields.keys.sorted()
            for (i, key) in keys.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                JSONValue.escape(key, into: &out)
                out += ": "
                fields[key]!.write(to: &out, indent: indent + 2)
                out += i + 1 < keys.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}

extension JSONValue {
    public static func num(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
    public static func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    public static func strings(_ a: [String]) -> JSONValue { .array(a.map { .string($0) }) }
    public static func dict(_ d: [String: String]?) -> JSONValue {
        guard let d else { return .null }
        return .object(d.mapValues { .string($0) })
    }
}
