/// A small, fast, seeded random number generator (SplitMix64, Steele et al. 2014): the same seed
/// gives the same sequence on every machine and run. Used for workload generation and tests;
/// not cryptographic.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits. O(1).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) with 53 random bits. O(1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
