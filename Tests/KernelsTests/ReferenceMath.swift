import Kernels
import TraceFormat

/// Naive references the kernels are checked against, written for clarity, not speed.

/// Test inputs come from the project's seeded SplitMix64, so every one is reproducible.
typealias SeededRandom = SplitMix64

extension SplitMix64 {
    mutating func floats(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in Float.random(in: -scale...scale, using: &self) }
    }
}

/// Element-by-element reference dequantization (ggml block layouts), independent of the
/// vectorized decoders under test. Quantization itself is the model helper's bit-exact
/// `Quantization` (checked against ggml in LlamaModelTests).
enum ReferenceQuant {
    static func quantize(_ row: [Float], as type: TensorType) -> [UInt8] { Quantization.quantize(row, to: type) }

    /// The activations a q8_0 product multiplies: each 32-value block of `row` rounded through
    /// q8_0 — scale `d = max|x| / 127` stored as f16, `q = round(x / d)` with ties to even (as
    /// ggml's AVX2 activation quantizer; its scalar weight quantizer rounds ties away from zero).
    static func roundThroughQ8_0Activations(_ row: [Float]) -> [Float] {
        var out: [Float] = []
        for b in stride(from: 0, to: row.count, by: 32) {
            let block = row[b ..< b + 32]
            let d = block.map { abs($0) }.max()! / 127
            let id: Float = d != 0 ? 1 / d : 0
            let stored = Float(Float16(d))
            out += block.map { ($0 * id).rounded(.toNearestOrEven) * stored }
        }
        return out
    }

    /// Dequantizes a row of `count` weights, element by element.
    static func dequantize(_ bytes: UnsafeRawPointer, type: TensorType, count: Int) -> [Float] {
        (0..<count).map { j in
            switch type {
            case .f32: return bytes.loadUnaligned(fromByteOffset: j * 4, as: Float.self)
            case .f16: return Float(bytes.loadUnaligned(fromByteOffset: j * 2, as: Float16.self))
            case .q8_0:
                let block = bytes + (j / 32) * 34
                return Float(block.loadUnaligned(as: Float16.self)) * Float(block.loadUnaligned(fromByteOffset: 2 + j % 32, as: Int8.self))
            case .q4_0:
                let block = bytes + (j / 32) * 18
                let byte = block.loadUnaligned(fromByteOffset: 2 + j % 16, as: UInt8.self)
                let q = j % 32 < 16 ? Int(byte & 0xF) - 8 : Int(byte >> 4) - 8
                return Float(block.loadUnaligned(as: Float16.self)) * Float(q)
            }
        }
    }
}

/// A weight matrix that owns its bytes.
final class OwnedMatrix {
    let bytes: UnsafeMutableRawPointer
    let matrix: WeightMatrix
    init(_ values: [Float], rows: Int, cols: Int, type: TensorType) {
        var all: [UInt8] = []
        for r in 0..<rows { all += ReferenceQuant.quantize(Array(values[(r * cols)..<((r + 1) * cols)]), as: type) }
        bytes = .allocate(byteCount: max(all.count, 1), alignment: 64)
        bytes.copyMemory(from: all, byteCount: all.count)
        matrix = WeightMatrix(type: type, rows: rows, cols: cols, base: bytes)
    }
    deinit { bytes.deallocate() }
    /// Row r dequantized by the reference.
    func referenceRow(_ r: Int) -> [Float] { ReferenceQuant.dequantize(matrix.row(r), type: matrix.type, count: matrix.cols) }
}

/// max |a − b| / max(1, max |b|): the error measure every kernel test states its tolerance in.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    let scale = max(1, b.map { abs($0) }.max() ?? 0)
    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}
