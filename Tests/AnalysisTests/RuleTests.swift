import Testing
import TraceFormat
@testable import Analysis
@testable import Reporting

/// For each rule R1–R11 a constructed trace that must trigger it and one that must not.
@Suite struct RuleTests {
    // R1: static batches of 4 whose outputs are 10, 2, 2, 2 tokens → U_slot = 16/40 = 0.4.
    /// `paddedRows`: finished members keep their slot as a padding row until the batch ends, as
    /// InferScope's own static scheduler (and HF `generate`) computes them.
    static func staticBatches(scheduler: String, paddedRows: Bool = false) -> [TraceEvent] {
        var ev: [TraceEvent] = [Fixtures.header(options: ["scheduler": scheduler])]
        var t: Int64 = 0
        var id: RequestID = 0
        var step: Int64 = 0
        for _ in 0..<3 {
            let ids = (0..<4).map { id + RequestID($0) }
            id += 4
            let outputs = [10, 2, 2, 2]
            for r in ids {
                ev.append(.request(RequestEvent(request: r, kind: .arrival, time: t, promptTokens: 100)))
                ev.append(.request(RequestEvent(request: r, kind: .scheduled, time: t)))
            }
            let prompts: [Int32] = [100, 100, 50, 50]
            ev.append(.step(StepEvent(step: step, phase: .prefill, start: t, duration: 20 * Fixtures.ms,
                                      batch: zip(ids, prompts).map { BatchEntry(request: $0, prefillTokens: $1, decodeTokens: 0, contextLength: 0) })))
            step += 1
            t += 20 * Fixtures.ms
            for r in ids { ev.append(.request(RequestEvent(request: r, kind: .firstToken, time: t))) }
            var produced = [1, 1, 1, 1]
            for _ in 1..<10 {
                let active = (0..<4).filter { produced[$0] < outputs[$0] }
                let rows = paddedRows ? Array(0..<4) : active
                ev.append(.step(StepEvent(step: step, phase: .decode, start: t, duration: 10 * Fixtures.ms,
                                          batch: rows.map { BatchEntry(request: ids[$0], prefillTokens: 0, decodeTokens: 1, contextLength: 100) })))
                step += 1
                t += 10 * Fixtures.ms
                for i in active {
                    ev.append(.request(RequestEvent(request: ids[i], kind: .token, time: t)))
                    produced[i] += 1
                    if produced[i] == outputs[i] { ev.append(.request(RequestEvent(request: ids[i], kind: .finished, time: t, tokens: Int32(outputs[i])))) }
                }
            }
        }
        return ev
    }

    @Test func r1ContinuousBatching() throws {
        let on = try Analyzer.analyze(Self.staticBatches(scheduler: "static"), options: .init(hardware: "H100-SXM"))
        let r1 = on.rule("R1")
        #expect(r1.status == .triggered)
        // U_slot = (10+2+2+2)/(4·10)?  Decode steps only: active slots per step (4,1,1,…) over formed 4:
        // step 1 has 4 active (outputs ≥ 2), steps 2–9 have 1 → Σ active = 4 + 8 = 12 of 9·4 = 36 → 1/3.
        #expect(abs(on.metrics.staticBatching.slotUtilisation! - 12.0 / 36) < 1e-12)
        #expect(abs(r1.gains[.throughput]!.factor - 3) < 1e-9)
        // W_pad = 1 − 300/(4·100) = 0.25.
        #expect(abs(on.metrics.staticBatching.paddingWaste! - 0.25) < 1e-12)
        #expect(r1.runtimeChange == ["scheduler": "continuous"])
        let off = try Analyzer.analyze(Self.staticBatches(scheduler: "continuous"), options: .init(hardware: "H100-SXM"))
        #expect(off.rule("R1").status == .notTriggered)
    }

    /// Padding rows (decode entries of requests that already finished) hold slots but produce
    /// nothing: the same waste, 12 useful of 36 slot-steps, and the same predicted 3×.
    @Test func r1CountsPaddingRowsAsIdleSlots() throws {
        let padded = try Analyzer.analyze(Self.staticBatches(scheduler: "static", paddedRows: true), options: .init(hardware: "H100-SXM"))
        #expect(padded.metrics.staticBatching.detected)
        #expect(padded.metrics.staticBatching.formations == 3)
        #expect(abs(padded.metrics.staticBatching.slotUtilisation! - 12.0 / 36) < 1e-12)
        #expect(abs(padded.rule("R1").gains[.throughput]!.factor - 3) < 1e-9)
    }

    @Test func r2PagedKV() throws {
        var s = Scenario()
        s.options["kv_layout"] = "contiguous"
        s.tokenUtilisation = 0.4
        s.reservedTokens = 1000
        let on = try s.analyze()
        #expect(on.rule("R2").status == .triggered)
        #expect(abs(on.metrics.kv[0].tokenUtilisation! - 0.4) < 1e-3)
        #expect(on.rule("R2").runtimeChange == ["kv_layout": "paged"])
        let off = try Scenario().analyze()
        #expect(off.rule("R2").status == .notTriggered)
    }

    /// Requests wait while slots are free and the pool is more than half full: KV memory, not the
    /// cap, holds admission back (a contiguous pool is full well below 90% usage). The run is then
    /// capacity-bound, and R2/R3 predict throughput, TTFT and TPOT from the larger batch that fits
    /// (``CapacityProjection``; issue #14's chat-contiguous scenario).
    @Test func kvBlockedAdmissionMakesARunCapacityBoundAndR2PredictsFromTheBatchThatFits() throws {
        var s = Scenario()
        s.options["kv_layout"] = "contiguous"
        s.options["max_num_seqs"] = "64"
        s.workload["arrival"] = "closed:16"
        s.batch = 4
        s.tokenUtilisation = 0.4
        s.reservedTokens = 1000
        s.kvUsage = 0.7
        s.waiting = 6
        s.queueDelay = 400_000_000
        let r = try s.analyze()
        let blocked = try #require(r.verdict.capacityEvidence.first { $0.name.hasPrefix("share of samples with requests waiting for KV blocks") })
        #expect(blocked.holds && r.verdict.capacityBound == true)
        #expect(r.verdict.capacityEvidence.first { $0.name.hasPrefix("time share at KV usage") }?.holds == false)
        let r2 = r.rule("R2")
        #expect(r2.status == .triggered)
        let thr = try #require(r2.gains[.throughput]), ttft = try #require(r2.gains[.ttft]), tpot = try #require(r2.gains[.tpot])
        #expect(thr.factor > 1 && ttft.factor > 1 && tpot.factor <= 1)
        // B_new = min(B/U_tok, N·decode share), from the gain's own inputs.
        let i = ttft.inputs
        let b = try #require(i["B"]), bNew = try #require(i["B_new"]), n = try #require(i["N_offered"]), d = try #require(i["decode_share_of_service"])
        #expect(n == 16)
        #expect(abs(bNew - min(b / 0.4, n * d)) < 1e-3 * bNew)
        // TTFT/(TTFT − q + q·W(B_new)/W(B)), W(K) = max(0, N/K − 1)·S·T(K)/T(B)·(R − K)/R.
        let q = i["queue_mean_s"]!, t = i["TTFT_mean_s"]!, sv = i["S_service_s"]!, rr = i["R_requests"]!
        let t0 = i["T(B)_s"]!, t1 = i["T(B_new)_s"]!
        func w(_ k: Double, _ tk: Double) -> Double { max(0, n / k - 1) * sv * tk / t0 * max(0, rr - k) / rr }
        #expect(abs(ttft.factor - t / (t - q + q * w(bNew, t1) / w(b, t0))) < 1e-9 * ttft.factor)
        #expect(abs(tpot.factor - t0 / t1) < 1e-12)
        // Fired rules with their own throughput gain that the greedy ranking left out are named
        // as superseded, with the gain they would have alone — not as "no predicted gain".
        let text = TextReport.render(r)
        let unranked = r.recommendations.filter { rec in
            rec.status == .triggered && (rec.gains[.throughput]?.factor ?? 0) > 1 && !r.ranking.entries.contains { $0.id == rec.id }
        }
        #expect(!unranked.isEmpty)
        for rec in unranked {
            #expect(text.contains("\(rec.id) (throughput ×"))
            #expect(!text.contains("no predicted gain on throughput: \(rec.id) ("))
        }
        // The same run with the pool under half full: the wait is not for KV (R13's territory).
        s.kvUsage = 0.3
        let low = try s.analyze()
        #expect(low.verdict.capacityEvidence.first { $0.name.hasPrefix("share of samples with requests waiting for KV blocks") }?.holds == false)
        // Without the cap in the header the analyzer cannot tell free slots: no such evidence.
        s.kvUsage = 0.7
        s.options["max_num_seqs"] = nil
        let unknown = try s.analyze()
        #expect(unknown.verdict.capacityEvidence.contains { $0.name.hasPrefix("share of samples with requests waiting for KV blocks") } == false)
    }

    /// With the runtime's attention probe in the header, R3 prices the KV type change by the
    /// measured kernels, not by bytes: a target type whose rows cost more to decode predicts a
    /// slower step (issue #14: int8 KV measured ×0.59 TPOT where bytes said ×1.07).
    @Test func r3UsesTheMeasuredAttentionKernelsWhenTheTraceHasThem() throws {
        var s = Scenario()
        s.batch = 48
        s.context = 1800
        let bytes = try s.analyze().rule("R3")
        let target = try #require(bytes.runtimeChange?["kv_dtype"])
        #expect(bytes.gains[.tpot]!.formula == "(W+K)/(W+K/r)")
        s.options["threads"] = "4"
        s.options["probe.kv_attention_ns_per_token.\(s.model.kvType)"] = "100"
        s.options["probe.kv_attention_ns_per_token.\(target)"] = "250"
        let r = try s.analyze()
        let g = try #require(r.rule("R3").gains[.tpot])
        let i = g.inputs
        #expect(abs(i["t_current_s"]! - 100e-9) < 1e-18 && abs(i["t_target_s"]! - 250e-9) < 1e-18 && i["threads"] == 4)
        let expected = i["T_s"]! / (i["T_s"]! + i["B"]! * i["c"]! * (i["t_target_s"]! - i["t_current_s"]!) / 4)
        #expect(abs(g.factor - expected) < 1e-12 && g.factor < 1)
        #expect(abs(r.features.kvAttentionSecondsPerToken[target]! - 250e-9) < 1e-18)
        // A cheaper target kernel predicts a faster step.
        s.options["probe.kv_attention_ns_per_token.\(target)"] = "40"
        #expect(try s.analyze().rule("R3").gains[.tpot]!.factor > 1)
    }

    @Test func r3KVQuantization() throws {
        var s = Scenario()
        s.batch = 48
        s.context = 1800
        #expect(try s.analyze().rule("R3").status == .triggered)
        var small = Scenario()
        small.batch = 1
        small.context = 100
        let off = try small.analyze()
        #expect(off.rule("R3").status == .notTriggered)
        #expect(off.features.kvByteShare! < 0.3)
    }

    @Test func r4Speculation() throws {
        var s = Scenario()
        s.batch = 8
        s.context = 1024
        let on = try s.analyze()
        // Every condition holds except the measured α: the trace has no speculation counters, so
        // R4 does not fire on the assumed α (issue #14) while still showing the what-if gain.
        let r4 = on.rule("R4")
        #expect(r4.status == .notTriggered)
        #expect(r4.conditions.filter { !$0.holds }.map(\.name).allSatisfy { $0.hasPrefix("α measured") })
        #expect(r4.conditions.contains { $0.name.hasPrefix("α measured") && !$0.holds })
        #expect((r4.gains[.tpot]?.factor ?? 0) > 1)
        // At context 100, B_crit(100) ≈ 423 (methodology formula); B = 256 → B·(γ+1) = 1024 > B_crit.
        var big = Scenario()
        big.batch = 256
        big.context = 100
        big.steps = 64
        let off = try big.analyze()
        let bcrit = try #require(off.features.criticalBatch)
        #expect(abs(bcrit - 423) < 5)
        #expect(off.rule("R4").status == .notTriggered)
        #expect(off.rule("R4").conditions.contains { $0.name.hasPrefix("B·(γ+1)") && !$0.holds })
    }

    /// InferScope's runtime probes speculation before the run (`probe.spec.*`): R4 then prices it
    /// on the measured α, draft cost and verification cost instead of assumptions — a self-draft
    /// that is never accepted on a CPU where γ+1 rows cost ×2.8 one row predicts a loss and does
    /// not fire; a well-accepted cheap draft fires. A probe of another strategy, or of another
    /// producer's trace, is not used.
    @Test func r4UsesTheSpeculationProbe() throws {
        func probe(_ alpha: Double, _ c: Double, _ verify: Double, strategy: String = "quant") -> [String: String] {
            ["probe.spec.strategy": strategy, "probe.spec.gamma": "3", "probe.spec.alpha": "\(alpha)",
             "probe.spec.drafted_tokens": "120", "probe.spec.draft_cost_ratio": "\(c)", "probe.spec.verify_cost_ratio": "\(verify)"]
        }
        var s = Scenario()
        s.batch = 8
        s.context = 1024
        s.producer = "inferscope 0.1 (runtime)"
        s.options.merge(probe(0, 0.52, 2.79)) { $1 }
        let losing = try s.analyze()
        let p = try #require(losing.features.probedSpeculation)
        #expect(p == ProbedSpeculation(strategy: "quant", gamma: 3, alpha: 0, draftedTokens: 120, draftCostRatio: 0.52, verifyCostRatio: 2.79))
        // Linear step time T(n) = a + b·n through T(1) = 1, T(4) = 2.79: b = 0.5967, a = 0.4033;
        // at B = 8 the verification step is (a + 32b)/(a + 8b) plain steps.
        let b = 1.79 / 3, a = 1 - b
        #expect(abs(p.verifyStepRatio(batch: 8, gamma: 3) - (a + 32 * b) / (a + 8 * b)) < 1e-12)
        #expect(abs(p.verifyStepRatio(batch: 1, gamma: 3) - 2.79) < 1e-12)
        let r4 = losing.rule("R4")
        #expect(r4.status == .notTriggered)
        #expect(r4.conditions.contains { $0.name.hasPrefix("α measured") && $0.holds })
        let tpot = try #require(r4.gains[.tpot])
        #expect(abs(tpot.factor - 1 / (3 * 0.52 + (a + 32 * b) / (a + 8 * b))) < 1e-9)
        #expect(tpot.isLoss)
        // With the probed step curve the verification ratio is read off it at B and B·(γ+1) rows.
        var curved = s
        curved.options.merge(["threads": "2", "probe.step_us.threads_2": "1:1000,8:2000,64:4000"]) { $1 }
        let ratio = try #require(curved.analyze().rule("R4").gains[.tpot]?.inputs["T_t(B,γ+1)/T_t(B,1)"])
        #expect(abs(ratio - (2000 + 24 * (2000.0 / 56)) / 2000) < 1e-9)
        // A cheap, well-accepted draft (τ(0.9, 3) = 3.44) fires on the probe alone.
        s.options.merge(probe(0.9, 0.1, 1.3)) { $1 }
        let winning = try s.analyze().rule("R4")
        #expect(winning.status == .triggered && winning.confidence == 0.8, "\(winning.conditions.filter { !$0.holds }.map(\.name))")
        #expect(winning.gains[.tpot]!.factor > 1.2)
        // A probe of another strategy, or another producer's trace, leaves α assumed.
        s.options.merge(probe(0.9, 0.1, 1.3, strategy: "ngram")) { $1 }
        #expect(try s.analyze().rule("R4").conditions.contains { $0.name.hasPrefix("α measured") && !$0.holds })
        s.options.merge(probe(0.9, 0.1, 1.3)) { $1 }
        s.producer = "inferscope-import vllm (constructed)"
        #expect(try s.analyze().rule("R4").conditions.contains { $0.name.hasPrefix("α measured") && !$0.holds })
    }

    @Test func r5ChunkedPrefill() throws {
        var s = Scenario()
        s.prompt = 2000
        #expect(try s.analyze().rule("R5").status == .triggered)
        var short = Scenario()
        short.prompt = 16
        let off = try short.analyze()
        #expect(off.metrics.interference.ratio! < 2)
        #expect(off.rule("R5").status == .notTriggered)
    }

    @Test func r6Disaggregation() throws {
        let slo = ServiceLevelObjectives(ttft: 0.060, tpot: 0.005)
        var s = Scenario()
        s.queueDelay = 100 * Fixtures.ms
        s.prompt = 2000
        s.perPrefillToken = 2e-6   // short stalls: R_int < 2, so R5 does not fire first
        let on = try s.analyze(.init(hardware: "H100-SXM", slo: slo))
        #expect(on.rule("R5").status == .notTriggered)
        #expect(on.rule("R6").status == .triggered, "\(on.rule("R6").conditions.filter { !$0.holds })")
        #expect(on.rule("R6").confidence == 0.4)
        var short = s
        short.prompt = 200
        #expect(try short.analyze(.init(hardware: "H100-SXM", slo: slo)).rule("R6").status == .notTriggered)
        // Without SLOs it says what it needs.
        let none = try s.analyze()
        #expect(none.rule("R6").status == .insufficientData)
        #expect(none.rule("R6").gains.isEmpty)
    }

    /// On InferScope's runtime `--disaggregated` splits the run's threads, so R6 prices the split
    /// from the probed step curve, SLOs or not: busy time busy·(p·s_p + (1 − p)·s_d), TPOT against
    /// a pure decode step on the decode worker, TTFT as the prompt's own prefill on the prefill
    /// worker without the colocated queue.
    @Test func r6PricesTheRuntimesThreadSplit() throws {
        var s = Scenario()
        s.producer = "inferscope 0.1 (runtime)"
        s.queueDelay = 100 * Fixtures.ms
        s.workload = ["arrival": "closed:8"]
        // Two threads: 1 ms at 1 row … 4 ms at 64; one thread: 1.5× at 1 row … 1.9× at 64.
        s.options.merge(["threads": "2", "probe.step_us.threads_2": "1:1000,8:2000,64:4000",
                         "probe.step_us.threads_1": "1:1500,8:3200,64:7600"]) { $1 }
        let r = try s.analyze()
        let f = r.features
        let curve = try #require(f.probedStepCurve)
        #expect(curve.seconds(rows: 8, threads: 2) == 0.002 && curve.seconds(rows: 36, threads: 2)! == 0.003)
        #expect(abs(curve.seconds(rows: 120, threads: 2)! - (0.004 + 56 * (0.002 / 56))) < 1e-12)  // last slope
        #expect(curve.seconds(rows: 0.5, threads: 1) == 0.0015 && curve.seconds(rows: 8, threads: 4) == nil)
        let r6 = r.rule("R6")
        #expect(r6.status == .insufficientData)  // no SLOs: a what-if, never advised
        let sd = f.decodeStepMeasured(batch: f.meanBatch!, context: f.meanContext!, threads: 1)!
            / f.decodeStepMeasured(batch: f.meanBatch!, context: f.meanContext!, threads: 2)!
        #expect(abs(sd - 3200.0 / 2000) < 1e-9)  // batch 8, no attention probe
        let sp = 7600.0 / 4000
        let busy = 1 - f.idleShare!, p = f.prefillShare!
        let demand = busy * (p * sp + (1 - p) * sd)
        #expect(abs(r6.gains[.throughput]!.factor - 1 / demand) < 1e-9)
        #expect(abs(r6.gains[.tpot]!.factor - f.meanTPOT! / (f.decodeStepSeconds! * sd)) < 1e-9)
        #expect(abs(r6.gains[.ttft]!.factor - f.meanTTFT! / ((f.meanTTFT! - f.meanQueue!) * sp)) < 1e-9)
        // The queue is most of this run's TTFT: the split's own prefill worker removes it.
        #expect(r6.gains[.ttft]!.factor > 1)
        // Decode-heavy: the decode worker on half the threads loses throughput.
        #expect(r6.gains[.throughput]!.factor < 1 && r6.gains[.tpot]!.factor < 1)
        // An open loop can only lose throughput; without the probe the slowdowns are t/threads = 2.
        var open = s
        open.workload = [:]
        open.options = open.options.filter { !$0.key.hasPrefix("probe.") }
        let o = try open.analyze()
        #expect(abs(o.rule("R6").gains[.throughput]!.factor - min(1, 1 / (2 * (1 - o.features.idleShare!)))) < 1e-9)
        // Already disaggregated, or one thread: nothing to price.
        var split = s
        split.options["disaggregated"] = "on"
        #expect(try split.analyze().rule("R6").gains.isEmpty)
        var single = s
        single.options["threads"] = "1"
        #expect(try single.analyze().rule("R6").gains.isEmpty)
    }

    @Test func r7PrefixCaching() throws {
        var s = Scenario()
        s.prompt = 1500
        s.workload = ["shared_prefix_tokens": "600"]
        #expect(try s.analyze().rule("R7").status == .triggered)
        var cached = s
        cached.options["prefix_cache"] = "true"
        cached.cached = 592
        let off = try cached.analyze()
        #expect(abs(off.metrics.prefix.measuredHitRate! - 592.0 / 1500) < 1e-12)
        #expect(off.rule("R7").status == .notTriggered)
    }

    @Test func r8Offload() throws {
        var s = Scenario()
        s.prompt = 1500
        s.workload = ["shared_prefix_tokens": "600"]
        s.options["prefix_cache"] = "true"
        s.cached = 64
        let on = try s.analyze()
        #expect(on.rule("R8").status == .triggered)
        var off = s
        off.options["prefix_cache"] = "false"
        off.cached = 0
        #expect(try off.analyze().rule("R8").status == .notTriggered)
    }

    @Test func r9SmallerModel() throws {
        let slo = ServiceLevelObjectives(tpot: 0.001)
        let on = try Scenario().analyze(.init(hardware: "H100-SXM", slo: slo))
        #expect(on.rule("R9").status == .triggered)
        // Weight share ≥ 0.7: B=8, c=512 → KV 0.54 GB vs 15 GB weights.
        #expect(on.features.kvByteShare! < 0.3)
        var slow = Scenario()
        slow.decodeMBU = 0.2
        #expect(try slow.analyze(.init(hardware: "H100-SXM", slo: slo)).rule("R9").status == .notTriggered)
    }

    @Test func r10Concurrency() throws {
        let on = try Scenario().analyze()
        let r10 = on.rule("R10")
        #expect(r10.status == .triggered)
        // B_new = KV tokens/c = (10000·16)/512 = 312.5 (no B_crit at c = 512 on H100).
        #expect(abs(r10.gains[.throughput]!.inputs["B_new"]! - 312.5) < 1e-9)
        var full = Scenario()
        full.kvUsage = 0.95
        let off = try full.analyze()
        #expect(off.verdict.capacityBound == true)
        #expect(off.rule("R10").status == .notTriggered)
    }

    /// R10 and the offered load (issue #14): when the clients, not the cap, set concurrency, R10
    /// predicts no gain from the cap and advises no cap; when the cap binds it never advises a
    /// cap at or below the current one, and the new batch never exceeds the clients.
    @Test func r10OfferedLoadAndCap() throws {
        var loadBound = Scenario()
        loadBound.options["max_num_seqs"] = "64"
        loadBound.workload["arrival"] = "closed:8"
        let r = try loadBound.analyze().rule("R10")
        #expect(r.status == .notTriggered)
        #expect(r.runtimeChange == nil)
        #expect(r.gains[.throughput]?.factor == 1)
        #expect(r.conditions.contains { $0.name.hasPrefix("the cap, not the offered load") && !$0.holds })
        #expect(r.evidence.contains { $0.contains("offer more load instead") })
        // Open loop, batch 8 of a 64 cap: the load sets concurrency too.
        var open = Scenario()
        open.options["max_num_seqs"] = "64"
        #expect(try open.analyze().rule("R10").runtimeChange == nil)
        // 32 clients over 8 slots: the cap binds; B_new = min(312.5, 32 clients) = 32.
        var capped = Scenario()
        capped.options["max_num_seqs"] = "8"
        capped.workload["arrival"] = "closed:32"
        let c = try capped.analyze().rule("R10")
        #expect(c.status == .triggered)
        #expect(c.runtimeChange == ["max_num_seqs": "32"])
        #expect(c.gains[.throughput]!.inputs["B_new"] == 32)
    }

    @Test func r11Overhead() throws {
        var slow = Scenario()
        slow.decodeMBU = 0.05
        let on = try slow.analyze()
        #expect(on.verdict.phase(.decode)?.bound == .overheadBound)
        let r11 = on.rule("R11")
        #expect(r11.status == .triggered)
        #expect(abs(r11.gains[.tpot]!.factor - 0.6 / 0.05) < 1e-3)
        #expect(try Scenario().analyze().rule("R11").status == .notTriggered)
    }

    @Test func capacityByPreemption() throws {
        var s = Scenario()
        s.preemptEvery = 4
        let r = try s.analyze()
        #expect(r.verdict.capacityBound == true)
        #expect(r.metrics.preemptions.byReason["recompute"] == 64)
    }
}
