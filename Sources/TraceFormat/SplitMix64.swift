/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit generator that expands a seed into independent
/// streams. Deterministic and platform-independent; O(1) per value, 8 bytes of state.
///
/// It lives in TraceFormat, the one module both halves share, so the runtime's synthetic weights
/// and workloads and the trace module's synthetic traces draw from one definition.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Mixes several words into one well-distributed seed (for per-tensor, per-chunk streams).
    public static func mix(_ words: UInt64...) -> UInt64 {
        var g = SplitMix64(seed: 0x5EED)
        var h: UInt64 = 0
        for w in words {
            g.state ^= w
            h = g.next() ^ (h &* 0x100_0000_01B3)
        }
        return h
    }
}
