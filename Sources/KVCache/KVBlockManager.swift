/// A sequence's identity inside a KV pool (the engine uses the request id).
public typealias SequenceID = UInt64

/// The outcome of asking a KV pool for room: an expected result, not an error.
public enum AllocationResult: Sendable, Equatable {
    /// The blocks were allocated.
    case ok
    /// Not now: the pool is too full; retry after other sequences free blocks (or preempt).
    case later
    /// Never: the request is larger than the whole pool (or than its own reservation).
    case never
}

/// The result of admitting a sequence: whether it fits and how many of its leading tokens were
/// found in the prefix cache (a multiple of the block size; their KV is already computed).
public struct Admission: Sendable, Equatable {
    public var result: AllocationResult
    /// Leading tokens whose KV came from the prefix cache (0 when `result != .ok`).
    public var cachedTokens: Int
    /// Slots allocated: `cachedTokens` plus the new tokens the caller may compute now.
    public var slots: Int

    public init(result: AllocationResult, cachedTokens: Int = 0, slots: Int = 0) {
        self.result = result
        self.cachedTokens = cachedTokens
        self.slots = slots
    }
}

/// A block the engine must copy before the next forward pass (copy-on-write of a shared block).
public struct BlockCopy: Sendable, Equatable, Hashable {
    public var source: Int32
    public var destination: Int32
    public init(source: Int32, destination: Int32) {
        self.source = source
        self.destination = destination
    }
}

/// A prefix-cache block moving between the pool and the offload tier. The engine performs the
/// operations in the order given, after swap-outs and before swap-ins, copy-on-write copies and
/// the forward pass.
public enum PrefixTransfer: Sendable, Equatable {
    /// Copy block `block`'s bytes to the tier under `key` (the block is about to be reused).
    case offload(key: UInt64, block: Int32)
    /// Copy the tier's bytes for `key` into `block` (the tier keeps its copy).
    case reload(key: UInt64, block: Int32)
    /// Forget the tier's copy of `key`.
    case drop(key: UInt64)
}

/// Which allocator a pool uses.
public enum KVLayout: String, Sendable, CaseIterable, Codable {
    /// Blocks on demand (PagedAttention).
    case paged
    /// The pre-PagedAttention baseline: each sequence reserves its maximum length up front,
    /// as one contiguous extent of blocks.
    case contiguous
}

/// The block bookkeeping of one KV pool: which blocks each sequence holds, in order. The K/V
/// tensors themselves live in `KVCacheStorage`, indexed by the block ids handed out here.
///
/// Slots are token positions with memory behind them. A sequence's slots are always a prefix
/// `0..<slots` of its positions; block `i` of its table holds positions `i·blockSize ..< (i+1)·blockSize`.
/// Implementations are single-threaded (one per engine worker).
public protocol KVBlockManager: AnyObject {
    var layout: KVLayout { get }
    /// Tokens per block.
    var blockSize: Int { get }
    /// Blocks in the pool.
    var totalBlocks: Int { get }
    /// Blocks that can be handed out now (free, including evictable prefix-cache blocks).
    var availableBlocks: Int { get }
    /// Whether `admit` looks up and `commit` registers full blocks in the prefix cache.
    var prefixCachingEnabled: Bool { get }
    /// Prefix-cache lookups so far, in tokens queried and tokens hit.
    var prefixCacheQueriedTokens: Int { get }
    var prefixCacheHitTokens: Int { get }

    /// Admits a new sequence whose known tokens are `tokens`: reuses cached full blocks of its
    /// prefix (never the block holding the last token, whose logits must be computed), then
    /// allocates slots for up to `maxNewTokens` further tokens. `reserveTokens` is the length the
    /// sequence may reach (the contiguous layout reserves it all now; the paged one ignores it).
    /// `keepFree` blocks must stay available afterwards (an admission watermark).
    /// Nothing changes unless the result is `.ok`. O(tokens + blocks).
    func admit(_ id: SequenceID, tokens: [Int32], maxNewTokens: Int, reserveTokens: Int,
               usePrefixCache: Bool, keepFree: Int) -> Admission
    /// Grows the sequence to at least `slots` slots (no-op if it has them). Copies a shared
    /// partially filled last block first (copy-on-write; see ``takeCopies()``). O(new blocks).
    func grow(_ id: SequenceID, toSlots slots: Int) -> AllocationResult
    /// Rolls the sequence back to `slots` slots (rejected speculative positions), freeing
    /// blocks past the new end. O(freed blocks).
    func shrink(_ id: SequenceID, toSlots slots: Int)
    /// Records that the first `computed` of `tokens` have KV in the cache, so that their full
    /// blocks can be registered in the prefix cache. O(new full blocks · blockSize).
    func commit(_ id: SequenceID, tokens: [Int32], computed: Int)
    /// Makes `child` share every block of `parent` (reference counts, copy-on-write).
    func fork(_ parent: SequenceID, into child: SequenceID)
    /// Frees the sequence's blocks (a block returns to the pool when its count reaches zero).
    func release(_ id: SequenceID)
    /// The sequence's block table, in position order.
    func blockTable(_ id: SequenceID) -> [Int32]
    /// The sequence's slot count.
    func slots(_ id: SequenceID) -> Int
    /// Whether the pool holds this sequence.
    func contains(_ id: SequenceID) -> Bool
    /// Copies queued by copy-on-write since the last call (get and reset).
    func takeCopies() -> [BlockCopy]
    /// Prefix-block offloads, reloads and drops since the last call, in order (get and reset).
    func takePrefixTransfers() -> [PrefixTransfer]
    /// Prefix-cache tokens that were reloaded from the second tier (a subset of the hits).
    var prefixCacheReloadedTokens: Int { get }
    /// Occupancy and fragmentation now (methodology §4.2). O(blocks in use).
    func occupancy() -> KVOccupancy
    /// Walks every structure and throws a precise message on the first inconsistency.
    func checkInvariants() throws(KVInvariantViolation)
}

/// A broken allocator invariant, with what was found and where.
public struct KVInvariantViolation: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "KV invariant violated: \(message)" }
}

extension KVBlockManager {
    /// Blocks needed to hold `tokens` token positions.
    @inlinable public func blocksFor(tokens: Int) -> Int { (tokens + blockSize - 1) / blockSize }
}

/// Builds the allocator for a layout. `prefixOffloadBlocks` > 0 keeps evicted prefix-cache
/// blocks in a second tier of that many blocks (paged layout only).
public func makeBlockManager(layout: KVLayout, blockSize: Int, totalBlocks: Int,
                             prefixCaching: Bool, prefixOffloadBlocks: Int = 0) -> any KVBlockManager {
    switch layout {
    case .paged: return PagedBlockAllocator(blockSize: blockSize, totalBlocks: totalBlocks, prefixCaching: prefixCaching,
                                            offloadCapacity: prefixOffloadBlocks)
    case .contiguous: return ContiguousAllocator(blockSize: blockSize, totalBlocks: totalBlocks)
    }
}

extension KVBlockManager {
    /// ``admit(_:tokens:maxNewTokens:reserveTokens:usePrefixCache:keepFree:)`` with no watermark.
    public func admit(_ id: SequenceID, tokens: [Int32], maxNewTokens: Int, reserveTokens: Int,
                      usePrefixCache: Bool = true) -> Admission {
        admit(id, tokens: tokens, maxNewTokens: maxNewTokens, reserveTokens: reserveTokens,
              usePrefixCache: usePrefixCache, keepFree: 0)
    }
}
