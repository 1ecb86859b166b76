import KVCache

/// The slice of a paged KV allocator that speculative decoding needs: grow a sequence to hold
/// the γ+1 positions it verifies, then roll it back to the accepted length (freeing whole blocks
/// past the new end). Sequences are identified by the engine's request id.
public protocol SpeculativeKVPool: AnyObject {
    /// Tokens per block.
    var blockSize: Int { get }
    /// The sequence's block table, in position order (empty if unknown).
    func blockTable(_ sequence: UInt64) -> [Int32]
    /// Grows the sequence to at least `slots` positions (admitting it if new); false (and no
    /// change) if the pool is too full.
    func reserve(_ sequence: UInt64, slots: Int) -> Bool
    /// Shrinks the sequence to `slots` positions, freeing blocks past the new end.
    func rollback(_ sequence: UInt64, slots: Int)
    /// Frees every block of the sequence.
    func release(_ sequence: UInt64)
}

/// A ``SpeculativeKVPool`` over the engine's block allocator (``KVBlockManager``: paged or
/// contiguous), for running speculation without the scheduler (tests, the `spec` bench).
/// Each call is one allocator call; O(blocks touched).
public final class BlockManagerKVPool: SpeculativeKVPool {
    public let manager: any KVBlockManager

    public init(_ manager: any KVBlockManager) { self.manager = manager }

    /// A paged allocator of `totalBlocks` blocks of `blockSize` tokens.
    public convenience init(blockSize: Int, totalBlocks: Int, prefixCaching: Bool = false) {
        self.init(PagedBlockAllocator(blockSize: blockSize, totalBlocks: totalBlocks, prefixCaching: prefixCaching))
    }

    public var blockSize: Int { manager.blockSize }
    public var totalBlocks: Int { manager.totalBlocks }
    public var freeBlocks: Int { manager.availableBlocks }
    public func slots(_ sequence: UInt64) -> Int { manager.slots(sequence) }
    public func blockTable(_ sequence: UInt64) -> [Int32] { manager.blockTable(sequence) }

    public func reserve(_ sequence: UInt64, slots: Int) -> Bool {
        if !manager.contains(sequence) {
            guard manager.admit(sequence, tokens: [], maxNewTokens: 0, reserveTokens: slots, usePrefixCache: false).result == .ok else {
                return false
            }
        }
        return manager.grow(sequence, toSlots: slots) == .ok
    }

    public func rollback(_ sequence: UInt64, slots: Int) { manager.shrink(sequence, toSlots: slots) }
    public func release(_ sequence: UInt64) { manager.release(sequence) }

    /// The allocator's invariant check as a value: nil, or what is broken.
    public func checkInvariants() -> String? {
        do { try manager.checkInvariants() } catch { return error.description }
        return nil
    }
}
