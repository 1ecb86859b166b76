/// Reference conversion of rows between f32 and the stored weight types, bit-exact with
/// ggml's reference implementation (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref`,
/// `dequantize_row_*`, and IEEE round-to-nearest-even f32→f16 as `_cvtss_sh` does).
///
/// Block layouts (little-endian, as in GGUF files):
/// - `q8_0`: 32 weights in 34 bytes — f16 scale `d = max|x| / 127`, then 32 `Int8`
///   `q = round(x / d)` (half away from zero); `x ≈ q·d`.
/// - `q4_0`: 32 weights in 18 bytes — f16 scale `d = m / -8` where `m` is the value of largest
///   magnitude, then 16 bytes: byte `j` holds weight `j` in its low nibble and weight `j+16` in
///   its high nibble, each `min(15, trunc(x/d + 8.5))`; `x ≈ (nibble − 8)·d`.
///
/// These are reference (scalar) routines for loading, exporting and testing; the fast dot
/// kernels live elsewhere. Each call is O(count).
public enum Quantization {
    /// Quantizes `count` floats from `source` into `destination`, which must hold
    /// `type.rowBytes(cols: count)` bytes. `count` must be a multiple of `type.blockSize`.
    public static func quantize(_ source: UnsafePointer<Float>, count: Int, to type: TensorType,
                                into destination: UnsafeMutableRawPointer) {
        precondition(count % type.blockSize == 0, "row of \(count) weights is not a whole number of \(type) blocks")
        switch type {
        case .f32:
            destination.copyMemory(from: source, byteCount: count * 4)
        case .f16:
            let out = destination.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { out[i] = Float16(source[i]).bitPattern.littleEndian }
        case .q8_0:
            for b in 0..<count / 32 { quantizeBlockQ8_0(source + b * 32, into: destination + b * 34) }
        case .q4_0:
            for b in 0..<count / 32 { quantizeBlockQ4_0(source + b * 32, into: destination + b * 18) }
        }
    }

    /// Expands `count` weights stored in `type` at `source` into `destination` floats.
    public static func dequantize(_ source: UnsafeRawPointer, count: Int, from type: TensorType,
                                  into destination: UnsafeMutablePointer<Float>) {
        precondition(count % type.blockSize == 0, "row of \(count) weights is not a whole number of \(type) blocks")
        switch type {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .f16:
            for i in 0..<count { destination[i] = halfToFloat(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .q8_0:
            for b in 0..<count / 32 {
                let block = source + b * 34
                let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
                for j in 0..<32 {
                    destination[b * 32 + j] = Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) * d
                }
            }
        case .q4_0:
            for b in 0..<count / 32 {
                let block = source + b * 18
                let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
                for j in 0..<16 {
                    let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
                    destination[b * 32 + j] = Float(Int(byte & 0x0F) - 8) * d
                    destination[b * 32 + j + 16] = Float(Int(byte >> 4) - 8) * d
                }
            }
        }
    }

    /// Array convenience for ``quantize(_:count:to:into:)``: the stored bytes of `values`.
    public static func quantize(_ values: [Float], to type: TensorType) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: type.rowBytes(cols: values.count))
        values.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBytes { dst in
                quantize(src.baseAddress!, count: values.count, to: type, into: dst.baseAddress!)
            }
        }
        return bytes
    }

    /// Array convenience for ``dequantize(_:count:from:into:)``.
    public static func dequantize(_ bytes: [UInt8], count: Int, from type: TensorType) -> [Float] {
        precondition(bytes.count >= type.rowBytes(cols: count), "\(bytes.count) bytes hold fewer than \(count) \(type) weights")
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { src in
            values.withUnsafeMutableBufferPointer { dst in
                dequantize(src.baseAddress!, count: count, from: type, into: dst.baseAddress!)
            }
        }
        return values
    }

    /// IEEE binary16 bits (little-endian order already applied) to Float; exact.
    @inlinable public static func halfToFloat(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: bits)))
    }

    /// Float to IEEE binary16 bits, round to nearest even (as ggml's `GGML_FP32_TO_FP16`).
    @inlinable public static func floatToHalf(_ value: Float) -> UInt16 {
        Float16(value).bitPattern.littleEndian
    }

    private static func quantizeBlockQ8_0(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: floatToHalf(d), as: UInt16.self)
        for j in 0..<32 {
            // roundf: half away from zero; |x·id| ≤ 127 so the conversion cannot overflow.
            block.storeBytes(of: Int8((x[j] * id).rounded(.toNearestOrAwayFromZero)), toByteOffset: 2 + j, as: Int8.self)
        }
    }

    private static func quantizeBlockQ4_0(_ x: UnsafePointer<Float>, into block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        var extreme: Float = 0
        for j in 0..<32 where amax < abs(x[j]) {
            amax = abs(x[j])
            extreme = x[j]
        }
        let d = extreme / -8
        let id: Float = d != 0 ? 1 / d : 0
        block.storeBytes(of: floatToHalf(d), as: UInt16.self)
        for j in 0..<16 {
            // ggml: MIN(15, (int8_t)(x·id + 8.5f)) — a truncating conversion of a value in [0.5, 16.5].
            let lo = min(15, Int8(x[j] * id + 8.5))
            let hi = min(15, Int8(x[j + 16] * id + 8.5))
            block.storeBytes(of: UInt8(lo) | (UInt8(hi) << 4), toByteOffset: 2 + j, as: UInt8.self)
        }
    }
}
