/// A SentencePiece-style vocabulary (llama's): one piece per token id with its merge score and
/// kind. Pieces are kept in SentencePiece form, where "▁" (U+2581) stands for a space, whatever
/// the source (llama2.c's tokenizer.bin stores real spaces and is converted on load).
public struct Vocabulary: Sendable, Equatable {
    /// Token kinds, numbered as GGUF's `tokenizer.ggml.token_type` numbers them.
    public enum TokenKind: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// The space marker of SentencePiece pieces.
    public static let spaceMarker = "\u{2581}"

    public var pieces: [String]
    /// Merge priority: when two adjacent pieces can merge, the pair whose merged piece has the
    /// highest score merges first.
    public var scores: [Float]
    public var kinds: [TokenKind]
    public var bos: Int
    public var eos: Int
    public var unknown: Int
    /// Whether encoding a prompt starts with BOS.
    public var addBOS: Bool

    public init(pieces: [String], scores: [Float], kinds: [TokenKind], bos: Int = 1, eos: Int = 2, unknown: Int = 0,
                addBOS: Bool = true) {
        precondition(pieces.count == scores.count && pieces.count == kinds.count, "vocabulary arrays differ in length")
        self.pieces = pieces
        self.scores = scores
        self.kinds = kinds
        self.bos = bos
        self.eos = eos
        self.unknown = unknown
        self.addBOS = addBOS
    }

    public var count: Int { pieces.count }

    /// The byte a byte-fallback piece "<0xNN>" stands for, or nil.
    static func byteValue(ofPiece piece: String) -> UInt8? {
        let u = Array(piece.utf8)
        guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"),
              u[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }

    /// The kind a piece has when the source gives none (llama2.c's tokenizer.bin): ids 0, 1, 2
    /// are `<unk>`, `<s>`, `</s>`; "<0xNN>" pieces are bytes; everything else is normal.
    static func inferredKind(id: Int, piece: String) -> TokenKind {
        switch id {
        case 0: return .unknown
        case 1, 2: return .control
        default: return byteValue(ofPiece: piece) != nil ? .byte : .normal
        }
    }
}
