import Kernels

/// The element type of the cached keys and values.
///
/// Layout of one cached row (the K or the V of one token in one layer, `kvDim` elements):
/// - `f32`: `kvDim` floats.
/// - `f16`: `kvDim` IEEE halves.
/// - `int8`: `kvDim / 16` groups of 16 elements, each group `[Float16 scale d][16 × Int8 q]`
///   (18 bytes), value = d·q, d = max|x| / 127, q = round(x / d). 1.125 bytes per element.
/// - `int4`: `kvDim / 16` groups, each `[Float16 scale d][8 bytes]` (10 bytes); byte j holds
///   element j in its low nibble and element j + 8 in its high nibble, stored as q + 8 with
///   q = round(x / d) ∈ [-7, 7], d = max|x| / 7. 0.625 bytes per element.
///
/// Groups never straddle heads because the head dimension must be a multiple of
/// ``groupSize`` for the quantized types (48, 64 and 128 all are).
public enum KVDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32, f16, int8, int4

    /// Elements sharing one scale in `int8` and `int4`.
    public static let groupSize = 16

    /// Elements per scale group (1 for the float types).
    public var elementsPerGroup: Int {
        switch self {
        case .f32, .f16: return 1
        case .int8, .int4: return KVDType.groupSize
        }
    }

    /// Bytes per group, scale included.
    public var bytesPerGroup: Int {
        switch self {
        case .f32: return 4
        case .f16: return 2
        case .int8: return 2 + KVDType.groupSize
        case .int4: return 2 + KVDType.groupSize / 2
        }
    }

    /// Average bytes per element including scales (f32 4, f16 2, int8 1.125, int4 0.625).
    public var bytesPerElement: Double { Double(bytesPerGroup) / Double(elementsPerGroup) }

    /// Bytes of a row of `elements` values; `elements` must be a multiple of `elementsPerGroup`.
    public func rowBytes(elements: Int) -> Int { elements / elementsPerGroup * bytesPerGroup }

    /// Lowercase name, as in traces and on the command line.
    public var description: String { rawValue }

    /// Parses "f32", "f16", "int8", "int4" (also "q8" / "q4").
    public init?(name: String) {
        switch name.lowercased() {
        case "f32": self = .f32
        case "f16": self = .f16
        case "int8", "q8": self = .int8
        case "int4", "q4": self = .int4
        default: return nil
        }
    }
}

extension KVDType {
    /// Encodes `count` floats (a multiple of `elementsPerGroup`) into `destination` in this
    /// type's row layout. - Complexity: O(count).
    @inlinable
    public func encode(_ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutableRawPointer) {
        switch self {
        case .f32:
            destination.copyMemory(from: source, byteCount: count * 4)
        case .f16:
            VectorOps.convertF32ToF16(source, destination, count: count)
        case .int8, .int4:
            let src = UnsafeRawPointer(source)
            let levels: Float = self == .int8 ? 127 : 7
            for g in 0..<(count / 16) {
                let lo = src.loadUnaligned(fromByteOffset: g * 64, as: SIMD8<Float>.self)
                let hi = src.loadUnaligned(fromByteOffset: g * 64 + 32, as: SIMD8<Float>.self)
                let amax = VectorOps.horizontalMax(VectorOps.maximum(VectorOps.maximum(lo, -lo), VectorOps.maximum(hi, -hi)))
                let d = amax / levels
                let inv: Float = d > 0 ? 1 / d : 0
                let group = destination + g * bytesPerGroup
                group.storeBytes(of: Float16(d), as: Float16.self)
                let qlo = KVDType.roundToInt32(lo * inv), qhi = KVDType.roundToInt32(hi * inv)
                if self == .int8 {
                    group.storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: qlo), toByteOffset: 2, as: SIMD8<Int8>.self)
                    group.storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: qhi), toByteOffset: 10, as: SIMD8<Int8>.self)
                } else {
                    let packed = SIMD8<UInt8>(truncatingIfNeeded: (qlo &+ 8) | ((qhi &+ 8) &<< 4))
                    group.storeBytes(of: packed, toByteOffset: 2, as: SIMD8<UInt8>.self)
                }
            }
        }
    }

    /// Rounds each lane (|x| < 2²²) to the nearest integer, ties to even, without a
    /// float→int conversion (which Swift does not vectorize): adding 1.5·2²³ leaves the
    /// integer in the low mantissa bits.
    @inlinable @inline(__always)
    static func roundToInt32(_ x: SIMD8<Float>) -> SIMD8<Int32> {
        let magic = SIMD8<Float>(repeating: 12_582_912)
        return unsafeBitCast(x + magic, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    }

    /// Decodes `count` elements starting at element `offset` of a row (both multiples of
    /// `elementsPerGroup`) into floats. - Complexity: O(count).
    @inlinable
    public func decode(_ row: UnsafeRawPointer, offset: Int, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32:
            destination.update(from: row.assumingMemoryBound(to: Float.self) + offset, count: count)
        case .f16:
            VectorOps.convertF16ToF32(row + offset * 2, destination, count: count)
        case .int8, .int4:
            let out = UnsafeMutableRawPointer(destination)
            let first = offset / 16
            for g in 0..<(count / 16) {
                let group = row + (first + g) * bytesPerGroup
                let d = SIMD8<Float>(repeating: Float(group.loadUnaligned(as: Float16.self)))
                let lo: SIMD8<Float>, hi: SIMD8<Float>
                if self == .int8 {
                    lo = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: group.loadUnaligned(fromByteOffset: 2, as: SIMD8<Int8>.self)))
                    hi = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: group.loadUnaligned(fromByteOffset: 10, as: SIMD8<Int8>.self)))
                } else {
                    let packed = SIMD8<Int32>(truncatingIfNeeded: group.loadUnaligned(fromByteOffset: 2, as: SIMD8<UInt8>.self))
                    lo = SIMD8<Float>((packed & 0xF) &- 8)
                    hi = SIMD8<Float>((packed &>> 4) &- 8)
                }
                out.storeBytes(of: lo * d, toByteOffset: g * 64, as: SIMD8<Float>.self)
                out.storeBytes(of: hi * d, toByteOffset: g * 64 + 32, as: SIMD8<Float>.self)
            }
        }
    }
}
