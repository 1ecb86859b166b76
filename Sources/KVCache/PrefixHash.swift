/// The prefix-cache key of a full block: a hash chained over (parent block's key, this block's
/// token ids), so equal keys mean equal whole prefixes (up to hash collisions, which the cache
/// rules out by also comparing the block's tokens). Deterministic across runs and machines
/// (FNV-1a over the little-endian token bytes, then a SplitMix64 finaliser), unlike `Hasher`.
public enum PrefixHash {
    /// The parent key of a sequence's first block.
    public static let root: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The key of a block holding `tokens` after the prefix whose last block's key is `parent`.
    /// O(tokens.count).
    public static func chain(parent: UInt64, tokens: ArraySlice<Int32>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ parent
        for t in tokens {
            var v = UInt32(bitPattern: t)
            for _ in 0..<4 {
                h ^= UInt64(v & 0xFF)
                h = h &* 0x0000_0100_0000_01B3
                v >>= 8
            }
        }
        h ^= parent &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    /// The keys of every full block of `tokens`, in order. O(tokens.count).
    public static func fullBlockKeys(_ tokens: [Int32], blockSize: Int) -> [UInt64] {
        var keys: [UInt64] = []
        var parent = root
        var i = 0
        while i + blockSize <= tokens.count {
            parent = chain(parent: parent, tokens: tokens[i..<(i + blockSize)])
            keys.append(parent)
            i += blockSize
        }
        return keys
    }
}
