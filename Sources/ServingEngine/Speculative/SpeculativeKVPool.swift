/// The slice of a paged KV allocator that speculative decoding needs: grow a sequence to hold
/// the γ+1 positions it verifies, then roll it back to the accepted length (freeing whole blocks
/// past the new end). Sequences are identified by the engine's request id.
public protocol SpeculativeKVPool: AnyObject {
    /// Tokens per block.
    var blockSize: Int { get }
    /// The sequence's block table, in position order (empty if unknown).
    func blockTable(_ sequence: UInt64) -> [Int32]
    /// Grows the sequence to at least `slots` positions; false (and no change) if the pool is
    /// too full.
    func reserve(_ sequence: UInt64, slots: Int) -> Bool
    /// Shrinks the sequence to `slots` positions, freeing blocks past the new end.
    func rollback(_ sequence: UInt64, slots: Int)
    /// Frees every block of the sequence.
    func release(_ sequence: UInt64)
}

/// A minimal paged pool for running speculation without the serving engine (tests, the
/// `spec` bench): a free list of `totalBlocks` blocks and one block table per sequence, no
/// sharing. O(blocks touched) per call; ``checkInvariants()`` is O(blocks).
public final class SpeculativeBlockPool: SpeculativeKVPool {
    public let blockSize: Int
    public let totalBlocks: Int
    private var free: [Int32]
    private var tables: [UInt64: [Int32]] = [:]
    private var slotCounts: [UInt64: Int] = [:]

    public init(blockSize: Int, totalBlocks: Int) {
        precondition(blockSize > 0 && totalBlocks > 0, "SpeculativeBlockPool: block size and block count must be > 0")
        self.blockSize = blockSize
        self.totalBlocks = totalBlocks
        free = (0..<Int32(totalBlocks)).reversed()
    }

    public var freeBlocks: Int { free.count }
    public func slots(_ sequence: UInt64) -> Int { slotCounts[sequence] ?? 0 }
    public func blockTable(_ sequence: UInt64) -> [Int32] { tables[sequence] ?? [] }

    public func reserve(_ sequence: UInt64, slots: Int) -> Bool {
        let table = tables[sequence] ?? []
        let needed = (slots + blockSize - 1) / blockSize - table.count
        if needed > free.count { return false }
        if needed > 0 { tables[sequence] = table + free.suffix(needed).reversed(); free.removeLast(needed) }
        else if tables[sequence] == nil { tables[sequence] = [] }
        slotCounts[sequence] = max(slotCounts[sequence] ?? 0, slots)
        return true
    }

    public func rollback(_ sequence: UInt64, slots: Int) {
        guard var table = tables[sequence] else { preconditionFailure("rollback: unknown sequence \(sequence)") }
        precondition(slots >= 0 && slots <= (slotCounts[sequence] ?? 0), "rollback: \(slots) slots exceeds the sequence's \(slotCounts[sequence] ?? 0)")
        let keep = (slots + blockSize - 1) / blockSize
        while table.count > keep { free.append(table.removeLast()) }
        tables[sequence] = table
        slotCounts[sequence] = slots
    }

    public func release(_ sequence: UInt64) {
        if let table = tables.removeValue(forKey: sequence) { free.append(contentsOf: table.reversed()) }
        slotCounts[sequence] = nil
    }

    /// Every block is either free or in exactly one table, each table has exactly the blocks
    /// its slots need. Returns the first violation found, or nil.
    public func checkInvariants() -> String? {
        var owner = [Int](repeating: 0, count: totalBlocks)
        for b in free { owner[Int(b)] += 1 }
        for (id, table) in tables {
            let need = ((slotCounts[id] ?? 0) + blockSize - 1) / blockSize
            if table.count != need { return "sequence \(id) holds \(table.count) blocks for \(slotCounts[id] ?? 0) slots (needs \(need))" }
            for b in table { owner[Int(b)] += 1 }
        }
        if let b = owner.firstIndex(where: { $0 != 1 }) { return "block \(b) is owned \(owner[b]) times (free list + tables); expected once" }
        return nil
    }
}
