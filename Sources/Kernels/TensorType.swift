/// Storage types of weight matrices, numbered as GGML/GGUF number them (so the raw value is
/// the GGUF `ggml_type` of a tensor). Quantized types pack a row into blocks along the input
/// dimension; a row's byte size is `cols / blockSize * bytesPerBlock`.
public enum TensorType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    /// 32 weights per block: one f16 scale + 16 bytes of 4-bit values (offset 8).
    case q4_0 = 2
    /// 32 weights per block: one f16 scale + 32 signed bytes.
    case q8_0 = 8

    /// Weights per block (1 for unquantized types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16: return 1
        case .q4_0, .q8_0: return 32
        }
    }

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        case .q4_0: return 2 + 16
        case .q8_0: return 2 + 32
        }
    }

    /// Average bytes per weight, including scales.
    public var bytesPerWeight: Double { Double(bytesPerBlock) / Double(blockSize) }

    /// Bytes of one row of `cols` weights. `cols` must be a multiple of `blockSize`.
    public func rowBytes(cols: Int) -> Int { cols / blockSize * bytesPerBlock }

    /// Whether products with weights of this type quantize their activations to q8_0 and use
    /// integer dot products (as ggml does for q8_0 and q4_0; ``MatrixMultiplier``).
    public var multipliesQuantizedActivations: Bool { self == .q8_0 || self == .q4_0 }

    /// Lowercase name as used on the command line and in traces: "f32", "f16", "q4_0", "q8_0".
    public var description: String {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .q4_0: return "q4_0"
        case .q8_0: return "q8_0"
        }
    }

    /// Parses a command-line name ("f32", "f16", "q8_0", "q4_0").
    public init?(name: String) {
        guard let t = TensorType.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = t
    }
}

/// A read-only view of a 2-D weight matrix of `rows` × `cols` stored row-major in `type`
/// (GGUF/GGML layout: `rows` = output features, `cols` = input features, each row contiguous).
/// It does not own its memory: the owner (a memory-mapped file or an allocation held by the
/// model) outlives every view.
public struct WeightMatrix: @unchecked Sendable {
    public var type: TensorType
    /// Output features (GGUF `ne[1]`).
    public var rows: Int
    /// Input features (GGUF `ne[0]`), a multiple of `type.blockSize`.
    public var cols: Int
    /// First byte of row 0.
    public var base: UnsafeRawPointer

    public init(type: TensorType, rows: Int, cols: Int, base: UnsafeRawPointer) {
        self.type = type
        self.rows = rows
        self.cols = cols
        self.base = base
    }

    /// Bytes of one row.
    @inlinable public var rowBytes: Int { type.rowBytes(cols: cols) }
    /// Bytes of the whole matrix.
    @inlinable public var byteCount: Int { rowBytes * rows }
    /// Address of row `r`.
    @inlinable public func row(_ r: Int) -> UnsafeRawPointer { base + r * rowBytes }
}
