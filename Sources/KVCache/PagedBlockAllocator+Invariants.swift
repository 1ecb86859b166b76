extension PagedBlockAllocator {
    /// Walks every structure: each block is either referenced (count = number of table entries
    /// naming it) or free in exactly one of the plain stack and the LRU list; the LRU links are
    /// consistent; every cache entry and every registered block agree; each table has exactly
    /// ⌈slots / blockSize⌉ distinct blocks. O(blocks + table entries).
    public func checkInvariants() throws(KVInvariantViolation) {
        var expected = Array(repeating: Int32(0), count: totalBlocks)
        for id in entries.keys.sorted() {
            let e = entries[id]!
            if e.table.count != blocksFor(tokens: e.slots) {
                throw KVInvariantViolation("sequence \(id) has \(e.slots) slots in \(e.table.count) blocks; expected \(blocksFor(tokens: e.slots))")
            }
            if e.keys.count > e.slots / blockSize {
                throw KVInvariantViolation("sequence \(id) has \(e.keys.count) prefix keys for only \(e.slots / blockSize) full blocks")
            }
            var seen = Set<Int32>()
            for block in e.table {
                guard block >= 0 && Int(block) < totalBlocks else {
                    throw KVInvariantViolation("sequence \(id) names block \(block), outside 0..<\(totalBlocks)")
                }
                guard seen.insert(block).inserted else {
                    throw KVInvariantViolation("sequence \(id) names block \(block) twice in its table")
                }
                expected[Int(block)] += 1
            }
            for (k, key) in e.keys.enumerated() where hasKey[Int(e.table[k])] && blockKey[Int(e.table[k])] != key {
                throw KVInvariantViolation("sequence \(id) block \(k) (id \(e.table[k])) is registered under another prefix key")
            }
        }
        var plain = Array(repeating: false, count: totalBlocks)
        for block in plainFree {
            let i = Int(block)
            guard i >= 0 && i < totalBlocks else { throw KVInvariantViolation("free list holds block \(block), outside the pool") }
            if plain[i] { throw KVInvariantViolation("block \(block) is on the free list twice (double free)") }
            plain[i] = true
            if hasKey[i] { throw KVInvariantViolation("block \(block) is on the plain free list but still registered in the prefix cache") }
        }
        var walked = 0
        var prev: Int32 = -1
        var cursor = lruHead
        while cursor >= 0 {
            let i = Int(cursor)
            guard walked < totalBlocks else { throw KVInvariantViolation("the LRU list has a cycle") }
            if !inLRU[i] { throw KVInvariantViolation("block \(cursor) is linked into the LRU list but not flagged as in it") }
            if lruPrev[i] != prev { throw KVInvariantViolation("LRU block \(cursor) has prev \(lruPrev[i]), expected \(prev)") }
            if !hasKey[i] { throw KVInvariantViolation("LRU block \(cursor) holds no cached prefix") }
            if plain[i] { throw KVInvariantViolation("block \(cursor) is both on the free list and in the LRU list") }
            walked += 1
            prev = cursor
            cursor = lruNext[i]
        }
        if prev != lruTail { throw KVInvariantViolation("LRU tail is \(lruTail), the walk ended at \(prev)") }
        if walked != lruCount { throw KVInvariantViolation("LRU count is \(lruCount), the walk found \(walked)") }
        var flagged = 0
        for i in 0..<totalBlocks {
            if inLRU[i] { flagged += 1 }
            let free = plain[i] || inLRU[i]
            if refCount[i] != expected[i] {
                throw KVInvariantViolation("block \(i) has reference count \(refCount[i]) but \(expected[i]) table entries name it")
            }
            if refCount[i] < 0 { throw KVInvariantViolation("block \(i) has a negative reference count \(refCount[i])") }
            if refCount[i] == 0 && !free { throw KVInvariantViolation("block \(i) is unreferenced but on no free list (leaked)") }
            if refCount[i] > 0 && free { throw KVInvariantViolation("block \(i) is referenced \(refCount[i])× but also free") }
            if hasKey[i] {
                if cache[blockKey[i]] != Int32(i) {
                    throw KVInvariantViolation("block \(i) is registered under key \(blockKey[i]) but the cache maps it to \(String(describing: cache[blockKey[i]]))")
                }
                if blockTokens[i].count != blockSize {
                    throw KVInvariantViolation("registered block \(i) holds \(blockTokens[i].count) tokens, expected a full block of \(blockSize)")
                }
            }
        }
        if flagged != lruCount { throw KVInvariantViolation("\(flagged) blocks are flagged in the LRU list, count says \(lruCount)") }
        for (key, block) in cache where !(hasKey[Int(block)] && blockKey[Int(block)] == key) {
            throw KVInvariantViolation("prefix cache maps key \(key) to block \(block), which is not registered under it")
        }
        if offloadOrder.count != offloaded.count || offloaded.count > offloadCapacity {
            throw KVInvariantViolation("offload tier holds \(offloaded.count) keys, \(offloadOrder.count) in its order list, capacity \(offloadCapacity)")
        }
        for key in offloadOrder where offloaded[key]?.count != blockSize {
            throw KVInvariantViolation("offload tier key \(key) is in the order list without a full block of tokens")
        }
        let used = refCount.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        if used + plainFree.count + lruCount != totalBlocks {
            throw KVInvariantViolation("\(used) used + \(plainFree.count) free + \(lruCount) cached-free ≠ \(totalBlocks) blocks")
        }
    }
}
