import Foundation
import Testing
import TraceFormat
@testable import Analysis

/// Every formula against hand-computed numbers.
@Suite struct FormulaTests {
    @Test func numpyLinearPercentiles() throws {
        // numpy.percentile([1,2,3,4], q): rank = q/100·3 → p50 2.5, p90 3.7, p95 3.85, p99 3.97.
        let d = try #require(Distribution([4, 1, 3, 2]))
        #expect(d.count == 4 && d.mean == 2.5 && d.min == 1 && d.max == 4)
        #expect(abs(d.p50 - 2.5) < 1e-12 && abs(d.p90 - 3.7) < 1e-12 && abs(d.p95 - 3.85) < 1e-12 && abs(d.p99 - 3.97) < 1e-12)
        let one = try #require(Distribution([7]))
        #expect(one.p50 == 7 && one.p99 == 7)
        #expect(Distribution([]) == nil)
    }

    @Test func sloParsing() throws {
        let s = try ServiceLevelObjectives(parsing: "ttft=200ms,tpot=50ms,e2e=2s,itl=100000us")
        #expect(s.ttft == 0.2 && s.tpot == 0.05 && s.e2e == 2 && abs(s.itl! - 0.1) < 1e-15)
        #expect(try ServiceLevelObjectives(parsing: "ttft=200").ttft == 0.2)   // bare number = ms, as vLLM
        #expect(throws: AnalysisError.self) { try ServiceLevelObjectives(parsing: "ttft=fast") }
        #expect(throws: AnalysisError.self) { try ServiceLevelObjectives(parsing: "latency=2s") }
    }

    @Test func leviathanFormulas() {
        // §3.1 examples: α 0.8, γ 4 → τ = (1 − 0.8⁵)/0.2 = 3.3616; S(c 0.05) = 3.3616/1.2 = 2.80;
        // α 0.6 → τ 2.3056, S 1.92; α 0.8, c 0.2 → S = 3.3616/1.8 = 1.87.
        #expect(abs(Speculation.tau(alpha: 0.8, gamma: 4) - 3.3616) < 1e-12)
        #expect(abs(Speculation.speedup(alpha: 0.8, gamma: 4, costRatio: 0.05) - 3.3616 / 1.2) < 1e-12)
        #expect(abs(Speculation.tau(alpha: 0.6, gamma: 4) - 2.3056) < 1e-12)
        #expect(abs(Speculation.speedup(alpha: 0.6, gamma: 4, costRatio: 0.05) - 1.92) < 0.005)
        #expect(abs(Speculation.speedup(alpha: 0.8, gamma: 4, costRatio: 0.2) - 1.87) < 0.005)
        // Bisection inverts τ; vLLM's acceptance rate is (τ − 1)/γ = 0.59 at α 0.8, γ 4 (§3.2).
        #expect(abs(Speculation.solveAlpha(meanAcceptedLength: 3.3616, gamma: 4) - 0.8) < 1e-9)
        #expect(abs((3.3616 - 1) / 4 - 0.5904) < 1e-12)
        #expect(Speculation.solveAlpha(meanAcceptedLength: 1, gamma: 4) == 0)
        #expect(Speculation.solveAlpha(meanAcceptedLength: 5, gamma: 4) == 1)
        // Compute-bound verify (T_v = (γ+1)·T_1): S = τ/(γ·c + γ + 1) = 3.3616/5.2 = 0.65 (§3.3).
        #expect(abs(Speculation.batchSpeedup(tau: 3.3616, gamma: 4, costRatio: 0.05, targetStep: 1, verifyStep: 5) - 0.6465) < 1e-3)
    }

    @Test func speculationCountersFromATrace() throws {
        // γ = 4; four drafts accepting 4, 2, 0, 3 → accepted 9 of 16; mean accepted length 1 + 9/4 = 3.25;
        // per position r = (3/4, 3/4, 2/4, 1/4), α_k = (0.75, 1, 0.667, 0.5); draft 4 ms, verify 10 ms per
        // iteration (two iterations) → c = 8/(4·20) = 0.1.
        var ev: [TraceEvent] = [Fixtures.header(options: ["spec": "draft", "gamma": "4"])]
        let ms = Fixtures.ms
        for i in 0..<2 {
            let t = Int64(i) * 14 * ms
            let b = [BatchEntry(request: 1, prefillTokens: 0, decodeTokens: 5, contextLength: 100),
                     BatchEntry(request: 2, prefillTokens: 0, decodeTokens: 5, contextLength: 100)]
            ev.append(.step(StepEvent(step: Int64(i), phase: .draft, start: t, duration: 4 * ms)))
            ev.append(.step(StepEvent(step: Int64(i), phase: .verify, start: t + 4 * ms, duration: 10 * ms, batch: b)))
            let acc: [Int32] = i == 0 ? [4, 2] : [0, 3]
            ev.append(.speculation(SpeculationCounters(time: t + 14 * ms, step: Int64(i), draftLength: 4, drafted: 8,
                                                       accepted: acc[0] + acc[1],
                                                       perRequest: [.init(request: 1, drafted: 4, accepted: acc[0]),
                                                                    .init(request: 2, drafted: 4, accepted: acc[1])])))
        }
        let m = try Analyzer.analyze(ev, options: .init(hardware: "H100-SXM")).metrics
        let s = try #require(m.speculation)
        #expect(s.drafts == 4 && s.draftedTokens == 16 && s.acceptedTokens == 9 && s.gamma == 4)
        #expect(abs(s.meanAcceptedLength - 3.25) < 1e-12)
        #expect(abs(s.acceptanceRate - 9.0 / 16) < 1e-12)
        #expect(s.perPosition == [0.75, 0.75, 0.5, 0.25])
        #expect(abs(s.alphaPerPosition[2] - 2.0 / 3) < 1e-12 && s.alphaPerPosition[1] == 1)
        #expect(abs(Speculation.tau(alpha: s.alpha, gamma: 4) - 3.25) < 1e-9)
        #expect(abs(s.costRatio! - 0.1) < 1e-12)
    }

    @Test func criticalBatchAndCStar() throws {
        // §1.4/1.5: Llama 3.1 70B BF16 on H100 SXM: B_crit ≈ 460 at c = 512, ≈ 980 at 1024, none at 4096;
        // FP8 KV ≈ 360 / ≈ 450 / none. Hand values with the §1.5 formula: 459.0, 978.6, 360.6, 452.3.
        var m70 = try ModelCatalog.lookup("Llama 3.1 70B").descriptor()
        let h100 = try HardwareCatalog.lookup("H100-SXM").spec
        let ridge = h100.ridge(for: m70)
        #expect(abs(ridge - 989.4 / 3.35) < 1e-9)
        #expect(abs(m70.criticalBatch(ridge: ridge, context: 512)! - 458.99) < 0.01)
        #expect(abs(m70.criticalBatch(ridge: ridge, context: 1024)! - 978.57) < 0.01)
        #expect(m70.criticalBatch(ridge: ridge, context: 4096) == nil)
        m70.bytesPerKVElement = 1
        #expect(abs(m70.criticalBatch(ridge: ridge, context: 512)! - 360.60) < 0.01)
        #expect(abs(m70.criticalBatch(ridge: ridge, context: 1024)! - 452.31) < 0.01)
        // c* for 8B: 393 (BF16 KV) / 797 (FP8) on H100; 768 / 1579 on A100-80GB (§1.4: 390/800, 770/1580).
        var m8 = Fixtures.llama8B
        let a100 = try HardwareCatalog.lookup("A100-80GB").spec
        #expect(abs(m8.computeBoundContextLimit(ridge: ridge)! - 393.05) < 0.01)
        #expect(abs(m8.computeBoundContextLimit(ridge: a100.ridge(for: m8))! - 768.45) < 0.01)
        m8.bytesPerKVElement = 1
        #expect(abs(m8.computeBoundContextLimit(ridge: ridge)! - 797.04) < 0.01)
        #expect(abs(m8.computeBoundContextLimit(ridge: a100.ridge(for: m8))! - 1579.30) < 0.01)
        // Weights-only B_crit = I*·b_w/2 = I* for BF16.
        #expect(abs(Fixtures.llama8B.criticalBatchWeightsOnly(ridge: ridge) - ridge) < 1e-12)
        // The catalog parameter count matches models.csv's computed column exactly.
        let row = try ModelCatalog.lookup("llama 3.1 8b")
        #expect(row.descriptor().parameterCount == row.parametersComputed)
    }

    @Test func hardwareCatalogLookup() throws {
        #expect(try HardwareCatalog.lookup("H100-SXM").name == "NVIDIA H100 SXM5 80GB")
        #expect(try HardwareCatalog.lookup("nvidia h100 sxm5 80gb").bandwidthGBps == 3350)
        #expect(try HardwareCatalog.lookup("mi300x").bf16TFLOPS == 1307.4)
        let error = failure { () throws(AnalysisError) in _ = try HardwareCatalog.lookup("H100-SMX") }
        guard case let .unknownHardware(name, suggestions)? = error else {
            Issue.record("an unknown name must not resolve: \(String(describing: error))"); return
        }
        #expect(name == "H100-SMX")
        #expect(suggestions.contains("H100-SXM"))
        #expect(throws: AnalysisError.self) { try Analyzer(options: .init(hardware: "TPU v9")) }
        #expect(throws: AnalysisError.self) { try Analyzer(options: .init(whatIf: "H300")) }
        #expect(throws: AnalysisError.self) { try ModelCatalog.lookup("Llama 9 1T") }
    }

    @Test func hardwareSpecFile() throws {
        let dir = FileManager.default.temporaryDirectory
        let good = dir.appendingPathComponent("inferscope-hw-\(UUID().uuidString).json")
        try #"{"name": "My NPU", "memory_bandwidth_GBps": 1000, "bf16_dense_TFLOPS": 100, "memory_GiB": 32}"#
            .write(to: good, atomically: true, encoding: .utf8)
        let spec = try HardwareCatalog.resolve(good.path)
        #expect(spec.name == "My NPU" && spec.memoryBandwidth == 1e12 && spec.peakFLOPS["bf16"] == 1e14 && spec.origin == "user")
        let bad = dir.appendingPathComponent("inferscope-hw-\(UUID().uuidString).json")
        try #"{"name": "x", "bf16_dense_TFLOPS": 100}"#.write(to: bad, atomically: true, encoding: .utf8)
        let error = failure { () throws(AnalysisError) in _ = try HardwareCatalog.resolve(bad.path) }
        guard case let .invalidHardwareSpec(_, field, _)? = error else {
            Issue.record("missing bandwidth must be an error: \(String(describing: error))"); return
        }
        #expect(field == "memory_bandwidth_GBps")
        try? FileManager.default.removeItem(at: good)
        try? FileManager.default.removeItem(at: bad)
    }

    @Test func requestMetricsAndGoodput() throws {
        // Request 1: arrival 0, scheduled 5 ms, first token 20 ms, tokens at 30, 50 (a 2-token chunk),
        // finished at 50 with 4 tokens → TTFT 20, E2E 50, TPOT (50 − 20)/3 = 10 ms, ITL gaps 10, 20.
        // Request 2: arrival 10, first token 110, finished 110 with 1 token (TPOT undefined; 0 for goodput).
        let ms = Fixtures.ms
        let ev: [TraceEvent] = [
            Fixtures.header(),
            .request(.init(request: 1, kind: .arrival, time: 0, promptTokens: 100)),
            .request(.init(request: 1, kind: .scheduled, time: 5 * ms)),
            .request(.init(request: 2, kind: .arrival, time: 10 * ms, promptTokens: 300)),
            .request(.init(request: 1, kind: .firstToken, time: 20 * ms)),
            .request(.init(request: 1, kind: .token, time: 30 * ms)),
            .request(.init(request: 1, kind: .token, time: 50 * ms, tokens: 2)),
            .request(.init(request: 1, kind: .finished, time: 50 * ms, tokens: 4)),
            .request(.init(request: 2, kind: .scheduled, time: 60 * ms)),
            .request(.init(request: 2, kind: .firstToken, time: 110 * ms)),
            .request(.init(request: 2, kind: .finished, time: 110 * ms, tokens: 1)),
        ]
        let slo = ServiceLevelObjectives(ttft: 0.050, tpot: 0.015)
        let m = try Analyzer.analyze(ev, options: .init(hardware: "H100-SXM", slo: slo)).metrics
        #expect(m.ttft!.count == 2 && abs(m.ttft!.p50 - 0.060) < 1e-12)   // (20 + 100)/2 ms
        #expect(m.tpot!.count == 1 && abs(m.tpot!.mean - 0.010) < 1e-12)
        #expect(m.itl!.count == 2 && abs(m.itl!.mean - 0.015) < 1e-12)
        #expect(abs(m.queue!.mean - 0.0275) < 1e-12)                       // (5 + 50)/2 ms
        #expect(abs(m.duration - 0.110) < 1e-12)
        #expect(abs(m.throughput.outputTokensPerSecond - 5 / 0.110) < 1e-9)
        #expect(abs(m.throughput.inputTokensPerSecond - 400 / 0.110) < 1e-9)
        let g = try #require(m.goodput)
        #expect(g.goodRequests == 1 && g.violations == ["ttft": 1] && abs(g.attainment - 0.5) < 1e-12)
    }

    @Test func kvOccupancyAndFragmentation() throws {
        // Samples at 0, 1, 3 s (the last has no weight): usage 0.5 for 1 s, 0.95 for 2 s →
        // time-weighted mean (0.5 + 1.9)/3 = 0.8, time at ≥ 0.9 = 2/3; p95 over the samples
        // (numpy: sorted 0.2, 0.5, 0.95; rank 1.9) = 0.5 + 0.9·0.45 = 0.905.
        let s: Int64 = 1_000_000_000
        let ev: [TraceEvent] = [
            Fixtures.header(),
            .kvCache(.init(time: 0, blocksTotal: 100, blocksUsed: 50, blockSize: 16, tokensStored: 400, bytesUsed: 0,
                           slackTokens: 80, reservedTokens: 320)),
            .kvCache(.init(time: s, blocksTotal: 100, blocksUsed: 95, blockSize: 16, tokensStored: 1520, bytesUsed: 0)),
            .kvCache(.init(time: 3 * s, blocksTotal: 100, blocksUsed: 20, blockSize: 16, tokensStored: 320, bytesUsed: 0)),
        ]
        let k = try #require(try Analyzer.analyze(ev, options: .init(hardware: "H100-SXM")).metrics.kv.first)
        #expect(abs(k.meanUsage - 0.8) < 1e-12)
        #expect(abs(k.timeAtHighUsage - 2.0 / 3) < 1e-12)
        #expect(abs(k.p95Usage - 0.905) < 1e-12)
        #expect(k.peakUsage == 0.95)
        // U_tok: (400/800·1 s + 1520/1520·2 s)/3 s = 2.5/3; IF = (80/800)/3; RW = (320/800)/3.
        #expect(abs(k.tokenUtilisation! - 2.5 / 3) < 1e-12)
        #expect(abs(k.lastBlockSlack! - 0.1 / 3) < 1e-12)
        #expect(abs(k.reservationWaste! - 0.4 / 3) < 1e-12)
    }

    @Test func stepTimeFitRecoversCoefficients() throws {
        // t = 2 ms + 30 µs·n_p + 50 µs·n_d + 0.01 µs·Σctx over varied steps.
        var fit = StepTimeFit()
        for i in 0..<40 {
            let np = Double((i * 37) % 500), nd = Double((i * 11) % 64 + 1), ctx = Double((i * 7919) % 100_000)
            fit.add(prefillTokens: np, decodeTokens: nd, context: ctx, seconds: 2e-3 + 30e-6 * np + 50e-6 * nd + 1e-8 * ctx)
        }
        let m = try #require(fit.solve())
        #expect(m.terms == ["1", "n_prefill", "n_decode", "sum_ctx"])
        #expect(abs(m.intercept - 2e-3) < 1e-9 && abs(m.perPrefillToken - 30e-6) < 1e-11)
        #expect(abs(m.perDecodeToken - 50e-6) < 1e-11 && abs(m.perContextToken - 1e-8) < 1e-13)
    }

    @Test func phaseSharesAndIdleGaps() throws {
        // prefill 30 ms, gap 10 ms, decode 40 ms, explicit idle 20 ms → total 100 ms; idle share 0.3 →
        // load-or-overhead-bound at the 0.3 threshold; prefill share of busy 30/70.
        let ms = Fixtures.ms
        let b = [BatchEntry(request: 1, prefillTokens: 100, decodeTokens: 0, contextLength: 0)]
        let d = [BatchEntry(request: 1, prefillTokens: 0, decodeTokens: 1, contextLength: 100)]
        let ev: [TraceEvent] = [
            Fixtures.header(),
            .step(.init(step: 0, phase: .prefill, start: 0, duration: 30 * ms, batch: b)),
            .step(.init(step: 1, phase: .decode, start: 40 * ms, duration: 40 * ms, batch: d)),
            .step(.init(step: 2, phase: .idle, start: 80 * ms, duration: 20 * ms)),
        ]
        let r = try Analyzer.analyze(ev, options: .init(hardware: "H100-SXM"))
        let p = r.metrics.phases
        #expect(abs(p.totalSeconds - 0.1) < 1e-12 && abs(p.idleShare - 0.3) < 1e-12)
        #expect(abs(p.prefillShareOfBusy - 30.0 / 70) < 1e-12)
        #expect(r.verdict.workload == .loadOrOverheadBound)
    }

    @Test func costPerMillionTokens() {
        // $2/h for 3600 s = $2; prefill share 0.25 → $0.5 for 1M input tokens, $1.5 for 0.5M output.
        let c = CostEstimate(pricePerHour: 2, wallSeconds: 3600, prefillShare: 0.25, inputTokens: 1_000_000, outputTokens: 500_000)
        #expect(abs(c.usdPerMillionInputTokens! - 0.5) < 1e-12)
        #expect(abs(c.usdPerMillionOutputTokens! - 3.0) < 1e-12)
        #expect(abs(c.usdPerMillionTokens! - 2.0 / 1.5) < 1e-12)
    }

    @Test func whatIfScalesByRooflineRatio() throws {
        // Pure decode, memory-bound on both: the step scales by BW_H100/BW_A100 = 3350/2039.
        let r = try Scenario().analyze(.init(hardware: "H100-SXM", whatIf: "A100-80GB", pricePerHour: 1))
        let w = try #require(r.whatIf)
        let d = try #require(w.phases.first { $0.phase == .decode })
        #expect(abs(d.scale - 3350.0 / 2039) < 1e-9)
        #expect(abs(w.tpotProjected! / w.tpotMeasured! - 3350.0 / 2039) < 0.05)
        #expect(w.cost != nil)
    }
}


/// The error `body` throws, or nil.
func failure(_ body: () throws(AnalysisError) -> Void) -> AnalysisError? {
    do { try body(); return nil } catch { return error }
}

@Suite struct PrefixPotentialTests {
    @Test func fromRuntimeWorkloadClasses() throws {
        // Two classes drawn uniformly, one sharing a 100-token prefix (96 in full 16-token blocks):
        // mean reusable 48 tokens per request, one cold miss of 96 → h_pot = (n·48 − 96)/Σ prompt.
        var s = Scenario()
        s.workload = ["class.chat": "prompt=uniform(200,300) output=fixed(8) max_output=8 shared_prefix=0",
                      "class.rag": "prompt=uniform(200,300) output=fixed(8) max_output=8 shared_prefix=100"]
        let m = try s.analyze().metrics
        let n = Double(m.requests.completed)
        #expect(n > 2)
        #expect(abs(m.prefix.potentialHitRate! - (n * 48 - 96) / (n * 256)) < 1e-12)
        #expect(m.prefix.potentialSource!.hasPrefix("estimate"))
    }
}
