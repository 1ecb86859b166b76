/// Appends JSON tokens to a byte buffer. Hand-written (no Foundation, no Codable) because the
/// trace writer formats millions of events; every function is O(length of its output).
///
/// Numbers are written deterministically: integers in decimal, `Double` with Swift's
/// shortest-round-trip `description` (so a value read back is bit-identical), timestamps as
/// microseconds with exactly three fraction digits.
struct JSONOutput {
    /// Growable bytes with copy-on-write; written through raw pointers after one capacity
    /// check per token (`Array.append` per byte costs several times more).
    final class Storage {
        var base: UnsafeMutablePointer<UInt8>
        var count = 0
        var capacity: Int

        init(capacity: Int) {
            self.capacity = Swift.max(capacity, 64)
            base = .allocate(capacity: self.capacity)
        }

        deinit { base.deallocate() }

        func copy() -> Storage {
            let other = Storage(capacity: capacity)
            other.base.update(from: base, count: count)
            other.count = count
            return other
        }
    }

    private var storage: Storage

    init(capacity: Int = 4096) {
        storage = Storage(capacity: capacity)
    }

    /// The bytes written so far (a copy).
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage.base, count: storage.count)) }

    var count: Int { storage.count }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.base, count: storage.count))
    }

    mutating func removeAll() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(capacity: storage.capacity) }
        storage.count = 0
    }

    /// Room for `n` more bytes; returns where they go. Call ``commit(_:)`` with the bytes used.
    @inline(__always) private mutating func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        if storage.count + n > storage.capacity { grow(to: storage.count + n) }
        return storage.base + storage.count
    }

    @inline(__always) private mutating func commit(_ n: Int) { storage.count += n }

    @inline(never) private mutating func grow(to needed: Int) {
        var capacity = storage.capacity * 2
        while capacity < needed { capacity *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        bigger.update(from: storage.base, count: storage.count)
        storage.base.deallocate()
        storage.base = bigger
        storage.capacity = capacity
    }

    @inline(__always) mutating func raw(_ byte: UInt8) {
        reserve(1).pointee = byte
        commit(1)
    }

    @inline(__always) mutating func raw(_ text: StaticString) {
        let n = text.utf8CodeUnitCount
        reserve(n).update(from: text.utf8Start, count: n)
        commit(n)
    }

    @inline(__always) mutating func raw(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count).update(from: source, count: bytes.count)
        commit(bytes.count)
    }

    /// `"key":` — keys are static, ASCII and need no escaping.
    @inline(__always) mutating func key(_ name: StaticString) {
        let n = name.utf8CodeUnitCount
        let p = reserve(n + 3)
        p[0] = UInt8(ascii: "\"")
        (p + 1).update(from: name.utf8Start, count: n)
        p[n + 1] = UInt8(ascii: "\"")
        p[n + 2] = UInt8(ascii: ":")
        commit(n + 3)
    }

    /// `,"key":`
    @inline(__always) mutating func nextKey(_ name: StaticString) {
        raw(UInt8(ascii: ","))
        key(name)
    }

    mutating func int<T: BinaryInteger>(_ value: T) {
        if value < 0 {
            raw(UInt8(ascii: "-"))
            unsigned(UInt64(value.magnitude))
        } else {
            unsigned(UInt64(value))
        }
    }

    mutating func unsigned(_ value: UInt64) {
        var digits = 1
        var v = value
        while v >= 10 {
            v /= 10
            digits += 1
        }
        let p = reserve(digits)
        v = value
        var i = digits
        repeat {
            i -= 1
            p[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
            v /= 10
        } while i > 0
        commit(digits)
    }

    /// A finite `Double` in its shortest round-trip form; a non-finite one as `null` (JSON has
    /// no NaN or infinity), which readers take as "unknown".
    mutating func double(_ value: Double) {
        guard value.isFinite else {
            raw("null")
            return
        }
        var text = value.description
        text.withUTF8 { raw($0) }
    }

    /// Nanoseconds as microseconds with a three-digit fraction: 1234567 → `1234.567`.
    mutating func microseconds(_ nanoseconds: Int64) {
        if nanoseconds < 0 { raw(UInt8(ascii: "-")) }
        let magnitude = nanoseconds.magnitude
        unsigned(magnitude / 1000)
        let fraction = magnitude % 1000
        let p = reserve(4)
        p[0] = UInt8(ascii: ".")
        p[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction / 100)
        p[2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction / 10 % 10)
        p[3] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction % 10)
        commit(4)
    }

    mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    /// A JSON string: `"`, `\` and control characters escaped, everything else as UTF-8.
    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            // Worst case: every byte becomes \u00XX.
            let p = reserve(utf8.count * 6 + 2)
            var n = 0
            p[n] = UInt8(ascii: "\""); n += 1
            for c in utf8 {
                if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                    p[n] = c; n += 1
                    continue
                }
                p[n] = UInt8(ascii: "\\"); n += 1
                switch c {
                case UInt8(ascii: "\""): p[n] = UInt8(ascii: "\""); n += 1
                case UInt8(ascii: "\\"): p[n] = UInt8(ascii: "\\"); n += 1
                case 0x0A: p[n] = UInt8(ascii: "n"); n += 1
                case 0x0D: p[n] = UInt8(ascii: "r"); n += 1
                case 0x09: p[n] = UInt8(ascii: "t"); n += 1
                default:
                    let hex: StaticString = "0123456789abcdef"
                    p[n] = UInt8(ascii: "u"); p[n + 1] = UInt8(ascii: "0"); p[n + 2] = UInt8(ascii: "0")
                    p[n + 3] = hex.utf8Start[Int(c >> 4)]
                    p[n + 4] = hex.utf8Start[Int(c & 0xF)]
                    n += 5
                }
            }
            p[n] = UInt8(ascii: "\""); n += 1
            commit(n)
        }
    }

    /// A JSON object of string values with keys in sorted order (deterministic output).
    mutating func sortedStringMap(_ map: [String: String]) {
        raw(UInt8(ascii: "{"))
        var first = true
        for key in map.keys.sorted() {
            if !first { raw(UInt8(ascii: ",")) }
            first = false
            string(key)
            raw(UInt8(ascii: ":"))
            string(map[key]!)
        }
        raw(UInt8(ascii: "}"))
    }
}
