extension Vocabulary {
    /// A deterministic llama-style vocabulary of exactly `size` tokens (size ≥ 512) for the
    /// synthetic presets: `<unk>`, `<s>`, `</s>`, the 256 byte-fallback pieces `<0x00>`…`<0xFF>`
    /// (ids 3…258, as in llama's SentencePiece model), "▁", the printable ASCII characters,
    /// "▁" + letter, every prefix of "▁" + a list of common words, then lowercase letter
    /// bigrams and trigrams with and without "▁". Each piece is an earlier piece plus one
    /// character, so the BPE merge loop can reach all of them. Scores decrease with id (earlier,
    /// shorter pieces merge first). O(size).
    public static func synthetic(size: Int) -> Vocabulary {
        precondition(size >= 512, "a synthetic vocabulary needs at least 512 tokens, got \(size)")
        var pieces = ["<unk>", "<s>", "</s>"]
        var kinds: [TokenKind] = [.unknown, .control, .control]
        for b in 0..<256 {
            pieces.append("<0x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true) + ">")
            kinds.append(.byte)
        }
        var seen = Set(pieces)
        var scores = [Float](repeating: 0, count: pieces.count)
        func add(_ p: String) {
            guard pieces.count < size, seen.insert(p).inserted else { return }
            scores.append(-Float(pieces.count - 259))
            pieces.append(p)
            kinds.append(.normal)
        }
        let space = spaceMarker
        add(space)
        for a in 33...126 { add(String(UnicodeScalar(UInt8(a)))) }
        let lower = "abcdefghijklmnopqrstuvwxyz".map(String.init)
        for l in lower { add(space + l) }
        for l in lower { add(space + l.uppercased()) }
        for word in commonWords {
            var prefix = space
            for ch in word {
                prefix.append(ch)
                add(prefix)
            }
        }
        for a in lower { for b in lower { add(a + b); add(space + a + b) } }
        for a in lower { for b in lower { for c in lower { add(space + a + b + c); add(a + b + c) } } }
        precondition(pieces.count == size, "synthetic vocabulary generator ran out of pieces at \(pieces.count)")
        return Vocabulary(pieces: pieces, scores: scores, kinds: kinds)
    }

    private static let commonWords = """
        the and was to a he she it of in said her his they you with day big little time once upon there girl \
        boy named lily tim play happy friend mom dad dog cat tree ball sun go saw very had wanted not but on is \
        so for that were be at all loved help fun what look park one home can toy sad smiled together bird found \
        new good like made them did asked are felt red blue car box cake went came from up out then this have \
        we do an my too fish run jump water sky small house garden flower
        """.split(separator: " ").map(String.init)
}
