import Testing
import KVCache

/// The KV attention probe `profile` records for R3: a positive per-token cost for every KV type
/// the shape allows, nothing for a shape it does not.
struct KVAttentionProbeTests {
    @Test func everyKVTypeHasAPositiveCostPerToken() throws {
        for dtype in KVDType.allCases {
            let s = try #require(KVAttentionProbe.secondsPerToken(layers: 2, kvHeads: 2, heads: 4, headDim: 32, dtype: dtype,
                                                                 context: 64, repetitions: 2))
            #expect(s > 0 && s.isFinite && s < 1e-3)
        }
    }

    @Test func shapesTheCacheRefusesGiveNothing() {
        // int8 groups of 16 elements cannot split a 24-wide head; no context; heads not a multiple of KV heads.
        #expect(KVAttentionProbe.secondsPerToken(layers: 1, kvHeads: 1, heads: 1, headDim: 24, dtype: .int8, context: 16) == nil)
        #expect(KVAttentionProbe.secondsPerToken(layers: 1, kvHeads: 1, heads: 1, headDim: 32, dtype: .f32, context: 0) == nil)
        #expect(KVAttentionProbe.secondsPerToken(layers: 1, kvHeads: 2, heads: 3, headDim: 32, dtype: .f32, context: 16) == nil)
    }
}
