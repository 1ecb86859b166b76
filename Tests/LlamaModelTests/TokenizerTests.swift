import LlamaModel
import Testing

@Suite struct TokenizerTests {
    static let synthetic = Tokenizer(vocabulary: .synthetic(size: 32000))

    /// a, b, c, "ab", "bc" with chosen scores (ids 0–2 special, 3… pieces).
    func handmade(abScore: Float, bcScore: Float) -> Tokenizer {
        let pieces = ["<unk>", "<s>", "</s>", "▁", "a", "b", "c", "ab", "bc", "▁a"]
        let scores: [Float] = [0, 0, 0, -1, -1, -1, -1, abScore, bcScore, -5]
        return Tokenizer(vocabulary: Vocabulary(pieces: pieces, scores: scores,
                                                kinds: [.unknown, .control, .control] + Array(repeating: .normal, count: 7)))
    }

    @Test func highestScoringPairMergesFirst() {
        // "abc" → ▁ a b c. bc best: ▁ a bc, then ▁a (−5) merges: [▁a, bc].
        #expect(handmade(abScore: -3, bcScore: -2).encode("abc") == [1, 9, 8])
        // ab best: ▁ ab c, and neither "▁ab" nor "abc" is a piece: [▁, ab, c].
        #expect(handmade(abScore: -2, bcScore: -3).encode("abc", addBOS: false) == [3, 7, 6])
    }

    @Test func tiesMergeLeftmostFirst() {
        #expect(handmade(abScore: -2, bcScore: -2).encode("abc", addBOS: false) == [3, 7, 6])
        // "abab" → ▁ a b a b: both "ab" pairs merge; "ba" is no piece.
        #expect(handmade(abScore: -2, bcScore: -3).encode("abab", addBOS: false) == [3, 7, 7])
    }

    @Test func wordsBecomeSinglePieces() {
        let v = Self.synthetic.vocabulary
        let the = v.pieces.firstIndex(of: "▁the")!, little = v.pieces.firstIndex(of: "▁little")!
        #expect(Self.synthetic.encode("the little") == [1, the, little])
    }

    @Test func unknownCharactersFallBackToBytes() {
        // "日" is E6 97 A5; byte pieces <0xNN> are ids 3 + NN.
        let tokens = Self.synthetic.encode("日", addBOS: false)
        #expect(Array(tokens.suffix(3)) == [3 + 0xE6, 3 + 0x97, 3 + 0xA5])
        #expect(Self.synthetic.vocabulary.pieces[tokens[0]] == "▁")
    }

    @Test(arguments: ["Once upon a time, there was a little girl named Lily.", "  two leading spaces", "tabs\tand\nnewlines\n",
                      "héllo wörld ✓ 日本語 🙂", "", "x"])
    func decodeInvertsEncode(text: String) {
        #expect(Self.synthetic.decode(Self.synthetic.encode(text)) == text)
        #expect(Self.synthetic.decode(Self.synthetic.encode(text, addBOS: false)) == text)
    }

    @Test func decodeRulesForSpecialTokensAndLeadingSpace() {
        let v = Self.synthetic.vocabulary
        let the = v.pieces.firstIndex(of: "▁the")!
        #expect(Self.synthetic.pieceBytes(the, after: 1) == Array("the".utf8))
        #expect(Self.synthetic.pieceBytes(the, after: the) == Array(" the".utf8))
        #expect(Self.synthetic.pieceBytes(1, after: nil).isEmpty && Self.synthetic.pieceBytes(2, after: the).isEmpty)
        #expect(Self.synthetic.pieceBytes(3 + 0x0A, after: the) == [0x0A])
        #expect(Self.synthetic.decode([1, the, the, 2]) == "the the")
    }

    @Test func syntheticVocabularyIsLlamaShaped() {
        let v = Vocabulary.synthetic(size: 32000)
        #expect(v.count == 32000 && Set(v.pieces).count == 32000)
        #expect(v.pieces[0] == "<unk>" && v.pieces[1] == "<s>" && v.pieces[2] == "</s>" && v.pieces[3] == "<0x00>" && v.pieces[258] == "<0xFF>")
        #expect(v.kinds[3...258].allSatisfy { $0 == .byte } && v.kinds[259...].allSatisfy { $0 == .normal })
        // Every normal piece longer than one character is an earlier piece plus one character (reachable by merges).
        var seen = Set<String>()
        for i in 259..<v.count {
            let p = v.pieces[i]
            if p.count > 1 { #expect(seen.contains(String(p.dropLast())), "\(p) unreachable") }
            seen.insert(p)
        }
        #expect(Vocabulary.synthetic(size: 512) == Vocabulary.synthetic(size: 512))
    }
}

/// Token ids llama.cpp (b-series, via llama-cpp-python 0.3.36) gives for these strings with the
/// exported `tiny` GGUF (`inferscope model export --preset tiny`), whose vocabulary is
/// `Vocabulary.synthetic(size: 512)`: our tokenizer must agree.
@Suite struct TokenizerMatchesLlamaCppTests {
    static let cases: [(String, [Int])] = [
        ("Once upon a time", [1, 394, 337, 326, 328, 448, 354, 442]),
        ("the little dog", [1, 407, 439, 478]),
        ("héllo wörld ✓ 日本語", [1, 361, 198, 172, 335, 335, 338, 376, 198, 185, 341, 335, 327, 259, 229, 159, 150, 259, 233, 154, 168,
                                233, 159, 175, 235, 173, 161]),
        ("  two  spaces\nnew line", [1, 259, 259, 373, 346, 338, 259, 372, 339, 324, 326, 328, 342, 13, 337, 328, 346, 435, 337, 328]),
        ("x", [1, 377]),
    ]

    @Test func sameTokensAsLlamaCpp() {
        let tokenizer = Tokenizer(vocabulary: .synthetic(size: 512))
        for (text, expected) in Self.cases {
            #expect(tokenizer.encode(text) == expected, "\(text)")
            #expect(tokenizer.decode(expected) == text)
        }
    }
}
