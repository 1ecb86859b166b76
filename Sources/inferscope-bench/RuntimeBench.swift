import Foundation
import Kernels
import KVCache
import LlamaModel
import TraceFormat

/// `inferscope-bench runtime`: prefill (pp512) and decode (tg128) tokens/s of the runtime on
/// synthetic presets, each beside its roofline bound from this host's measured read
/// bandwidth and FMA peak, and beside llama.cpp's figures from issue #3.
///
///     inferscope-bench runtime [--models stories15m,stories110m,llama-1b] [--types f32,q8_0]
///                              [--repetitions 5] [--threads N] [--kv f16] [--segment 16] [--json]
///
/// Decode (tg) is measured in segments between read-bandwidth probes (probe, segment, probe,
/// …): its roofline comes from streaming the model's own weight matrices, and its fraction of
/// the roof is the median of the per-segment fractions (see `DecodePairs`).
enum RuntimeBench {
    struct Options {
        var models = ["stories15m", "stories110m", "llama-1b"]
        var types: [TensorType] = [.f32, .q8_0]
        var repetitions = 5
        var threads = ThreadPool.onlineCores
        var kvType = KVDType.f16
        var promptTokens = 512
        var generatedTokens = 128
        var json = false
        /// Print where each test's time goes, per forward phase.
        var profile = false
        /// Measure the matrix-product kernels alone instead of the models.
        var kernels = false
        /// Decode tokens between two bandwidth probes.
        var segmentTokens = 16
        /// If > 0: only run this many read-bandwidth probes back to back and print their spread.
        var probeSpread = 0
        /// A llama-bench binary to run beside ours on the same GGUFs, alternated (`--vs-llama-cpp`).
        var llamaBench: String?
        /// `--kernel-path`: the kernels' instruction set instead of the widest (KernelPath).
        var kernelPath: String?
    }

    struct Row {
        var model: String
        var type: TensorType
        var test: String
        var tokensPerSecond: Double
        var boundTokensPerSecond: Double
        var boundKind: String
        /// CPU time the process got during the test over wall time × threads (1 = every
        /// thread ran the whole time; lower means the host was busy with other work).
        var cpuShare: Double
        var llamaCpp: Double?
        /// Decode only: the probes interleaved with it (nil for prefill).
        var pairs: DecodePairs? = nil

        /// Fraction of the roofline reached: for decode the median of the per-segment
        /// fractions against the interleaved weight-stream probes, else rate over bound.
        var fraction: Double {
            if let pairs, !pairs.weightFractions.isEmpty { return RuntimeBench.median(pairs.weightFractions) }
            return tokensPerSecond / boundTokensPerSecond
        }
    }

    /// Decode measured between bandwidth probes: probe, segment of tokens, probe, segment, …,
    /// probe. Each segment's achieved bandwidth (its roofline bytes over its time) is divided by
    /// the mean of the probes on either side of it, so the fraction compares memory read in the
    /// same minute; the host's bandwidth drifts by 2x between minutes.
    struct DecodePairs {
        /// Per segment: achieved / streaming read of the model's own weight matrices.
        var weightFractions: [Double] = []
        /// Per segment: achieved / streaming read of the 256 MiB probe buffer.
        var bufferFractions: [Double] = []
        /// Every probe pass, bytes/s.
        var weightProbes: [Double] = []
        var bufferProbes: [Double] = []
        /// Achieved bytes/s of each segment.
        var achieved: [Double] = []
    }

    /// llama.cpp b4748, 2 threads, f16 KV, on this machine kind (issue #3): model → (f32 pp512,
    /// f32 tg128, q8_0 pp512, q8_0 tg128).
    static let llamaCpp: [String: (Double, Double, Double, Double)] = [
        "stories15m": (3325, 232, 3583, 581),
        "stories110m": (393, 44.7, 384, 111),
        "llama-1b": (44.5, 5.56, 44.3, 14.5),
    ]

    static func run(_ arguments: [String]) -> Int32 {
        let usage = """
            USAGE: inferscope-bench runtime [--models stories15m,stories110m,llama-1b] [--types f32,q8_0]
                                            [--repetitions N] [--threads N] [--kv f32|f16|int8|int4]
                                            [--prompt N] [--generate N] [--segment N] [--profile] [--kernels]
                                            [--probe-spread N] [--json] [--kernel-path auto|avx512|avx-vnni|avx2]
                                            [--vs-llama-cpp LLAMA_BENCH]
              --kernel-path P   force the kernels' instruction set (default: the widest this CPU runs)
              --vs-llama-cpp B  run llama-bench binary B on the same models exported as GGUF, alternated
                                (round A llama.cpp first, round B ours first), and print ours / llama.cpp
              --segment N       decode tokens between two read-bandwidth probes (default 16)
              --profile         print the share of each forward phase per test
              --kernels         measure the matrix-product kernels alone (GB/s, GFLOP/s)
              --probe-spread N  only run N read-bandwidth probe passes and print their spread
            """
        if arguments.contains("--help") || arguments.contains("-h") { print(usage); return 0 }
        let options: Options
        do { options = try parse(arguments) } catch {
            FileHandle.standardError.write(Data("error: \(error.message)\n\(usage)\n".utf8))
            return 2
        }
        if let name = options.kernelPath {
            // Chosen before any kernel runs: KernelPath.detected reads this once.
            do { _ = try KernelPath.resolve(name) } catch {
                FileHandle.standardError.write(Data("error: --kernel-path: \(error)\n".utf8))
                return 2
            }
            setenv("INFERSCOPE_KERNEL_PATH", name, 1)
        }
        if let binary = options.llamaBench, let problem = llamaBenchProblem(binary, options: options) {
            FileHandle.standardError.write(Data("error: --vs-llama-cpp: \(problem)\n".utf8))
            return 2
        }
        let pool = ThreadPool(threadCount: options.threads)
        if !options.json { print("measuring host (read bandwidth, triad, FMA peak) on \(pool.threadCount) threads…") }
        let host = HostProbe.measure(pool: pool)
        let probeMemory = makeProbeBuffer(pool: pool)
        let probeBuffer = UnsafeRawBufferPointer(start: probeMemory.base, count: probeMemory.byteCount)
        if options.probeSpread > 0 {
            measureProbeSpread(passes: options.probeSpread, pool: pool, buffer: probeBuffer)
            return 0
        }
        if !options.json {
            let read = host.readBandwidth / 1e9, triad = host.triadBandwidth / 1e9, peak = host.fmaPeak / 1e9
            print(String(format: "host: read %.1f GB/s, triad %.1f GB/s, FP32 FMA %.1f GFLOP/s", read, triad, peak))
        }
        if !options.json { print("kernel path: \(KernelPath.detected) (CPU: \(KernelPath.cpuFeatureSummary))") }
        if let binary = options.llamaBench {
            return runVsLlamaCpp(binary: binary, options: options, pool: pool, probeBuffer: probeBuffer)
        }
        if options.kernels {
            measureKernels(options: options, pool: pool, host: host)
            measureSmallBatches(options: options, pool: pool)
            return 0
        }
        var rows: [Row] = []
        for name in options.models {
            let preset = ModelPreset.named(name)!
            for type in options.types {
                if !options.json { print("generating \(name) \(type) weights…") }
                let weights = preset.makeWeights(type: type, seed: 1)
                if !options.json { printHugePageResidency(weights) }
                // Re-measure the roofs next to each pair of tests: a shared host drifts.
                let local = HostProbe.measure(pool: pool, repetitions: 3)
                rows += measure(name: name, weights: weights, options: options, pool: pool, host: local, probeBuffer: probeBuffer)
                if !options.json { printRows(rows.suffix(2)) }
            }
        }
        if options.json { print(json(rows, host: host, options: options)) } else { print(""); printTable(rows) }
        return 0
    }

    // MARK: - Measuring

    static func measure(name: String, weights: ModelWeights, options: Options, pool: ThreadPool, host: HostMeasurement,
                        probeBuffer: UnsafeRawBufferPointer) -> [Row] {
        let c = weights.config
        let p = options.promptTokens, g = options.generatedTokens
        let transformer = Transformer(weights: weights, maxBatchTokens: p, maxLogitRows: 1, maxContext: max(p, g), pool: pool)
        let blockSize = 16
        let blocks = (max(p, g) + blockSize - 1) / blockSize
        let kv = try! KVCacheStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, blockSize: blockSize,
                                     blockCount: blocks, dtype: options.kvType)
        let table = (0..<blocks).map(Int32.init)
        let descriptor = weights.descriptor(name: name, source: "preset:\(name)", kvType: options.kvType.description,
                                            bytesPerKVElement: options.kvType.bytesPerElement)
        var batch = ForwardBatch()
        let prompt = (0..<p).map { Int32(($0 * 7919 + 1) % c.vocabSize) }

        var cpuSeconds = 0.0
        // pp: one step of p tokens from an empty cache, logits for the last.
        func prefill() -> Double {
            batch.removeAll()
            batch.append(tokens: prompt, startPosition: 0, blockTable: table, logits: .last)
            let start = HostProbe.now(), cpuStart = processCPUSeconds()
            _ = transformer.forward(batch, kv: kv)
            cpuSeconds += processCPUSeconds() - cpuStart
            return HostProbe.now() - start
        }
        // tg: g single-token steps from an empty cache, greedy, in segments of
        // `segmentTokens` with a read-bandwidth probe before each and after the last.
        let weightRegions = decodeWeightRegions(weights)
        func stepBytes(_ position: Int) -> Double {
            descriptor.forwardCost(batch: [BatchEntry(request: RequestID(0), prefillTokens: 0, decodeTokens: 1,
                                                      contextLength: Int32(position))], logitRows: 1).bytes
        }
        func generate(_ pairs: inout DecodePairs?) -> Double {
            var token: Int32 = 1
            var elapsed = 0.0
            var position = 0
            func probe() {
                guard pairs != nil else { return }
                pairs!.weightProbes.append(HostProbe.streamingReadBandwidth(pool: pool, regions: weightRegions))
                pairs!.bufferProbes.append(HostProbe.streamingReadBandwidth(pool: pool, regions: [probeBuffer]))
            }
            probe()
            while position < g {
                let end = min(g, position + options.segmentTokens)
                var bytes = 0.0
                let start = HostProbe.now(), cpuStart = processCPUSeconds()
                for p in position..<end {
                    batch.removeAll()
                    batch.append(tokens: CollectionOfOne(token), startPosition: p, blockTable: table, logits: .last)
                    token = argmax(transformer.forward(batch, kv: kv).row(0))
                }
                let seconds = HostProbe.now() - start
                cpuSeconds += processCPUSeconds() - cpuStart
                elapsed += seconds
                for p in position..<end { bytes += stepBytes(p) }
                position = end
                probe()
                if pairs != nil {
                    let n = pairs!.weightProbes.count
                    let achieved = bytes / seconds
                    pairs!.achieved.append(achieved)
                    pairs!.weightFractions.append(achieved / ((pairs!.weightProbes[n - 2] + pairs!.weightProbes[n - 1]) / 2))
                    pairs!.bufferFractions.append(achieved / ((pairs!.bufferProbes[n - 2] + pairs!.bufferProbes[n - 1]) / 2))
                }
            }
            return elapsed
        }
        _ = prefill()
        transformer.profiling = options.profile
        cpuSeconds = 0
        let ppTimes = (0..<options.repetitions).map { _ in prefill() }
        let ppTime = median(ppTimes)
        let ppShare = cpuSeconds / (ppTimes.reduce(0, +) * Double(pool.threadCount))
        if options.profile { printProfile("\(name) \(weights.weightType) pp\(p)", transformer) }
        var none: DecodePairs? = nil
        var pairs: DecodePairs? = DecodePairs()
        _ = generate(&none)
        cpuSeconds = 0
        let tgTimes = (0..<options.repetitions).map { _ in generate(&pairs) }
        let tgTime = median(tgTimes)
        let tgShare = cpuSeconds / (tgTimes.reduce(0, +) * Double(pool.threadCount))
        if options.profile { printProfile("\(name) \(weights.weightType) tg\(g)", transformer) }

        // Roofline: a step takes at least max(FLOPs / peak, bytes / bandwidth).
        let ppCost = descriptor.forwardCost(batch: [BatchEntry(request: RequestID(0), prefillTokens: Int32(p), decodeTokens: 0, contextLength: 0)], logitRows: 1)
        let ppBound = Double(p) / max(ppCost.flops / host.fmaPeak, ppCost.bytes / host.readBandwidth)
        // Decode's roof: the median streaming read of its own weights, probed between segments.
        let decodeBandwidth = median(pairs!.weightProbes)
        var tgSeconds = 0.0
        for position in 0..<g {
            let cost = descriptor.forwardCost(batch: [BatchEntry(request: RequestID(0), prefillTokens: 0, decodeTokens: 1, contextLength: Int32(position))], logitRows: 1)
            tgSeconds += max(cost.flops / host.fmaPeak, cost.bytes / decodeBandwidth)
        }
        let tgBound = Double(g) / tgSeconds
        let reference = llamaCpp[name]
        let f32 = weights.weightType == .f32
        return [
            Row(model: name, type: weights.weightType, test: "pp\(p)", tokensPerSecond: Double(p) / ppTime,
                boundTokensPerSecond: ppBound, boundKind: ppCost.flops / host.fmaPeak > ppCost.bytes / host.readBandwidth ? "compute" : "memory", cpuShare: ppShare,
                llamaCpp: p == 512 ? reference.map { f32 ? $0.0 : $0.2 } : nil),
            Row(model: name, type: weights.weightType, test: "tg\(g)", tokensPerSecond: Double(g) / tgTime,
                boundTokensPerSecond: tgBound, boundKind: "memory", cpuShare: tgShare, llamaCpp: g == 128 ? reference.map { f32 ? $0.1 : $0.3 } : nil,
                pairs: pairs),
        ]
    }

    /// The memory a decode step streams: every layer's projection matrices and the LM head
    /// (norms and the one embedding row per token are negligible).
    static func decodeWeightRegions(_ weights: ModelWeights) -> [UnsafeRawBufferPointer] {
        var matrices: [WeightMatrix] = []
        for l in weights.layers { matrices += [l.wq, l.wk, l.wv, l.wo, l.gate, l.up, l.down] }
        matrices.append(weights.output)
        return matrices.map { UnsafeRawBufferPointer(start: $0.base, count: $0.byteCount) }
    }

    /// How much of the decode-read weight memory is backed by huge pages right now.
    static func printHugePageResidency(_ weights: ModelWeights) {
        let regions = decodeWeightRegions(weights)
        let total = regions.reduce(0) { $0 + $1.count }
        let huge = regions.reduce(0) { $0 + (HugePageMemory.residentHugePageBytes(in: $1) ?? 0) }
        print(String(format: "  weights read per decode step: %.0f MiB, %.0f%% in huge pages", Double(total) / 1048576,
                     100 * Double(huge) / Double(max(total, 1))))
    }

    /// `--probe-spread N`: N read-bandwidth passes over a 256 MiB buffer, back to back, one
    /// line per pass and the spread (what the decode fraction's denominator varies by).
    static func measureProbeSpread(passes: Int, pool: ThreadPool, buffer: UnsafeRawBufferPointer) {
        var values: [Double] = []
        for i in 0..<passes {
            let v = HostProbe.streamingReadBandwidth(pool: pool, regions: [buffer])
            values.append(v)
            print(String(format: "pass %d: %.1f GB/s", i, v / 1e9))
        }
        let sorted = values.sorted()
        print(String(format: "read probe over %d passes: min %.1f, median %.1f, max %.1f GB/s (max/min %.2f)", passes,
                     sorted.first! / 1e9, median(values) / 1e9, sorted.last! / 1e9, sorted.last! / sorted.first!))
    }

    /// The 256 MiB huge-page buffer the interleaved probes read, first touched by all threads.
    static func makeProbeBuffer(pool: ThreadPool) -> HugePageMemory {
        let memory = HugePageMemory(byteCount: 256 << 20)
        pool.parallelFor(memory.byteCount / 4) { range in
            (memory.base.assumingMemoryBound(to: Float.self) + range.lowerBound).initialize(repeating: 1, count: range.count)
        }
        return memory
    }

    /// Matrix products alone: the streaming path (m = 1) in GB/s of weights, each timing
    /// paired with a streaming read of the same matrix memory just before it (median of the
    /// per-pair fractions), and the blocked path (m = 512) in GFLOP/s against the FMA peak.
    static func measureKernels(options: Options, pool: ThreadPool, host: HostMeasurement) {
        let multiplier = MatrixMultiplier(pool: pool)
        for type in options.types {
            for (m, n, k) in [(1, 32000, 2048), (1, 8192, 2048), (1, 2048, 8192), (1, 32000, 288), (512, 2048, 2048), (512, 768, 288), (512, 288, 768), (512, 288, 288), (512, 8192, 2048)] {
                let preset = ModelPreset(name: "k", config: ModelConfig(dim: k, hiddenDim: 32, layers: 0, heads: 1, kvHeads: 1,
                                                                       vocabSize: n, maxSeqLen: 1))
                let weights = preset.makeWeights(type: type, seed: 3)
                let w = weights.tokenEmbedding
                let region = [UnsafeRawBufferPointer(start: w.base, count: w.byteCount)]
                let x = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
                // Activations that vary like a layer's (a constant x would quantize trivially).
                for i in 0..<m * k { x[i] = sin(Float(i) * 0.37) * (1 + Float(i % 7)) }
                let y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
                defer { x.deallocate(); y.deallocate() }
                multiplier.multiply(x, rows: m, MatmulTarget(w, y))
                var times: [Double] = [], fractions: [Double] = []
                for _ in 0..<max(3, options.repetitions) {
                    let probe = m == 1 ? HostProbe.streamingReadBandwidth(pool: pool, regions: region) : host.readBandwidth
                    let start = HostProbe.now()
                    multiplier.multiply(x, rows: m, MatmulTarget(w, y))
                    let t = HostProbe.now() - start
                    times.append(t)
                    fractions.append(Double(w.byteCount) / t / probe)
                }
                let t = median(times)
                let gbs = Double(w.byteCount) / t / 1e9, gflops = 2 * Double(m * n * k) / t / 1e9
                print(String(format: "%@ m=%d n=%d k=%d: %.3f ms, %.1f GB/s (%.0f%% of streaming read%@), %.1f GFLOP/s (%.0f%% of peak)",
                             type.description, m, n, k, t * 1e3, gbs, 100 * median(fractions), m == 1 ? " of it, paired" : "",
                             gflops, 100 * gflops * 1e9 / host.fmaPeak))
            }
        }
    }

    /// Small batches (m = 1…64 rows, the decode of that many sequences) through both paths of
    /// ``MatrixMultiplier`` on one 8192 × 2048 matrix (gate of llama-1b), alternated: the
    /// streaming path (`smallM` = 64) and the blocked GEMM (`smallM` = 0). Prints ms per product
    /// for each and which the default `smallM` picks.
    static func measureSmallBatches(options: Options, pool: ThreadPool) {
        let streaming = MatrixMultiplier(pool: pool, smallM: 64), blocked = MatrixMultiplier(pool: pool, smallM: 0)
        let chosen = MatrixMultiplier(pool: pool).smallM
        let (n, k) = (8192, 2048)
        for type in options.types {
            let preset = ModelPreset(name: "k", config: ModelConfig(dim: k, hiddenDim: 32, layers: 0, heads: 1, kvHeads: 1,
                                                                   vocabSize: n, maxSeqLen: 1))
            let weights = preset.makeWeights(type: type, seed: 3)  // owns the memory behind w
            let w = weights.tokenEmbedding
            let x = UnsafeMutablePointer<Float>.allocate(capacity: 64 * k)
            x.initialize(repeating: 0.5, count: 64 * k)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: 64 * n)
            defer { x.deallocate(); y.deallocate(); withExtendedLifetime(weights) {} }
            for m in [1, 2, 4, 8, 12, 16, 24, 32, 48, 64] {
                var times: [[Double]] = [[], []]
                for _ in 0..<max(3, options.repetitions) {
                    for (i, multiplier) in [streaming, blocked].enumerated() {
                        let start = HostProbe.now()
                        multiplier.multiply(x, rows: m, MatmulTarget(w, y))
                        times[i].append(HostProbe.now() - start)
                    }
                }
                let s = median(times[0]), b = median(times[1])
                print(String(format: "%@ m=%2d n=%d k=%d: streaming %.3f ms (%.0f GFLOP/s), blocked %.3f ms (%.0f GFLOP/s), "
                             + "streaming/blocked %.2f; default takes %@", type.description, m, n, k, s * 1e3,
                             2 * Double(m * n * k) / s / 1e9, b * 1e3, 2 * Double(m * n * k) / b / 1e9, s / b,
                             m <= chosen ? "streaming" : "blocked"))
            }
        }
    }

    static func printProfile(_ title: String, _ transformer: Transformer) {
        let total = transformer.phaseSeconds.reduce(0, +)
        print("  profile \(title) (share of forward time):")
        for phase in ForwardPhase.allCases {
            let seconds = transformer.phaseSeconds[phase.rawValue]
            print("    " + phase.description.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: " %5.1f%%", 100 * seconds / total))
        }
        transformer.resetProfile()
    }

    /// User + system CPU seconds of the whole process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }

    static func argmax(_ row: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in row.indices where row[i] > row[best] { best = i }
        return Int32(best)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    // MARK: - Output

    static func printRows(_ rows: some Collection<Row>) {
        for r in rows {
            print(String(format: "  %@ %@ %@: %.2f t/s (bound %.2f, %.0f%%; cpu share %.0f%%)", r.model, r.type.description, r.test,
                         r.tokensPerSecond, r.boundTokensPerSecond, 100 * r.fraction, 100 * r.cpuShare))
            if let pairs = r.pairs {
                let w = pairs.weightProbes.sorted(), b = pairs.bufferProbes.sorted(), f = pairs.weightFractions.sorted()
                let a = pairs.achieved.sorted()
                print(String(format: "    %d segments: achieved %.1f GB/s (%.1f–%.1f); weight-stream probe %.1f GB/s (%.1f–%.1f), "
                             + "256 MiB probe %.1f GB/s (%.1f–%.1f); per-segment fraction of weight stream %.0f%% (%.0f–%.0f%%), "
                             + "of 256 MiB probe %.0f%%", pairs.achieved.count, median(a) / 1e9, a.first! / 1e9, a.last! / 1e9,
                             median(w) / 1e9, w.first! / 1e9, w.last! / 1e9, median(b) / 1e9, b.first! / 1e9, b.last! / 1e9,
                             100 * median(f), 100 * f.first!, 100 * f.last!, 100 * median(pairs.bufferFractions)))
            }
            fflush(nil)
        }
    }

    /// The table. "cpu share" is the CPU time the process got over wall time × threads;
    /// "t/s ÷ share" scales the rate to a host where it had every core to itself — an
    /// estimate for compute-bound tests, not a measurement.
    static func printTable(_ rows: [Row]) {
        let header = ["model", "type", "test", "t/s", "roofline t/s", "bound", "of roof", "cpu share", "t/s ÷ share",
                      "llama.cpp t/s", "vs llama.cpp"]
        var lines = [header]
        for r in rows {
            lines.append([r.model, r.type.description, r.test, String(format: "%.2f", r.tokensPerSecond),
                          String(format: "%.2f", r.boundTokensPerSecond), r.boundKind,
                          String(format: "%.0f%%", 100 * r.fraction),
                          String(format: "%.0f%%", 100 * r.cpuShare),
                          String(format: "%.2f", r.tokensPerSecond / max(r.cpuShare, 1e-9)),
                          r.llamaCpp.map { String(format: "%.2f", $0) } ?? "-",
                          r.llamaCpp.map { String(format: "%.2fx", r.tokensPerSecond / $0) } ?? "-"])
        }
        let widths = header.indices.map { i in lines.map { $0[i].count }.max()! }
        for (n, line) in lines.enumerated() {
            print("| " + line.enumerated().map { i, cell in
                i < 3 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                      : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: " | ") + " |")
            if n == 0 { print("|" + widths.enumerated().map { i, w in i < 3 ? String(repeating: "-", count: w + 2) : String(repeating: "-", count: w + 1) + ":" }.joined(separator: "|") + "|") }
        }
    }

    static func json(_ rows: [Row], host: HostMeasurement, options: Options) -> String {
        func number(_ v: Double) -> String { String(format: "%.4g", v) }
        var out = "{\n  \"host\": {\"fmaPeakFLOPS\": \(number(host.fmaPeak)), \"readBandwidthBytesPerSecond\": \(number(host.readBandwidth)), "
        out += "\"threads\": \(host.threads), \"triadBandwidthBytesPerSecond\": \(number(host.triadBandwidth))},\n"
        out += "  \"kvType\": \"\(options.kvType)\",\n  \"repetitions\": \(options.repetitions),\n  \"results\": [\n"
        out += rows.map { r in
            var fields = ["\"bound\": \"\(r.boundKind)\"", "\"cpuShare\": \(number(r.cpuShare))",
                          "\"fractionOfRoofline\": \(number(r.fraction))"]
            if let pairs = r.pairs {
                fields += ["\"fractionOfProbeBuffer\": \(number(median(pairs.bufferFractions)))",
                           "\"probeBufferBytesPerSecond\": \(number(median(pairs.bufferProbes)))",
                           "\"weightStreamBytesPerSecond\": \(number(median(pairs.weightProbes)))",
                           "\"weightStreamMaxBytesPerSecond\": \(number(pairs.weightProbes.max()!))",
                           "\"weightStreamMinBytesPerSecond\": \(number(pairs.weightProbes.min()!))"]
            }
            if let l = r.llamaCpp { fields += ["\"llamaCppTokensPerSecond\": \(number(l))", "\"ratioToLlamaCpp\": \(number(r.tokensPerSecond / l))"] }
            fields += ["\"model\": \"\(r.model)\"", "\"rooflineTokensPerSecond\": \(number(r.boundTokensPerSecond))",
                       "\"test\": \"\(r.test)\"", "\"tokensPerSecond\": \(number(r.tokensPerSecond))", "\"type\": \"\(r.type)\""]
            return "    {" + fields.joined(separator: ", ") + "}"
        }.joined(separator: ",\n")
        return out + "\n  ]\n}"
    }

    // MARK: - Arguments

    static func parse(_ arguments: [String]) throws(BenchUsageError) -> Options {
        var options = Options()
        var a = BenchArguments(arguments)
        while let flag = a.next() {
            switch flag {
            case "--json": options.json = true
            case "--profile": options.profile = true
            case "--kernels": options.kernels = true
            case "--vs-llama-cpp": options.llamaBench = try a.value(flag)
            case "--kernel-path": options.kernelPath = try a.value(flag)
            case "--segment": options.segmentTokens = try a.positive(flag)
            case "--probe-spread": options.probeSpread = try a.positive(flag)
            case "--models":
                options.models = try a.value(flag).split(separator: ",").map(String.init)
                for m in options.models where ModelPreset.named(m) == nil {
                    throw BenchUsageError(message: "--models: unknown preset '\(m)'; expected one of \(ModelPreset.all.map(\.name).joined(separator: ", "))")
                }
            case "--types":
                var types: [TensorType] = []
                for name in try a.value(flag).split(separator: ",") {
                    guard let t = TensorType(name: String(name)) else {
                        throw BenchUsageError(message: "--types: unknown type '\(name)'; expected f32, f16, q8_0 or q4_0")
                    }
                    types.append(t)
                }
                options.types = types
            case "--repetitions", "-r": options.repetitions = try a.positive(flag)
            case "--threads", "-t": options.threads = try a.positive(flag)
            case "--prompt": options.promptTokens = try a.positive(flag)
            case "--generate": options.generatedTokens = try a.positive(flag)
            case "--kv":
                let name = try a.value(flag)
                guard let t = KVDType(name: name) else { throw BenchUsageError(message: "--kv: unknown KV type '\(name)'; expected f32, f16, int8 or int4") }
                options.kvType = t
            default: throw BenchUsageError(message: "unknown flag '\(flag)'")
            }
        }
        return options
    }
}
