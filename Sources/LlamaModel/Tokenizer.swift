/// Llama's SentencePiece-style BPE over a ``Vocabulary``, as llama2.c's `encode`/`decode` and
/// llama.cpp's SPM tokenizer do it.
///
/// Encoding: spaces become "▁" and one "▁" is prepended (SentencePiece's dummy prefix); the
/// text is split into UTF-8 characters, each looked up as a piece or, failing that, spelled
/// with byte-fallback pieces `<0xNN>`; then the adjacent pair whose concatenation is a piece
/// with the highest score is merged (leftmost on ties) until no pair merges. O(n²) in the
/// number of characters (each merge rescans the pair scores), fine for prompts.
///
/// Decoding: "▁" becomes a space, byte pieces become their byte, control tokens print nothing,
/// and the leading space of the first piece after BOS (the dummy prefix) is dropped.
public struct Tokenizer: Sendable {
    public let vocabulary: Vocabulary
    /// Normal and user-defined pieces by their UTF-8 bytes (first id wins on duplicates).
    private let ids: [[UInt8]: Int]
    /// Byte-fallback token of each byte value, or −1 if the vocabulary lacks it.
    private let byteTokens: [Int]
    /// The bytes each token decodes to (before the dummy-prefix rule).
    private let decoded: [[UInt8]]

    public init(vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
        var ids: [[UInt8]: Int] = [:]
        var bytes = [Int](repeating: -1, count: 256)
        var decoded: [[UInt8]] = []
        decoded.reserveCapacity(vocabulary.count)
        let marker = Array(Vocabulary.spaceMarker.utf8)
        for (i, piece) in vocabulary.pieces.enumerated() {
            let kind = vocabulary.kinds[i]
            let utf8 = Array(piece.utf8)
            switch kind {
            case .byte:
                if let b = Vocabulary.byteValue(ofPiece: piece) {
                    if bytes[Int(b)] < 0 { bytes[Int(b)] = i }
                    decoded.append([b])
                } else {
                    decoded.append(utf8)
                }
            case .control, .unused:
                decoded.append([])
            case .normal, .userDefined, .unknown:
                if kind != .unknown, ids[utf8] == nil { ids[utf8] = i }
                decoded.append(Self.replace(marker, with: [UInt8(ascii: " ")], in: utf8))
            }
        }
        self.ids = ids
        byteTokens = bytes
        self.decoded = decoded
    }

    /// Token ids of `text`, preceded by BOS when `addBOS` (default: the vocabulary's setting).
    public func encode(_ text: String, addBOS: Bool? = nil) -> [Int] {
        var tokens: [Int] = (addBOS ?? vocabulary.addBOS) ? [vocabulary.bos] : []
        guard !text.isEmpty else { return tokens }
        let marker = Array(Vocabulary.spaceMarker.utf8)
        let normalized = marker + Self.replace([UInt8(ascii: " ")], with: marker, in: Array(text.utf8))

        // One symbol per UTF-8 character (or per byte of an invalid sequence).
        var symbols: [Int] = []
        var i = 0
        while i < normalized.count {
            let lead = normalized[i]
            var n = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            if i + n > normalized.count || normalized[i + 1..<i + n].contains(where: { $0 & 0xC0 != 0x80 }) { n = 1 }
            let char = Array(normalized[i..<i + n])
            if let id = ids[char] {
                symbols.append(id)
            } else {
                for b in char { symbols.append(byteTokens[Int(b)] >= 0 ? byteTokens[Int(b)] : vocabulary.unknown) }
            }
            i += n
        }

        // Merge the best-scoring adjacent pair until none merges; pairScore[k] is the pair (k, k+1).
        var pairs: [(score: Float, id: Int)?] = symbols.indices.dropLast().map { pair(symbols[$0], symbols[$0 + 1]) }
        while true {
            var best = -1
            for k in pairs.indices {
                if let p = pairs[k], best < 0 || p.score > pairs[best]!.score { best = k }
            }
            guard best >= 0 else { break }
            symbols[best] = pairs[best]!.id
            symbols.remove(at: best + 1)
            pairs.remove(at: best)
            if best > 0 { pairs[best - 1] = pair(symbols[best - 1], symbols[best]) }
            if best < pairs.count { pairs[best] = pair(symbols[best], symbols[best + 1]) }
        }
        tokens += symbols
        return tokens
    }

    /// The bytes token `token` prints when it follows `previous` (nil at the start).
    public func pieceBytes(_ token: Int, after previous: Int?) -> [UInt8] {
        guard token >= 0, token < decoded.count else { return [] }
        let bytes = decoded[token]
        if previous == nil || previous == vocabulary.bos, bytes.first == UInt8(ascii: " ") {
            return Array(bytes.dropFirst())
        }
        return bytes
    }

    /// The text of `tokens` (invalid UTF-8 from partial byte sequences is repaired).
    public func decode(_ tokens: [Int]) -> String {
        var out: [UInt8] = []
        var previous: Int?
        for t in tokens {
            out += pieceBytes(t, after: previous)
            previous = t
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func pair(_ a: Int, _ b: Int) -> (score: Float, id: Int)? {
        let merged = Array(vocabulary.pieces[a].utf8) + Array(vocabulary.pieces[b].utf8)
        guard let id = ids[merged] else { return nil }
        return (vocabulary.scores[id], id)
    }

    private static func replace(_ target: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if i + target.count <= bytes.count, bytes[i..<i + target.count].elementsEqual(target) {
                out += replacement
                i += target.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
