import CKernels
import Testing
@testable import Kernels

/// The start-up choice of kernel paths, and the wide paths' integer kernels at the int8 extremes.
/// (Every product test in `MatrixMultiplierTests` runs once per supported path.)
@Suite struct KernelPathTests {
    @Test func choosesTheWidestSupportedPathAndNamesTheSkippedOnes() {
        let supported = KernelPath.supported
        let skipped = KernelPath.preference.filter { !supported.contains($0) }
        print("kernel paths tested: \(supported.map(\.rawValue).joined(separator: ", ")); skipped (ISA or build lacks them): "
              + (skipped.isEmpty ? "none" : skipped.map(\.rawValue).joined(separator: ", "))
              + " — CPU: \(KernelPath.cpuFeatureSummary)")
        // Exactly one of the two Swift kernel sets is in a binary.
        #expect(supported.contains(.generic) != supported.contains(.avx2))
        #expect(supported.contains(.avx2) == CPUFeatures.buildRequiresAVX2)
        // The wider paths need the AVX2 build.
        if !CPUFeatures.buildRequiresAVX2 { #expect(supported == [.generic]) }
        #expect(KernelPath.widest == supported.first)
        #expect((try? KernelPath.resolve("auto")) == KernelPath.widest)
        for path in supported { #expect((try? KernelPath.resolve(path.rawValue)) == path) }
    }

    @Test func refusesUnknownAndUnsupportedPathsWithTheChoices() {
        #expect(throws: KernelPathError.unknown("avx1024", supported: KernelPath.supported)) { try KernelPath.resolve("avx1024") }
        // A build holds either the generic or the AVX2 Swift kernels, never both.
        let missing: KernelPath = CPUFeatures.buildRequiresAVX2 ? .generic : .avx2
        do {
            _ = try KernelPath.resolve(missing.rawValue)
            Issue.record("\(missing) resolved on a build without it")
        } catch {
            #expect(error == .unsupported(missing, supported: KernelPath.supported))
            #expect(error.description.contains("choose one of"))
        }
    }

    /// The C kernels against exact integer sums: weights of -128 (|−128| is read as unsigned 128
    /// by vpdpbusd) and 127 against activations of ±127, one token and groups of 1–4, q8_0 and q4_0.
    @Test(arguments: KernelPath.supported.filter { $0 == .avx512 || $0 == .avxVNNI })
    func wideIntegerKernelsAreExactAtTheInt8Extremes(path: KernelPath) {
        let chunks = 7  // 4-block zmm loop plus a 3-block tail on avx512
        var q8 = [UInt8](repeating: 0, count: 34 * chunks), q4 = [UInt8](repeating: 0, count: 18 * chunks)
        var rng = SeededRandom(seed: 77)
        for c in 0..<chunks {
            let d = Float16(Float(c + 1) * 0.25)
            q8.withUnsafeMutableBytes { $0.storeBytes(of: d.bitPattern, toByteOffset: c * 34, as: UInt16.self) }
            q4.withUnsafeMutableBytes { $0.storeBytes(of: d.bitPattern, toByteOffset: c * 18, as: UInt16.self) }
            for j in 0..<32 { q8[c * 34 + 2 + j] = UInt8(bitPattern: (j + c) % 3 == 0 ? -128 : (j % 2 == 0 ? 127 : -1)) }
            for j in 0..<16 { q4[c * 18 + 2 + j] = UInt8((j + c) % 16) | UInt8((15 - j + c) % 16) << 4 }
        }
        let group = 4
        var quants = [Int8](repeating: 0, count: group * chunks * 32)
        for i in quants.indices { quants[i] = i % 5 == 0 ? -127 : (i % 5 == 1 ? 127 : Int8(Int(rng.next() % 255) - 127)) }
        let scales = (0..<group * chunks).map { Float($0 % 7 + 1) * 0.125 }
        func expected(_ block: [UInt8], bytes: Int, q4_0: Bool, token t: Int) -> Double {
            var total = 0.0
            for c in 0..<chunks {
                var sum = 0
                for j in 0..<32 {
                    let w: Int
                    if q4_0 {
                        let byte = block[c * bytes + 2 + j % 16]
                        w = Int(j < 16 ? byte & 0x0F : byte >> 4) - 8
                    } else { w = Int(Int8(bitPattern: block[c * bytes + 2 + j])) }
                    sum += w * Int(quants[t * chunks * 32 + c * 32 + j])
                }
                let d = block.withUnsafeBytes { Double(Float16(bitPattern: $0.load(fromByteOffset: c * bytes, as: UInt16.self))) }
                total += d * Double(scales[t * chunks + c]) * Double(sum)
            }
            return total
        }
        for (block, bytes, isQ4) in [(q8, 34, false), (q4, 18, true)] {
            block.withUnsafeBytes { b in
                quants.withUnsafeBufferPointer { q in
                    scales.withUnsafeBufferPointer { s in
                        let single: Float
                        switch (path, isQ4) {
                        case (.avx512, false): single = ck_dot_q8_0_avx512vnni(b.baseAddress, chunks, q.baseAddress, s.baseAddress)
                        case (.avx512, true): single = ck_dot_q4_0_avx512vnni(b.baseAddress, chunks, q.baseAddress, s.baseAddress)
                        case (_, false): single = ck_dot_q8_0_avxvnni(b.baseAddress, chunks, q.baseAddress, s.baseAddress)
                        case (_, true): single = ck_dot_q4_0_avxvnni(b.baseAddress, chunks, q.baseAddress, s.baseAddress)
                        }
                        let want0 = expected(block, bytes: bytes, q4_0: isQ4, token: 0)
                        #expect(abs(Double(single) - want0) <= 1e-6 * abs(want0) + 1e-3, "\(path) q4=\(isQ4) single")
                        for g in 1...group {
                            var out = [Float](repeating: .nan, count: 4)
                            out.withUnsafeMutableBufferPointer { o in
                                switch (path, isQ4) {
                                case (.avx512, false): ck_dot4_q8_0_avx512vnni(b.baseAddress, chunks, g, q.baseAddress, chunks * 32, s.baseAddress, o.baseAddress)
                                case (.avx512, true): ck_dot4_q4_0_avx512vnni(b.baseAddress, chunks, g, q.baseAddress, chunks * 32, s.baseAddress, o.baseAddress)
                                case (_, false): ck_dot4_q8_0_avxvnni(b.baseAddress, chunks, g, q.baseAddress, chunks * 32, s.baseAddress, o.baseAddress)
                                case (_, true): ck_dot4_q4_0_avxvnni(b.baseAddress, chunks, g, q.baseAddress, chunks * 32, s.baseAddress, o.baseAddress)
                                }
                            }
                            for t in 0..<g {
                                let want = expected(block, bytes: bytes, q4_0: isQ4, token: t)
                                #expect(abs(Double(out[t]) - want) <= 1e-6 * abs(want) + 1e-3, "\(path) q4=\(isQ4) group \(g) token \(t)")
                            }
                            let untouched = out[g...].filter { !$0.isNaN }.isEmpty
                            #expect(untouched, "group \(g) wrote past its tokens")
                        }
                    }
                }
            }
        }
    }
}
