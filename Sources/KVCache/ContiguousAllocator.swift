/// The pre-PagedAttention baseline: each sequence reserves, at admission, one contiguous extent
/// of blocks for the longest it may grow (`reserveTokens`), whether or not it ever uses it. Free
/// space is a sorted list of extents (first fit); it suffers reservation waste and external
/// fragmentation, which `occupancy()` reports. No sharing, no prefix cache, no copy-on-write.
///
/// It hands out block tables like the paged allocator (consecutive block ids), so the same
/// attention kernel runs on both layouts.
public final class ContiguousAllocator: KVBlockManager {
    struct Extent: Equatable {
        var start: Int
        var count: Int
    }
    struct Entry {
        var extent: Extent
        var slots: Int
    }

    public let layout = KVLayout.contiguous
    public let blockSize: Int
    public let totalBlocks: Int
    public let prefixCachingEnabled = false
    public let prefixCacheQueriedTokens = 0
    public let prefixCacheHitTokens = 0

    /// Free extents sorted by start, never adjacent (merged on release).
    var free: [Extent]
    var entries: [SequenceID: Entry] = [:]

    public init(blockSize: Int, totalBlocks: Int) {
        precondition(blockSize > 0 && totalBlocks >= 0, "block size must be positive and the pool non-negative")
        self.blockSize = blockSize
        self.totalBlocks = totalBlocks
        free = totalBlocks > 0 ? [Extent(start: 0, count: totalBlocks)] : []
    }

    public var availableBlocks: Int { free.reduce(0) { $0 + $1.count } }
    public func contains(_ id: SequenceID) -> Bool { entries[id] != nil }
    public func slots(_ id: SequenceID) -> Int { entries[id]?.slots ?? 0 }
    public func blockTable(_ id: SequenceID) -> [Int32] {
        guard let e = entries[id] else { return [] }
        return (e.extent.start..<(e.extent.start + e.extent.count)).map { Int32($0) }
    }

    /// Reserves ⌈max(reserveTokens, slots) / blockSize⌉ consecutive blocks (first fit).
    /// `.later` when no free extent is long enough — even if enough blocks are free in total.
    public func admit(_ id: SequenceID, tokens: [Int32], maxNewTokens: Int, reserveTokens: Int,
                      usePrefixCache: Bool, keepFree: Int = 0) -> Admission {
        precondition(entries[id] == nil, "sequence \(id) is already in the pool")
        let slots = min(tokens.count, max(0, maxNewTokens))
        let n = max(1, blocksFor(tokens: max(slots, reserveTokens)))
        if n > totalBlocks { return Admission(result: .never) }
        if availableBlocks - n < keepFree { return Admission(result: .later) }
        guard let index = free.firstIndex(where: { $0.count >= n }) else { return Admission(result: .later) }
        let extent = Extent(start: free[index].start, count: n)
        free[index].start += n
        free[index].count -= n
        if free[index].count == 0 { free.remove(at: index) }
        entries[id] = Entry(extent: extent, slots: slots)
        return Admission(result: .ok, cachedTokens: 0, slots: slots)
    }

    /// `.never` past the reservation: a contiguous sequence cannot grow beyond it.
    public func grow(_ id: SequenceID, toSlots newSlots: Int) -> AllocationResult {
        guard var e = entries[id] else { preconditionFailure("grow: sequence \(id) is not in the pool") }
        if newSlots <= e.slots { return .ok }
        if newSlots > e.extent.count * blockSize { return .never }
        e.slots = newSlots
        entries[id] = e
        return .ok
    }

    public func shrink(_ id: SequenceID, toSlots newSlots: Int) {
        guard var e = entries[id] else { preconditionFailure("shrink: sequence \(id) is not in the pool") }
        precondition(newSlots >= 0 && newSlots <= e.slots, "shrink: \(newSlots) slots is not within 0...\(e.slots)")
        e.slots = newSlots
        entries[id] = e
    }

    public func commit(_ id: SequenceID, tokens: [Int32], computed: Int) {}

    public func fork(_ parent: SequenceID, into child: SequenceID) {
        preconditionFailure("the contiguous layout does not share blocks; use the paged layout to fork sequences")
    }

    public func release(_ id: SequenceID) {
        guard let e = entries.removeValue(forKey: id) else { return }
        var index = free.firstIndex(where: { $0.start > e.extent.start }) ?? free.count
        free.insert(e.extent, at: index)
        if index + 1 < free.count, free[index].start + free[index].count == free[index + 1].start {
            free[index].count += free[index + 1].count
            free.remove(at: index + 1)
        }
        if index > 0, free[index - 1].start + free[index - 1].count == free[index].start {
            free[index - 1].count += free[index].count
            free.remove(at: index)
            index -= 1
        }
    }

    public func takeCopies() -> [BlockCopy] { [] }
    public func takePrefixTransfers() -> [PrefixTransfer] { [] }
    public let prefixCacheReloadedTokens = 0

    public func occupancy() -> KVOccupancy {
        var acc = OccupancyAccumulator(blockSize: blockSize)
        for e in entries.values { acc.add(slots: e.slots, table: blockTable(fromExtent: e.extent)) }
        let largest = free.reduce(0) { max($0, $1.count) }
        // Reserved blocks are in use (nobody else can have them), even before they are written.
        var o = acc.finish(blocksTotal: totalBlocks, blocksFree: availableBlocks, largestFreeExtent: largest,
                           cachedFreeBlocks: 0)
        o.blocksUsed = totalBlocks - availableBlocks
        return o
    }

    func blockTable(fromExtent x: Extent) -> [Int32] { (x.start..<(x.start + x.count)).map { Int32($0) } }

    /// Free extents are sorted, disjoint, merged and in bounds; sequences' extents are disjoint
    /// from each other and from the free list; they cover the pool exactly; slots fit the extent.
    public func checkInvariants() throws(KVInvariantViolation) {
        var owner = Array(repeating: Int64(-2), count: totalBlocks)   // -2 unowned, -1 free
        for (i, x) in free.enumerated() {
            if x.count <= 0 { throw KVInvariantViolation("free extent \(i) at block \(x.start) is empty") }
            if x.start < 0 || x.start + x.count > totalBlocks {
                throw KVInvariantViolation("free extent \(x.start)..<\(x.start + x.count) is outside the pool of \(totalBlocks)")
            }
            if i > 0 && free[i - 1].start + free[i - 1].count >= x.start {
                throw KVInvariantViolation("free extents \(i - 1) and \(i) overlap, touch without merging, or are unsorted")
            }
            for b in x.start..<(x.start + x.count) { owner[b] = -1 }
        }
        for id in entries.keys.sorted() {
            let e = entries[id]!
            if e.slots > e.extent.count * blockSize {
                throw KVInvariantViolation("sequence \(id) has \(e.slots) slots in a reservation of \(e.extent.count * blockSize)")
            }
            if e.extent.start < 0 || e.extent.start + e.extent.count > totalBlocks {
                throw KVInvariantViolation("sequence \(id) reserves blocks outside the pool")
            }
            for b in e.extent.start..<(e.extent.start + e.extent.count) {
                if owner[b] == -1 { throw KVInvariantViolation("block \(b) is reserved by sequence \(id) and also free") }
                if owner[b] >= 0 { throw KVInvariantViolation("block \(b) is reserved by sequences \(owner[b]) and \(id)") }
                owner[b] = Int64(truncatingIfNeeded: id)
            }
        }
        if let leaked = owner.firstIndex(of: -2) {
            throw KVInvariantViolation("block \(leaked) is neither free nor reserved (leaked)")
        }
    }
}
