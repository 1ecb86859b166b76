import Foundation
import Kernels
import KVCache
import LlamaModel
import Testing

/// Our Transformer on the `tiny` preset (f32, seed 0) against logits computed by an
/// independent numpy implementation (Reference/reference_forward.py) from the exported GGUF.
/// Tolerance: per position, max |ours − reference| ≤ 1e-4 · max |reference|.
/// `RECORD_GOLDENS=1` re-exports the model, reruns the script and rewrites the golden file
/// (the test fails that run).
@Suite struct GoldenLogitsTests {
    static let tokens: [Int32] = [1, 300, 17, 499, 42, 260, 5, 511, 128, 77, 300, 300, 2, 64, 400, 3]
    static let goldenName = "golden_logits_tiny.json"

    struct Golden: Decodable {
        var model: String
        var weights_fnv1a64: String
        var tokens: [Int32]
        var logits: [[Double]]
    }

    static func weightsDigest(_ w: ModelWeights) -> String {
        var digest: UInt64 = 0
        for t in w.namedTensors {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            withUnsafeBytes(of: digest.littleEndian) { for b in $0 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 } }
            for b in t.data { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            digest = h
        }
        let s = String(digest, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    func expectClose(_ row: UnsafeBufferPointer<Float>, _ reference: [Double], _ what: String) {
        let scale = reference.map(abs).max()!
        let err = zip(row, reference).map { abs(Double($0) - $1) }.max()!
        #expect(err <= 1e-4 * scale, "\(what): max error \(err) vs max |logit| \(scale)")
    }

    @Test func tinyMatchesTheNumpyReference() throws {
        let weights = ModelPreset.tiny.makeWeights(type: .f32, seed: 0)
        if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" {
            let path = ReferenceFiles.temporaryPath(".gguf")
            defer { unlink(path) }
            try weights.writeGGUF(to: path, name: "tiny", vocabulary: .synthetic(size: 512))
            let json = try runPython(ReferenceFiles.path("reference_forward.py"), path,
                                     Self.tokens.map(String.init).joined(separator: ","))
            try json.write(toFile: ReferenceFiles.path(Self.goldenName), atomically: true, encoding: .utf8)
            Issue.record("RECORD_GOLDENS=1: rewrote \(Self.goldenName); review and commit it, then rerun without the variable")
        }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(try ReferenceFiles.text(Self.goldenName).utf8))
        #expect(golden.tokens == Self.tokens)
        try #require(golden.weights_fnv1a64 == Self.weightsDigest(weights),
                     "the tiny preset's weights changed since the golden file was made: rerun with RECORD_GOLDENS=1")

        try expectMatches(weights, golden)
        // The same model exported to GGUF and memory-mapped back (tensors 32-byte aligned in the file).
        let path = ReferenceFiles.temporaryPath(".gguf")
        defer { unlink(path) }
        try weights.writeGGUF(to: path, name: "tiny", vocabulary: .synthetic(size: 512))
        try expectMatches(try ModelLoader.load(path).weights, golden)
    }

    func expectMatches(_ weights: ModelWeights, _ golden: Golden) throws {
        let c = weights.config
        let transformer = Transformer(weights: weights, maxBatchTokens: Self.tokens.count, maxLogitRows: Self.tokens.count,
                                      pool: ThreadPool(threadCount: 2))
        // Whole prompt in one step, logits at every position.
        let kv = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: 16, blockCount: 1, dtype: .f32)
        var batch = ForwardBatch()
        batch.append(tokens: Self.tokens, startPosition: 0, blockTable: [0], logits: .all)
        let logits = transformer.forward(batch, kv: kv)
        #expect(logits.rowCount == Self.tokens.count)
        for p in 0..<Self.tokens.count { expectClose(logits.row(p), golden.logits[p], "prefill position \(p)") }

        // One token per step (decode), the last row each time.
        let kv2 = try KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: 16, blockCount: 1, dtype: .f32)
        for p in 0..<Self.tokens.count {
            batch.removeAll()
            batch.append(tokens: [Self.tokens[p]], startPosition: p, blockTable: [0], logits: .last)
            expectClose(transformer.forward(batch, kv: kv2).row(0), golden.logits[p], "decode position \(p)")
        }
    }
}
