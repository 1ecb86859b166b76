/// A KV pool's occupancy and fragmentation at one instant, in the categories of methodology §4.2
/// (token states, last-block slack, reservation waste, shared blocks).
///
/// With block size `b`, `U` = unique blocks in use, and live sequence `i` holding `t_i` slots in
/// `n_i` blocks: token-state utilisation = unique tokens / (b·U); internal fragmentation
/// (last-block slack) = Σ(b·⌈t_i/b⌉ − t_i) / (b·U); reservation waste = Σ b·(n_i − ⌈t_i/b⌉) / (b·U).
public struct KVOccupancy: Sendable, Equatable {
    public var blockSize: Int
    public var blocksTotal: Int
    /// Unique blocks referenced by at least one sequence (U).
    public var blocksUsed: Int
    /// Token states held, each shared block counted once.
    public var tokensStored: Int
    /// Unused slots in the last block in use of each sequence, summed (counted once per block).
    public var slackTokens: Int
    /// Slots in blocks reserved beyond the last block in use (contiguous layout), summed.
    public var reservedTokens: Int
    /// Blocks referenced by more than one sequence.
    public var sharedBlocks: Int
    /// Σ (refcount − 1)·b over shared blocks: token slots saved by sharing.
    public var sharingSavedTokens: Int
    /// Sequences holding blocks.
    public var sequences: Int
    /// Largest run of consecutive free block ids (contiguous layout's external fragmentation).
    public var largestFreeExtent: Int
    /// Free blocks (including evictable prefix-cache blocks).
    public var blocksFree: Int
    /// Free blocks that still hold a cached prefix (evictable).
    public var cachedFreeBlocks: Int

    public init(blockSize: Int, blocksTotal: Int, blocksUsed: Int, tokensStored: Int, slackTokens: Int,
                reservedTokens: Int, sharedBlocks: Int, sharingSavedTokens: Int, sequences: Int,
                largestFreeExtent: Int, blocksFree: Int, cachedFreeBlocks: Int) {
        self.blockSize = blockSize
        self.blocksTotal = blocksTotal
        self.blocksUsed = blocksUsed
        self.tokensStored = tokensStored
        self.slackTokens = slackTokens
        self.reservedTokens = reservedTokens
        self.sharedBlocks = sharedBlocks
        self.sharingSavedTokens = sharingSavedTokens
        self.sequences = sequences
        self.largestFreeExtent = largestFreeExtent
        self.blocksFree = blocksFree
        self.cachedFreeBlocks = cachedFreeBlocks
    }

    private var usedSlots: Double { Double(blocksUsed * blockSize) }

    /// Token states / slots in used blocks (1 when nothing is used).
    public var tokenUtilisation: Double { blocksUsed == 0 ? 1 : Double(tokensStored) / usedSlots }
    /// Last-block slack / slots in used blocks.
    public var internalFragmentation: Double { blocksUsed == 0 ? 0 : Double(slackTokens) / usedSlots }
    /// Reserved-ahead slots / slots in used blocks.
    public var reservationWaste: Double { blocksUsed == 0 ? 0 : Double(reservedTokens) / usedSlots }
    /// `1 − largest free extent / free blocks` (0 for an empty free list).
    public var externalFragmentation: Double {
        blocksFree == 0 ? 0 : 1 - Double(largestFreeExtent) / Double(blocksFree)
    }
    /// Blocks used / total (vLLM's `kv_cache_usage_perc`).
    public var poolPressure: Double { blocksTotal == 0 ? 0 : Double(blocksUsed) / Double(blocksTotal) }
}

/// Accumulates occupancy from sequences' (slots, table) pairs. Shared blocks are counted once:
/// a block's token count is the maximum fill any sequence gives it.
struct OccupancyAccumulator {
    let blockSize: Int
    var fill: [Int32: Int] = [:]
    var refs: [Int32: Int] = [:]
    var reserved = 0
    var sequences = 0

    init(blockSize: Int) { self.blockSize = blockSize }

    mutating func add(slots: Int, table: [Int32]) {
        sequences += 1
        let inUse = (slots + blockSize - 1) / blockSize
        for (i, block) in table.enumerated() {
            refs[block, default: 0] += 1
            let filled = max(0, min(blockSize, slots - i * blockSize))
            fill[block] = max(fill[block] ?? 0, filled)
        }
        reserved += max(0, table.count - inUse) * blockSize
    }

    func finish(blocksTotal: Int, blocksFree: Int, largestFreeExtent: Int, cachedFreeBlocks: Int) -> KVOccupancy {
        var tokens = 0
        var shared = 0
        var saved = 0
        var slackTotal = 0
        for (block, f) in fill {
            tokens += f
            let r = refs[block] ?? 1
            if r > 1 { shared += 1; saved += (r - 1) * blockSize }
            // A partially filled block in use is the tail of its sequence(s): its empty slots are
            // slack, unless no slot is filled at all (a reserved block ahead of the tail).
            if f > 0 { slackTotal += blockSize - f }
        }
        return KVOccupancy(blockSize: blockSize, blocksTotal: blocksTotal, blocksUsed: fill.count,
                           tokensStored: tokens, slackTokens: slackTotal, reservedTokens: reserved,
                           sharedBlocks: shared, sharingSavedTokens: saved, sequences: sequences,
                           largestFreeExtent: largestFreeExtent, blocksFree: blocksFree,
                           cachedFreeBlocks: cachedFreeBlocks)
    }
}
