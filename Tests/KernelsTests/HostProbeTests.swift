import Testing
import Kernels

@Suite struct HostProbeTests {
    /// The probe's pass over several regions of odd sizes reads every whole 128-byte block of
    /// each region exactly once: its checksum equals a naive sum over those floats (small
    /// integers, so the float sums are exact in any order).
    @Test(arguments: [1, 2, 3])
    func streamingPassReadsEveryRegionOnce(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        let sizes = [128, 3 * StreamingRead.pieceBytes + 4096 + 100, 5000, StreamingRead.pieceBytes]
        let memory = sizes.map { UnsafeMutableRawPointer.allocate(byteCount: $0, alignment: 64) }
        defer { memory.forEach { $0.deallocate() } }
        var expected: Float = 0
        for (region, (base, size)) in zip(sizes.indices, zip(memory, sizes)) {
            let floats = base.bindMemory(to: Float.self, capacity: size / 4)
            for i in 0..<(size / 4) {
                floats[i] = Float((i + region) % 5)
                if i < size / 128 * 32 { expected += floats[i] }
            }
        }
        let regions = zip(memory, sizes).map { UnsafeRawBufferPointer(start: $0.0, count: $0.1) }
        let pass = HostProbe.streamingRead(pool: pool, regions: regions)
        #expect(pass.checksum == expected)
        #expect(pass.bytes == sizes.reduce(0) { $0 + $1 / 128 * 128 })
        #expect(pass.seconds > 0)
    }

    @Test func streamingSumMatchesNaiveSum() {
        let count = 32 * 37
        let values = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { values.deallocate() }
        var expected: Float = 0
        for i in 0..<count {
            values[i] = Float(i % 7) - 3
            expected += values[i]
        }
        #expect(StreamingRead.sum(UnsafeRawPointer(values), bytes: count * 4) == expected)
    }

    /// The allocation is 2 MiB aligned and usable over its whole length; the huge-page
    /// residency it reports never exceeds the region asked about.
    @Test func hugePageMemoryIsAlignedAndWritable() {
        let bytes = 5 << 20 + 123
        let memory = HugePageMemory(byteCount: bytes)
        #expect(Int(bitPattern: memory.base) % HugePageMemory.hugePageBytes == 0)
        #expect(memory.byteCount == bytes)
        let b = memory.base.bindMemory(to: UInt8.self, capacity: bytes)
        for i in stride(from: 0, to: bytes, by: 4096) { b[i] = UInt8(i / 4096 % 251) }
        b[bytes - 1] = 7
        var ok = b[bytes - 1] == 7
        for i in stride(from: 0, to: bytes, by: 4096) where b[i] != UInt8(i / 4096 % 251) { ok = false }
        #expect(ok)
        #if os(Linux)
        let resident = HugePageMemory.residentHugePageBytes(in: UnsafeRawBufferPointer(start: memory.base, count: bytes))
        #expect(resident != nil)
        #expect((resident ?? 0) >= 0 && (resident ?? 0) <= bytes)
        #endif
    }
}
