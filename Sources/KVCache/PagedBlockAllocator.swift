/// The paged KV allocator (PagedAttention): a pool of fixed-size blocks handed out on demand,
/// per-sequence block tables, reference counts with copy-on-write, and an optional prefix cache.
///
/// Free blocks live in two places: plain free blocks (a stack, reused first) and *cached* free
/// blocks — full blocks whose contents are still registered in the prefix cache, kept in LRU
/// order and evicted (unregistered and reused) only when no plain block is left. Prefix-cache keys
/// chain over (parent key, block tokens) for full, computed blocks only (see ``PrefixHash``);
/// partially filled blocks are never shared through the cache.
///
/// With an offload tier (`offloadCapacity` > 0), a cached block evicted for reuse is first
/// offloaded (its key and tokens are remembered; the engine copies its bytes out), and a later
/// lookup that misses in the pool but finds the key in the tier reloads it into a fresh block
/// instead of recomputing it. The tier keeps at most `offloadCapacity` keys, oldest dropped first.
///
/// All operations are O(blocks touched) except `occupancy()` and `checkInvariants()`, which walk
/// every sequence.
public final class PagedBlockAllocator: KVBlockManager {
    struct Entry {
        var table: [Int32]
        var slots: Int
        /// Prefix keys of the sequence's first `keys.count` full, computed blocks.
        var keys: [UInt64]
    }

    public let layout = KVLayout.paged
    public let blockSize: Int
    public let totalBlocks: Int
    public let prefixCachingEnabled: Bool
    public private(set) var prefixCacheQueriedTokens = 0
    public private(set) var prefixCacheHitTokens = 0
    public private(set) var prefixCacheReloadedTokens = 0
    public let offloadCapacity: Int
    /// Keys in the offload tier with their block tokens, and their order of arrival.
    var offloaded: [UInt64: [Int32]] = [:]
    var offloadOrder: [UInt64] = []
    var pendingPrefix: [PrefixTransfer] = []
    var pinned: Set<UInt64> = []

    var refCount: [Int32]
    var plainFree: [Int32]
    // LRU of cached free blocks (doubly linked through block ids; head = least recently used).
    var lruPrev: [Int32]
    var lruNext: [Int32]
    var inLRU: [Bool]
    var lruHead: Int32 = -1
    var lruTail: Int32 = -1
    var lruCount = 0
    // Prefix-cache registration of each block, and the key → block map.
    var blockKey: [UInt64]
    var hasKey: [Bool]
    var blockTokens: [[Int32]]
    var cache: [UInt64: Int32] = [:]
    var entries: [SequenceID: Entry] = [:]
    var pendingCopies: [BlockCopy] = []

    /// A pool of `totalBlocks` blocks of `blockSize` tokens.
    public init(blockSize: Int, totalBlocks: Int, prefixCaching: Bool = false, offloadCapacity: Int = 0) {
        precondition(blockSize > 0 && totalBlocks >= 0, "block size must be positive and the pool non-negative")
        precondition(offloadCapacity >= 0, "the offload tier cannot be negative")
        self.offloadCapacity = prefixCaching ? offloadCapacity : 0
        self.blockSize = blockSize
        self.totalBlocks = totalBlocks
        self.prefixCachingEnabled = prefixCaching
        refCount = Array(repeating: 0, count: totalBlocks)
        // Reversed so that block 0 is handed out first.
        plainFree = (0..<Int32(totalBlocks)).reversed()
        lruPrev = Array(repeating: -1, count: totalBlocks)
        lruNext = Array(repeating: -1, count: totalBlocks)
        inLRU = Array(repeating: false, count: totalBlocks)
        blockKey = Array(repeating: 0, count: totalBlocks)
        hasKey = Array(repeating: false, count: totalBlocks)
        blockTokens = Array(repeating: [], count: totalBlocks)
    }

    public var availableBlocks: Int { plainFree.count + lruCount }

    public func contains(_ id: SequenceID) -> Bool { entries[id] != nil }
    public func blockTable(_ id: SequenceID) -> [Int32] { entries[id]?.table ?? [] }
    public func slots(_ id: SequenceID) -> Int { entries[id]?.slots ?? 0 }

    public func admit(_ id: SequenceID, tokens: [Int32], maxNewTokens: Int, reserveTokens: Int,
                      usePrefixCache: Bool, keepFree: Int = 0) -> Admission {
        precondition(entries[id] == nil, "sequence \(id) is already in the pool")
        var hits: [PrefixHit] = []
        if prefixCachingEnabled && usePrefixCache { hits = lookup(tokens) }
        let cached = hits.count * blockSize
        let slots = cached + min(max(0, tokens.count - cached), max(0, maxNewTokens))
        let needed = blocksFor(tokens: slots)
        if blocksFor(tokens: max(slots, reserveTokens)) > totalBlocks { return Admission(result: .never) }
        var deviceHits = 0, hitsFromFree = 0
        for case .device(let block, _) in hits {
            deviceHits += 1
            if refCount[Int(block)] == 0 { hitsFromFree += 1 }
        }
        if needed - deviceHits + keepFree > availableBlocks - hitsFromFree { return Admission(result: .later) }

        // Pool hits first (so that allocating fresh blocks cannot evict them), then reloads.
        var table = Array(repeating: Int32(-1), count: needed)
        for (i, hit) in hits.enumerated() {
            guard case .device(let block, _) = hit else { continue }
            if refCount[Int(block)] == 0 { lruRemove(block) }
            refCount[Int(block)] += 1
            table[i] = block
        }
        var reloaded = 0
        // The tier must keep the keys this admission reloads while its allocations evict and offload.
        pinned = Set(hits.compactMap { if case .tier(let k, _) = $0 { return k } else { return nil } })
        defer { pinned.removeAll() }
        for (i, hit) in hits.enumerated() {
            guard case .tier(let key, let blockTokens) = hit else { continue }
            let block = takeFreeBlock()
            register(block, key: key, tokens: blockTokens)
            pendingPrefix.append(.reload(key: key, block: block))
            table[i] = block
            reloaded += 1
        }
        for i in hits.count..<needed { table[i] = takeFreeBlock() }
        entries[id] = Entry(table: table, slots: slots, keys: hits.map(\.key))
        if prefixCachingEnabled && usePrefixCache {
            prefixCacheQueriedTokens += tokens.count
            prefixCacheHitTokens += cached
            prefixCacheReloadedTokens += reloaded * blockSize
        }
        return Admission(result: .ok, cachedTokens: cached, slots: slots)
    }

    public func grow(_ id: SequenceID, toSlots newSlots: Int) -> AllocationResult {
        guard var e = entries[id] else { preconditionFailure("grow: sequence \(id) is not in the pool") }
        if newSlots <= e.slots { return .ok }
        let needed = blocksFor(tokens: newSlots) - e.table.count
        if blocksFor(tokens: newSlots) > totalBlocks { return .never }
        let tail = e.slots % blockSize != 0 ? e.table.count - 1 : -1
        let copyOnWrite = tail >= 0 && refCount[Int(e.table[tail])] > 1
        if needed + (copyOnWrite ? 1 : 0) > availableBlocks { return .later }
        if copyOnWrite {
            let old = e.table[tail]
            let fresh = takeFreeBlock()
            pendingCopies.append(BlockCopy(source: old, destination: fresh))
            refCount[Int(old)] -= 1
            e.table[tail] = fresh
        }
        for _ in 0..<needed { e.table.append(takeFreeBlock()) }
        e.slots = newSlots
        entries[id] = e
        return .ok
    }

    public func shrink(_ id: SequenceID, toSlots newSlots: Int) {
        guard var e = entries[id] else { preconditionFailure("shrink: sequence \(id) is not in the pool") }
        precondition(newSlots >= 0 && newSlots <= e.slots, "shrink: \(newSlots) slots is not within 0...\(e.slots)")
        let keep = blocksFor(tokens: newSlots)
        while e.table.count > keep { decrementRef(e.table.removeLast()) }
        e.slots = newSlots
        if e.keys.count > newSlots / blockSize { e.keys.removeLast(e.keys.count - newSlots / blockSize) }
        // A registered block that will be written again must leave the cache (its tokens change).
        if newSlots % blockSize != 0, let last = e.table.last, hasKey[Int(last)], refCount[Int(last)] == 1 {
            unregister(last)
        }
        entries[id] = e
    }

    public func commit(_ id: SequenceID, tokens: [Int32], computed: Int) {
        guard prefixCachingEnabled, var e = entries[id] else { return }
        let full = min(computed, e.slots, tokens.count) / blockSize
        guard full > e.keys.count else { return }
        for k in e.keys.count..<full {
            let slice = tokens[(k * blockSize)..<((k + 1) * blockSize)]
            let key = PrefixHash.chain(parent: e.keys.last ?? PrefixHash.root, tokens: slice)
            e.keys.append(key)
            let block = e.table[k]
            if !hasKey[Int(block)] && cache[key] == nil { register(block, key: key, tokens: Array(slice)) }
        }
        entries[id] = e
    }

    public func fork(_ parent: SequenceID, into child: SequenceID) {
        guard let e = entries[parent] else { preconditionFailure("fork: sequence \(parent) is not in the pool") }
        precondition(entries[child] == nil, "fork: sequence \(child) is already in the pool")
        for block in e.table { refCount[Int(block)] += 1 }
        entries[child] = e
    }

    public func release(_ id: SequenceID) {
        guard let e = entries.removeValue(forKey: id) else { return }
        // Tail first, so a sequence's later blocks are evicted before its (more shareable) head.
        for block in e.table.reversed() { decrementRef(block) }
    }

    public func takePrefixTransfers() -> [PrefixTransfer] {
        defer { pendingPrefix.removeAll() }
        return pendingPrefix
    }

    public func takeCopies() -> [BlockCopy] {
        defer { pendingCopies.removeAll(keepingCapacity: true) }
        return pendingCopies
    }

    public func occupancy() -> KVOccupancy {
        var acc = OccupancyAccumulator(blockSize: blockSize)
        for e in entries.values { acc.add(slots: e.slots, table: e.table) }
        return acc.finish(blocksTotal: totalBlocks, blocksFree: availableBlocks,
                          largestFreeExtent: availableBlocks, cachedFreeBlocks: lruCount)
    }

    // MARK: - Internals

    /// A prefix-cache hit: a block in the pool, or a key in the offload tier to reload.
    enum PrefixHit {
        case device(Int32, UInt64)
        case tier(UInt64, [Int32])
        var key: UInt64 {
            switch self {
            case .device(_, let k), .tier(let k, _): return k
            }
        }
    }

    /// The longest run of cached full blocks matching `tokens` (in the pool or in the offload
    /// tier), leaving the last token uncached.
    func lookup(_ tokens: [Int32]) -> [PrefixHit] {
        var hits: [PrefixHit] = []
        let maxBlocks = max(0, (tokens.count - 1) / blockSize)
        var parent = PrefixHash.root
        for i in 0..<maxBlocks {
            let slice = tokens[(i * blockSize)..<((i + 1) * blockSize)]
            let key = PrefixHash.chain(parent: parent, tokens: slice)
            if let block = cache[key], blockTokens[Int(block)].elementsEqual(slice) {
                hits.append(.device(block, key))
            } else if let saved = offloaded[key], saved.elementsEqual(slice), cache[key] == nil {
                hits.append(.tier(key, saved))
            } else {
                break
            }
            parent = key
        }
        return hits
    }

    func register(_ block: Int32, key: UInt64, tokens: [Int32]) {
        cache[key] = block
        blockKey[Int(block)] = key
        hasKey[Int(block)] = true
        blockTokens[Int(block)] = tokens
    }

    /// Remembers an evicted cached block in the offload tier (unless its key is already there).
    func offload(_ block: Int32) {
        let i = Int(block)
        guard offloadCapacity > 0, hasKey[i], offloaded[blockKey[i]] == nil else { return }
        let key = blockKey[i]
        if offloadOrder.count >= offloadCapacity {
            // Drop the oldest key not pinned by the admission in progress; if all are, skip this one.
            guard let index = offloadOrder.firstIndex(where: { !pinned.contains($0) }) else { return }
            let oldest = offloadOrder.remove(at: index)
            offloaded[oldest] = nil
            pendingPrefix.append(.drop(key: oldest))
        }
        offloaded[key] = blockTokens[i]
        offloadOrder.append(key)
        pendingPrefix.append(.offload(key: key, block: block))
    }

    /// A block with reference count 1: a plain free block, else the least recently used cached one.
    func takeFreeBlock() -> Int32 {
        let block: Int32
        if let b = plainFree.popLast() {
            block = b
        } else {
            precondition(lruHead >= 0, "takeFreeBlock: pool exhausted (callers check availableBlocks first)")
            block = lruHead
            lruRemove(block)
            offload(block)
            unregister(block)
        }
        refCount[Int(block)] = 1
        return block
    }

    func decrementRef(_ block: Int32) {
        let i = Int(block)
        precondition(refCount[i] > 0, "block \(block) freed twice")
        refCount[i] -= 1
        if refCount[i] == 0 {
            if hasKey[i] { lruAppend(block) } else { plainFree.append(block) }
        }
    }

    func unregister(_ block: Int32) {
        let i = Int(block)
        guard hasKey[i] else { return }
        if cache[blockKey[i]] == block { cache[blockKey[i]] = nil }
        hasKey[i] = false
        blockKey[i] = 0
        blockTokens[i] = []
    }

    func lruAppend(_ block: Int32) {
        let i = Int(block)
        inLRU[i] = true
        lruPrev[i] = lruTail
        lruNext[i] = -1
        if lruTail >= 0 { lruNext[Int(lruTail)] = block } else { lruHead = block }
        lruTail = block
        lruCount += 1
    }

    func lruRemove(_ block: Int32) {
        let i = Int(block)
        precondition(inLRU[i], "block \(block) is not in the LRU list")
        let p = lruPrev[i], n = lruNext[i]
        if p >= 0 { lruNext[Int(p)] = n } else { lruHead = n }
        if n >= 0 { lruPrev[Int(n)] = p } else { lruTail = p }
        lruPrev[i] = -1
        lruNext[i] = -1
        inLRU[i] = false
        lruCount -= 1
    }
}
