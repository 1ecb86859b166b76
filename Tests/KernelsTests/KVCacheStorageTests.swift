import Testing
import KVCache
import Kernels

/// The paged KV storage: round trips per dtype, the attention readers against a naive loop
/// over a scattered block table, block copies and raw block I/O.
/// Tolerances: f32 exact round trip; f16 relative 1e-3; int8 ≤ max|x|/254 per group (half a
/// step) plus the f16 rounding of the scale times the largest code; int4 likewise with 14 and 7.
@Suite struct KVCacheStorageTests {
    static let kvHeads = 2, headDim = 32, blockSize = 4

    func makeStorage(_ dtype: KVDType, blocks: Int = 6) throws -> KVCacheStorage {
        try KVCacheStorage(layers: 2, kvHeads: Self.kvHeads, headDim: Self.headDim, blockSize: Self.blockSize,
                           blockCount: blocks, dtype: dtype)
    }

    func decodedRow(_ kv: KVCacheStorage, layer: Int, block: Int, slot: Int, key: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: kv.kvDim)
        let row = key ? kv.keyRow(layer: layer, block: block, slot: slot) : kv.valueRow(layer: layer, block: block, slot: slot)
        out.withUnsafeMutableBufferPointer { kv.dtype.decode(row, offset: 0, count: kv.kvDim, into: $0.baseAddress!) }
        return out
    }

    @Test(arguments: KVDType.allCases)
    func storeRoundTripsWithinTheTypesPrecision(dtype: KVDType) throws {
        let kv = try makeStorage(dtype)
        var rng = SeededRandom(seed: 5)
        let key = rng.floats(kv.kvDim, scale: 4), value = rng.floats(kv.kvDim, scale: 4)
        kv.store(layer: 1, block: 3, slot: 2, key: key, value: value)
        for (stored, original) in [(decodedRow(kv, layer: 1, block: 3, slot: 2, key: true), key),
                                   (decodedRow(kv, layer: 1, block: 3, slot: 2, key: false), value)] {
            for g in stride(from: 0, to: kv.kvDim, by: 16) {
                let amax = original[g..<(g + 16)].map { abs($0) }.max()!
                let bound: Float = switch dtype {
                case .f32: 0
                case .f16: amax * 1e-3
                case .int8: amax / 254 + amax / 127 * 127 / 2048  // half a step + f16 rounding of the scale
                case .int4: amax / 14 + amax / 7 * 7 / 2048
                }
                for j in g..<(g + 16) { #expect(abs(stored[j] - original[j]) <= bound, "\(dtype) element \(j)") }
            }
        }
    }

    @Test func bytesPerElementIncludesScales() {
        #expect(KVDType.f32.bytesPerElement == 4 && KVDType.f16.bytesPerElement == 2)
        #expect(KVDType.int8.bytesPerElement == 1.125 && KVDType.int4.bytesPerElement == 0.625)
        #expect(KVCacheStorage.bytesPerBlock(layers: 2, kvHeads: 2, headDim: 32, blockSize: 4, dtype: .int8) == 2 * 2 * 4 * 64 / 16 * 18)
    }

    @Test func rejectsHeadDimensionThatSplitsAGroup() {
        #expect(throws: KVCacheStorageError.self) {
            _ = try KVCacheStorage(layers: 1, kvHeads: 1, headDim: 24, blockSize: 4, blockCount: 1, dtype: .int8)
        }
        #expect(throws: KVCacheStorageError.self) {
            _ = try KVCacheStorage(layers: 0, kvHeads: 1, headDim: 16, blockSize: 4, blockCount: 1, dtype: .f32)
        }
    }

    @Test(arguments: KVDType.allCases)
    func attentionReadersMatchNaiveLoopOverScatteredBlocks(dtype: KVDType) throws {
        let kv = try makeStorage(dtype)
        var rng = SeededRandom(seed: 7)
        let table: [Int32] = [4, 1, 5]  // positions 0..<12 in scattered blocks
        let length = 10, layer = 1, kvHead = 1, queries = 2, stride = 16
        for p in 0..<length {
            let key = rng.floats(kv.kvDim), value = rng.floats(kv.kvDim)
            kv.store(layer: layer, block: Int(table[p / Self.blockSize]), slot: p % Self.blockSize, key: key, value: value)
        }
        let q = rng.floats(queries * Self.headDim)
        let weights = rng.floats(queries * stride)
        var scores = [Float](repeating: 0, count: queries * stride)
        var out = [Float](repeating: 1, count: queries * Self.headDim)
        table.withUnsafeBufferPointer { t in
            scores.withUnsafeMutableBufferPointer { s in
                kv.attentionScores(layer: layer, kvHead: kvHead, queries: q, queryCount: queries, scale: 0.5,
                                   blockTable: t, length: length, scores: s.baseAddress!, scoreStride: stride)
            }
            out.withUnsafeMutableBufferPointer { o in
                kv.accumulateValues(layer: layer, kvHead: kvHead, weights: weights, weightStride: stride, queryCount: queries,
                                    blockTable: t, length: length, out: o.baseAddress!)
            }
        }
        for qi in 0..<queries {
            var expectedOut = [Float](repeating: 1, count: Self.headDim)
            for p in 0..<length {
                let block = Int(table[p / Self.blockSize]), slot = p % Self.blockSize
                let keyRow = decodedRow(kv, layer: layer, block: block, slot: slot, key: true)
                let valueRow = decodedRow(kv, layer: layer, block: block, slot: slot, key: false)
                var dot: Float = 0
                for j in 0..<Self.headDim { dot += q[qi * Self.headDim + j] * keyRow[kvHead * Self.headDim + j] }
                #expect(abs(scores[qi * stride + p] - 0.5 * dot) <= 1e-5, "\(dtype) score q\(qi) p\(p)")
                for j in 0..<Self.headDim { expectedOut[j] += weights[qi * stride + p] * valueRow[kvHead * Self.headDim + j] }
            }
            #expect(relativeError(Array(out[(qi * Self.headDim)..<((qi + 1) * Self.headDim)]), expectedOut) <= 1e-5)
        }
    }

    @Test(arguments: KVDType.allCases)
    func copyBlockAndRawBlockIOPreserveEveryLayer(dtype: KVDType) throws {
        let kv = try makeStorage(dtype)
        var rng = SeededRandom(seed: 8)
        for layer in 0..<2 {
            for slot in 0..<Self.blockSize {
                kv.store(layer: layer, block: 2, slot: slot, key: rng.floats(kv.kvDim), value: rng.floats(kv.kvDim))
            }
        }
        func blockBytes(_ storage: KVCacheStorage, _ block: Int) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: storage.bytesPerBlock)
            bytes.withUnsafeMutableBytes { storage.readBlock(block, into: $0) }
            return bytes
        }
        kv.copyBlock(from: 2, to: 0)
        #expect(blockBytes(kv, 0) == blockBytes(kv, 2))
        #expect(decodedRow(kv, layer: 1, block: 0, slot: 3, key: false) == decodedRow(kv, layer: 1, block: 2, slot: 3, key: false))

        let other = try makeStorage(dtype)
        let saved = blockBytes(kv, 2)
        saved.withUnsafeBytes { other.writeBlock(5, from: $0) }
        #expect(blockBytes(other, 5) == saved)
        #expect(decodedRow(other, layer: 1, block: 5, slot: 1, key: true) == decodedRow(kv, layer: 1, block: 2, slot: 1, key: true))
    }
}
