#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the host's memory and arithmetic can do, measured on all threads of a pool: the
/// roofs of the roofline that the runtime benchmark and `--hardware host` compare against.
public struct HostMeasurement: Sendable, Equatable {
    /// Read-only bandwidth from DRAM, bytes/s (streaming sum over a huge-page buffer ≫ L3).
    public var readBandwidth: Double
    /// STREAM triad a = b + s·c, bytes/s counting 2 reads + 1 write per element.
    public var triadBandwidth: Double
    /// FP32 fused multiply-add peak, FLOP/s (a multiply-add counts as 2).
    public var fmaPeak: Double
    public var threads: Int
}

/// Micro-benchmarks of the host. The one place that measures it: the runtime benchmark,
/// `profile` and `analyze --hardware host` all call these.
///
/// Read bandwidth is measured the way a decode step reads weights: every thread streams
/// contiguous 1 MiB pieces with 8-wide loads (``StreamingRead``); the pieces are claimed
/// dynamically, so a thread the OS schedules late takes fewer pieces (a fixed two-way split
/// left its whole half to the other thread and then timed one core); and the buffer is
/// ``HugePageMemory`` like the weights (4 KiB pages read 15–25% slower here).
/// ``streamingReadBandwidth(pool:regions:)`` reads any memory — the model's own weights — for
/// the fairest achievable bound of a decode step.
public enum HostProbe {
    /// Measures everything with default sizes (≈ 0.5 s). Each probe runs `repetitions` times
    /// and keeps the best (the least disturbed) run, like STREAM.
    public static func measure(pool: ThreadPool, bufferBytes: Int = 256 << 20, repetitions: Int = 5) -> HostMeasurement {
        HostMeasurement(readBandwidth: readBandwidth(pool: pool, bytes: bufferBytes, repetitions: repetitions),
                        triadBandwidth: triadBandwidth(pool: pool, bytes: bufferBytes, repetitions: repetitions),
                        fmaPeak: fmaPeak(pool: pool, repetitions: repetitions), threads: pool.threadCount)
    }

    /// Monotonic seconds.
    @inlinable
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Read bandwidth in bytes/s over a fresh `bytes` buffer (``HugePageMemory``, first
    /// touched by all threads), best of `repetitions` passes. - Complexity: O(bytes · repetitions).
    public static func readBandwidth(pool: ThreadPool, bytes: Int, repetitions: Int) -> Double {
        let memory = HugePageMemory(byteCount: bytes)
        let count = bytes / 4
        pool.parallelFor(count) { range in
            (memory.base.assumingMemoryBound(to: Float.self) + range.lowerBound).initialize(repeating: 1, count: range.count)
        }
        let region = [UnsafeRawBufferPointer(start: memory.base, count: bytes)]
        var best = 0.0
        for _ in 0..<repetitions { best = max(best, streamingReadBandwidth(pool: pool, regions: region)) }
        return best
    }

    /// One streaming pass over `regions` on all threads: total bytes over wall seconds.
    /// Pass the weight matrices a decode step reads to measure the bandwidth that memory
    /// (those pages, in their huge-page state) gives right now.
    /// - Complexity: O(Σ region bytes).
    public static func streamingReadBandwidth(pool: ThreadPool, regions: [UnsafeRawBufferPointer]) -> Double {
        let pass = streamingRead(pool: pool, regions: regions)
        return Double(pass.bytes) / pass.seconds
    }

    /// One streaming pass over `regions`: each is cut into ``StreamingRead/pieceBytes`` pieces
    /// that the pool's threads claim dynamically; a region's bytes past its last whole 128 are
    /// not read. Returns the bytes read, the wall seconds and the sum of every float read (it
    /// keeps the loads alive and lets a test check that every byte was read once).
    /// Allocates two small arrays. - Complexity: O(Σ region bytes).
    public static func streamingRead(pool: ThreadPool, regions: [UnsafeRawBufferPointer]) -> (bytes: Int, seconds: Double, checksum: Float) {
        let piece = StreamingRead.pieceBytes
        var firstPiece = [0]
        for region in regions { firstPiece.append(firstPiece.last! + (region.count + piece - 1) / piece) }
        let pieces = firstPiece.last!
        let total = regions.reduce(0) { $0 + $1.count / 128 * 128 }
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: pool.threadCount * 16)
        sums.initialize(repeating: 0, count: pool.threadCount * 16)
        defer { sums.deallocate() }
        let start = now()
        firstPiece.withUnsafeBufferPointer { firstPiece in
            pool.parallelFor(pieces, grain: 1) { mine, worker in
                var r = 0
                for p in mine {
                    while firstPiece[r + 1] <= p { r += 1 }
                    let region = regions[r], offset = (p - firstPiece[r]) * piece
                    let length = offset + piece >= region.count ? (region.count - offset) / 128 * 128 : piece
                    sums[worker * 16] += StreamingRead.sum(region.baseAddress! + offset, bytes: length)
                }
            }
        }
        let seconds = now() - start
        var checksum: Float = 0
        for worker in 0..<pool.threadCount { checksum += sums[worker * 16] }
        return (total, seconds, checksum)
    }

    /// STREAM triad bandwidth in bytes/s over three arrays of `bytes / 3` each.
    public static func triadBandwidth(pool: ThreadPool, bytes: Int, repetitions: Int) -> Double {
        let count = bytes / 12 / 8 * 8
        let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        pool.parallelFor(count) { range in
            (a + range.lowerBound).initialize(repeating: 0, count: range.count)
            (b + range.lowerBound).initialize(repeating: 1, count: range.count)
            (c + range.lowerBound).initialize(repeating: 2, count: range.count)
        }
        let scalar = SIMD8<Float>(repeating: 3)
        var best = 0.0
        for _ in 0..<repetitions {
            let start = now()
            pool.parallelFor(count / 8) { range in
                let ra = UnsafeMutableRawPointer(a), rb = UnsafeRawPointer(b), rc = UnsafeRawPointer(c)
                for i in range {
                    let v = rb.load(fromByteOffset: i * 32, as: SIMD8<Float>.self)
                        .addingProduct(scalar, rc.load(fromByteOffset: i * 32, as: SIMD8<Float>.self))
                    ra.storeBytes(of: v, toByteOffset: i * 32, as: SIMD8<Float>.self)
                }
            }
            best = max(best, Double(count * 12) / (now() - start))
        }
        return best
    }

    /// FP32 FMA peak in FLOP/s: every thread runs 12 independent 8-wide FMA chains (enough
    /// to cover latency × throughput of two FMA pipes) for `iterations` steps.
    public static func fmaPeak(pool: ThreadPool, iterations: Int = 20_000_000, repetitions: Int) -> Double {
        let sink = UnsafeMutablePointer<Float>.allocate(capacity: pool.threadCount * 16)
        defer { sink.deallocate() }
        var best = 0.0
        for _ in 0..<repetitions {
            let start = now()
            pool.forEachWorker { worker in
                sink[worker * 16] = fmaChains(iterations: iterations, seed: Float(worker))
            }
            let flops = Double(iterations) * 12 * 8 * 2 * Double(pool.threadCount)
            best = max(best, flops / (now() - start))
        }
        return best
    }

    @inline(never)
    static func fmaChains(iterations: Int, seed: Float) -> Float {
        let m = SIMD8<Float>(repeating: 0.999_999), add = SIMD8<Float>(repeating: 1e-7 * (seed + 1))
        var c0 = SIMD8<Float>(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
        var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
        for _ in 0..<iterations {
            c0 = add.addingProduct(c0, m); c1 = add.addingProduct(c1, m); c2 = add.addingProduct(c2, m)
            c3 = add.addingProduct(c3, m); c4 = add.addingProduct(c4, m); c5 = add.addingProduct(c5, m)
            c6 = add.addingProduct(c6, m); c7 = add.addingProduct(c7, m); c8 = add.addingProduct(c8, m)
            c9 = add.addingProduct(c9, m); c10 = add.addingProduct(c10, m); c11 = add.addingProduct(c11, m)
        }
        let total = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11))
        return VectorOps.horizontalSum(total)
    }
}
