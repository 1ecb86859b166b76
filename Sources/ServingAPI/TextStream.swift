import LlamaModel

/// Incremental detokenization: turns a request's tokens, as they are sampled, into text that is
/// always valid UTF-8. Bytes of a character split across tokens (byte-fallback pieces) are held
/// until the character is complete; a sequence that can never complete is replaced by U+FFFD.
/// Without a tokenizer every token is empty text. O(bytes) overall.
struct TextStream {
    let tokenizer: Tokenizer?
    var previous: Int?
    var pending: [UInt8] = []

    init(tokenizer: Tokenizer?, after prompt: [Int32]) {
        self.tokenizer = tokenizer
        previous = prompt.last.map(Int.init)
    }

    /// The text `tokens` add.
    mutating func append(_ tokens: [Int32]) -> String {
        guard let tokenizer else { return "" }
        for t in tokens {
            pending += tokenizer.pieceBytes(Int(t), after: previous)
            previous = Int(t)
        }
        let keep = Self.incompleteSuffix(pending)
        let ready = pending[..<(pending.count - keep)]
        let text = String(decoding: ready, as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// Whatever is still held (an unfinished character, as U+FFFD).
    mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Bytes at the end of `b` that start a UTF-8 character not yet complete (0…3).
    static func incompleteSuffix(_ b: [UInt8]) -> Int {
        var i = b.count - 1
        var continuation = 0
        while i >= 0 && b.count - i <= 4 {
            let x = b[i]
            if x & 0xC0 == 0x80 { continuation += 1; i -= 1; continue }
            let need = x >= 0xF0 && x < 0xF8 ? 3 : x >= 0xE0 ? 2 : x >= 0xC0 ? 1 : 0
            return need > continuation ? continuation + 1 : 0
        }
        return 0
    }
}
