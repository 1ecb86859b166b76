import Kernels
import Testing

@Suite struct QuantizationTests {
    /// Rows quantized by the `gguf` Python package (Reference/make_quantization_goldens.py).
    @Test func matchesGGMLReferenceBitForBit() throws {
        let lines = try ReferenceFiles.text("quantization_goldens.txt").split(separator: "\n")
        #expect(lines.count == 18)
        for line in lines {
            let parts = line.split(separator: " ")
            let type = try #require(TensorType(name: String(parts[0])))
            let input = [UInt8](hex: parts[1]).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            let expected = [UInt8](hex: parts[2])
            let got = Quantization.quantize(input, to: type)
            #expect(got == expected, "\(type) row of \(input.count) starting \(input.prefix(4))")
        }
    }

    @Test(arguments: [TensorType.f16, .q8_0, .q4_0])
    func dequantizeInvertsWithinTheTypesResolution(type: TensorType) {
        var rng = SplitMixForTests(seed: 7)
        let values = (0..<256).map { _ in Float(rng.unit() * 2 - 1) }
        let back = Quantization.dequantize(Quantization.quantize(values, to: type), count: values.count, from: type)
        for b in 0..<values.count / 32 {
            let block = values[b * 32..<(b + 1) * 32]
            let amax = block.map(abs).max()!
            // Step between levels: 2^-11 relative (f16), amax/127 (q8_0), amax/8 (q4_0); error ≤ half a step
            // (+ f16 scale rounding), except q4_0 whose levels −8…7 clip the side opposite the extreme at 7/8·amax.
            let bound: Float = switch type {
            case .f16: amax / 2048
            case .q8_0: amax / 127 * 0.51
            default: amax / 8 * 1.01
            }
            for j in b * 32..<(b + 1) * 32 {
                #expect(abs(back[j] - values[j]) <= bound, "\(type) weight \(j): \(values[j]) → \(back[j])")
            }
        }
    }

    @Test func dequantizeDecodesTheLayout() {
        // q8_0 block: scale 0.5 (f16 0x3800) then q = 0, 1, -1, 127, ... .
        var q8 = [UInt8](repeating: 0, count: 34)
        q8[0] = 0x00; q8[1] = 0x38
        q8[3] = 1; q8[4] = 0xFF; q8[5] = 127
        let x8 = Quantization.dequantize(q8, count: 32, from: .q8_0)
        #expect(Array(x8.prefix(4)) == [0, 0.5, -0.5, 63.5])
        // q4_0 block: scale 2 (f16 0x4000); byte 0 = 0xF0 → weight 0 nibble 0 (−8·2), weight 16 nibble 15 (7·2).
        var q4 = [UInt8](repeating: 0x88, count: 18)
        q4[0] = 0x00; q4[1] = 0x40
        q4[2] = 0xF0
        let x4 = Quantization.dequantize(q4, count: 32, from: .q4_0)
        #expect(x4[0] == -16 && x4[16] == 14 && x4[1] == 0 && x4[17] == 0)
    }
}

/// A tiny independent generator so these tests do not depend on the code under test.
struct SplitMixForTests {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
