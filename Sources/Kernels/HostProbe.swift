#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the host's memory and arithmetic can do, measured on all threads of a pool: the
/// roofs of the roofline that the runtime benchmark and `--hardware host` compare against.
public struct HostMeasurement: Sendable, Equatable {
    /// Read-only bandwidth from DRAM, bytes/s (STREAM-like sum over a buffer ≫ L3).
    public var readBandwidth: Double
    /// STREAM triad a = b + s·c, bytes/s counting 2 reads + 1 write per element.
    public var triadBandwidth: Double
    /// FP32 fused multiply-add peak, FLOP/s (a multiply-add counts as 2).
    public var fmaPeak: Double
    public var threads: Int
}

/// Micro-benchmarks of the host. Each probe runs `repetitions` times and keeps the best
/// (the least disturbed) run, like STREAM.
public enum HostProbe {
    /// Measures everything with default sizes (≈ 0.5 s).
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

    /// Read bandwidth in bytes/s: every thread sums its contiguous share of a `bytes` buffer
    /// with 8-wide loads into four accumulators. - Complexity: O(bytes · repetitions).
    public static func readBandwidth(pool: ThreadPool, bytes: Int, repetitions: Int) -> Double {
        let count = bytes / 4
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        pool.parallelFor(count) { range in
            (buffer + range.lowerBound).initialize(repeating: 1, count: range.count)
        }
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: pool.threadCount * 16)
        defer { sums.deallocate() }
        var best = 0.0
        for _ in 0..<repetitions {
            let start = now()
            pool.forEachWorker { worker in
                let range = ThreadPool.share(of: count / 32, part: worker, parts: pool.threadCount)
                let raw = UnsafeRawPointer(buffer)
                var a = SIMD8<Float>(), b = SIMD8<Float>(), c = SIMD8<Float>(), d = SIMD8<Float>()
                for chunk in range {
                    let offset = chunk * 128
                    a += raw.load(fromByteOffset: offset, as: SIMD8<Float>.self)
                    b += raw.load(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
                    c += raw.load(fromByteOffset: offset + 64, as: SIMD8<Float>.self)
                    d += raw.load(fromByteOffset: offset + 96, as: SIMD8<Float>.self)
                }
                sums[worker * 16] = VectorOps.horizontalSum((a + b) + (c + d))
            }
            best = max(best, Double(count / 32 * 128) / (now() - start))
        }
        return best
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
