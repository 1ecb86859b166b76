import Testing
import KVCache

struct KVAllocatorTests {
    @Test func pagedAllocatesOnDemandAndFreesEverything() throws {
        let kv = PagedBlockAllocator(blockSize: 4, totalBlocks: 8)
        let a = kv.admit(1, tokens: [1, 2, 3, 4, 5], maxNewTokens: 5, reserveTokens: 20)
        #expect(a == Admission(result: .ok, cachedTokens: 0, slots: 5))
        #expect(kv.blockTable(1).count == 2)
        #expect(kv.grow(1, toSlots: 8) == .ok)
        #expect(kv.blockTable(1).count == 2)
        #expect(kv.grow(1, toSlots: 9) == .ok)
        #expect(kv.blockTable(1).count == 3)
        #expect(kv.grow(1, toSlots: 33) == .never)   // 9 blocks > 8
        #expect(kv.admit(2, tokens: Array(repeating: 0, count: 21), maxNewTokens: 21, reserveTokens: 21).result == .later)
        try kv.checkInvariants()
        kv.release(1)
        #expect(kv.availableBlocks == 8)
        try kv.checkInvariants()
    }

    @Test func occupancyMatchesHandCount() throws {
        // Two sequences of 5 and 8 tokens in blocks of 4: 2 + 2 blocks, 13 token states,
        // slack 3 (the 5-token sequence's second block holds 1).
        let kv = PagedBlockAllocator(blockSize: 4, totalBlocks: 10)
        _ = kv.admit(1, tokens: [1, 2, 3, 4, 5], maxNewTokens: 5, reserveTokens: 5)
        _ = kv.admit(2, tokens: Array(repeating: 7, count: 8), maxNewTokens: 8, reserveTokens: 8)
        let o = kv.occupancy()
        #expect(o.blocksUsed == 4 && o.tokensStored == 13 && o.slackTokens == 3 && o.reservedTokens == 0)
        #expect(abs(o.tokenUtilisation - 13.0 / 16.0) < 1e-12)
        #expect(abs(o.poolPressure - 0.4) < 1e-12)
    }

    @Test func forkSharesBlocksAndCopiesOnWrite() throws {
        let kv = PagedBlockAllocator(blockSize: 4, totalBlocks: 6)
        _ = kv.admit(1, tokens: [1, 2, 3, 4, 5, 6], maxNewTokens: 6, reserveTokens: 6)
        kv.fork(1, into: 2)
        #expect(kv.blockTable(1) == kv.blockTable(2))
        #expect(kv.occupancy().sharedBlocks == 2 && kv.occupancy().sharingSavedTokens == 8)
        #expect(kv.availableBlocks == 4)
        try kv.checkInvariants()
        // Sequence 2 writes position 6, inside the shared, partially filled second block.
        #expect(kv.grow(2, toSlots: 7) == .ok)
        let copies = kv.takeCopies()
        #expect(copies == [BlockCopy(source: kv.blockTable(1)[1], destination: kv.blockTable(2)[1])])
        #expect(kv.blockTable(1)[0] == kv.blockTable(2)[0])
        #expect(kv.takeCopies().isEmpty)
        try kv.checkInvariants()
        kv.release(1)
        kv.release(2)
        #expect(kv.availableBlocks == 6)
        try kv.checkInvariants()
    }

    @Test func prefixCacheReusesFullComputedBlocksOnly() throws {
        let kv = PagedBlockAllocator(blockSize: 2, totalBlocks: 8, prefixCaching: true)
        let prompt: [Int32] = [5, 6, 7, 8, 9]
        _ = kv.admit(1, tokens: prompt, maxNewTokens: 5, reserveTokens: 5)
        // Nothing committed yet: no hit.
        #expect(kv.admit(2, tokens: prompt, maxNewTokens: 5, reserveTokens: 5).cachedTokens == 0)
        kv.release(2)
        kv.commit(1, tokens: prompt, computed: 5)
        // Two full blocks cached; the last token's block is always recomputed.
        let hit = kv.admit(3, tokens: prompt, maxNewTokens: 5, reserveTokens: 5)
        #expect(hit.cachedTokens == 4 && hit.slots == 5)
        #expect(Array(kv.blockTable(3).prefix(2)) == Array(kv.blockTable(1).prefix(2)))
        // A different second block stops the match after the first.
        let partial = kv.admit(4, tokens: [5, 6, 0, 8, 9], maxNewTokens: 5, reserveTokens: 5)
        #expect(partial.cachedTokens == 2)
        try kv.checkInvariants()
        // Exactly the block-aligned prompt: the last block is not taken from the cache.
        #expect(kv.admit(5, tokens: [5, 6, 7, 8], maxNewTokens: 4, reserveTokens: 4).cachedTokens == 2)
        #expect(kv.prefixCacheHitTokens == 8)
        try kv.checkInvariants()
    }

    @Test func cachedFreeBlocksSurviveUntilEvictedLeastRecentlyUsedFirst() throws {
        let kv = PagedBlockAllocator(blockSize: 1, totalBlocks: 4, prefixCaching: true)
        _ = kv.admit(1, tokens: [1, 2, 3], maxNewTokens: 3, reserveTokens: 3)
        kv.commit(1, tokens: [1, 2, 3], computed: 3)
        kv.release(1)
        #expect(kv.availableBlocks == 4 && kv.occupancy().cachedFreeBlocks == 3)
        try kv.checkInvariants()
        // Freed after use: still a hit (the last token is never taken from the cache).
        #expect(kv.admit(2, tokens: [1, 2, 3], maxNewTokens: 3, reserveTokens: 3).cachedTokens == 2)
        kv.release(2)
        // Fill the pool with unrelated tokens: the plain block goes first, then cached ones, tail first.
        _ = kv.admit(3, tokens: [9, 9], maxNewTokens: 2, reserveTokens: 2)
        try kv.checkInvariants()
        // Released tail-first, so the head block (token 1) was the most recently appended: it survives.
        #expect(kv.admit(4, tokens: [1, 2], maxNewTokens: 2, reserveTokens: 2).cachedTokens == 1)
        try kv.checkInvariants()
    }

    @Test func shrinkRollsBackAndUnregistersRewrittenBlocks() throws {
        let kv = PagedBlockAllocator(blockSize: 2, totalBlocks: 6, prefixCaching: true)
        let t: [Int32] = [1, 2, 3, 4, 5]
        _ = kv.admit(1, tokens: t, maxNewTokens: 5, reserveTokens: 5)
        #expect(kv.grow(1, toSlots: 9) == .ok)   // room for 4 draft positions
        #expect(kv.blockTable(1).count == 5)
        kv.commit(1, tokens: t, computed: 5)
        kv.shrink(1, toSlots: 3)                 // position 3 will be rewritten
        #expect(kv.blockTable(1).count == 2 && kv.slots(1) == 3)
        try kv.checkInvariants()
        #expect(kv.admit(2, tokens: [1, 2, 3, 4, 9], maxNewTokens: 5, reserveTokens: 5).cachedTokens == 2)
        try kv.checkInvariants()
    }

    @Test func contiguousReservesUpFrontAndFragments() throws {
        let kv = ContiguousAllocator(blockSize: 4, totalBlocks: 10)
        // Each reserves its maximum length (prompt 4 + max output 8 = 3 blocks).
        for id in 1...3 as ClosedRange<SequenceID> {
            #expect(kv.admit(id, tokens: [1, 2, 3, 4], maxNewTokens: 4, reserveTokens: 12).result == .ok)
        }
        #expect(kv.blockTable(2) == [3, 4, 5])
        let o = kv.occupancy()
        #expect(o.blocksUsed == 9 && o.tokensStored == 12 && o.reservedTokens == 24)
        #expect(kv.grow(1, toSlots: 12) == .ok)
        #expect(kv.grow(1, toSlots: 13) == .never)
        kv.release(1)
        kv.release(3)
        // 7 blocks free but in extents of 3 and 4: a 5-block reservation must wait.
        #expect(kv.availableBlocks == 7)
        #expect(kv.admit(4, tokens: [1], maxNewTokens: 1, reserveTokens: 20).result == .later)
        #expect(abs(kv.occupancy().externalFragmentation - (1 - 4.0 / 7.0)) < 1e-12)
        kv.release(2)
        #expect(kv.admit(4, tokens: [1], maxNewTokens: 1, reserveTokens: 20).result == .ok)
        #expect(kv.admit(5, tokens: [1], maxNewTokens: 1, reserveTokens: 41).result == .never)
        try kv.checkInvariants()
    }

    @Test func prefixHashIsDeterministicAndChained() {
        let a = PrefixHash.fullBlockKeys([1, 2, 3, 4], blockSize: 2)
        let b = PrefixHash.fullBlockKeys([9, 9, 3, 4], blockSize: 2)
        #expect(a.count == 2 && b.count == 2)
        #expect(a[1] != b[1])   // same block tokens, different parent
        #expect(a == PrefixHash.fullBlockKeys([1, 2, 3, 4, 5], blockSize: 2))
    }
}
