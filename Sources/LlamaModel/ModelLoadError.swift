/// Why a model file (GGUF, llama2.c checkpoint, tokenizer.bin) was refused.
///
/// The message names the file, where in it the problem was found (byte offset and the field
/// being read), what was found and what was expected, so the user can tell a truncated
/// download from an unsupported variant. Loaders throw it instead of trapping on any input.
public struct ModelLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be opened, read or mapped.
        case io
        /// The file ends before a field it declares.
        case truncated
        /// The file does not start with the format's magic number.
        case badMagic
        /// A format version this reader does not understand.
        case unsupportedVersion
        /// A value out of its valid range (an absurd count, a bad shape, inconsistent sizes).
        case invalidValue
        /// A tensor's data lies outside the file's data section.
        case outOfBounds
        /// A tensor or metadata key has a type this reader does not support or does not expect.
        case wrongType
        /// A required tensor or metadata key is absent.
        case missing
    }

    public var kind: Kind
    /// The file path as given by the user.
    public var file: String
    /// Byte offset in the file where the problem was found, if it has one.
    public var offset: Int?
    /// The field or object being read, e.g. `header.version`, `metadata "llama.block_count"`,
    /// `tensor "blk.0.attn_q.weight"`.
    public var field: String
    /// What was found and what was expected instead.
    public var detail: String

    public init(_ kind: Kind, file: String, offset: Int? = nil, field: String, detail: String) {
        self.kind = kind
        self.file = file
        self.offset = offset
        self.field = field
        self.detail = detail
    }

    public var description: String {
        let place = offset.map { " at byte \($0)" } ?? ""
        return "\(file)\(place): \(field): \(detail)"
    }
}
