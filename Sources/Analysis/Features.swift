import TraceFormat

/// The derived features of methodology §7.2 (F1–F11) as plain numbers the rules read. Rules read
/// only this (plus the model and hardware for re-projection), so a rule's predicted effect can
/// be applied by editing it and the remaining rules re-evaluated (§7.4 greedy re-ranking).
public struct Features: Sendable, Equatable {
    public var model: ModelDescriptor
    public var hardware: HardwareSpec?
    public var slo: ServiceLevelObjectives
    public var thresholds: Thresholds
    public var assumptions: Assumptions
    /// Runtime options of the run header.
    public var options: [String: String]
    /// True when the trace comes from InferScope's own runtime (its switches can be applied).
    public var ownRuntime: Bool

    // F1
    public var workload: WorkloadBound
    public var idleShare: Double?
    public var prefillShare: Double?
    public var decodeShare: Double?
    // F2
    public var ridge: Double?
    public var peakFLOPS: Double?
    public var decodeBound: PhaseBound?
    public var decodeMFU: Double?
    public var decodeMBU: Double?
    public var prefillBound: PhaseBound?
    public var prefillMFU: Double?
    public var prefillMBU: Double?
    /// Mean measured decode step, seconds.
    public var decodeStepSeconds: Double?
    /// Every forward phase classified overhead-bound, with MFU, MBU and its share of busy time.
    public var overheadPhases: [OverheadPhase] = []
    // F3
    public var meanBatch: Double?
    public var meanContext: Double?
    /// nil with meanContext set = no critical batch (∞).
    public var criticalBatch: Double?
    // F4
    public var capacityBound: Bool?
    public var timeAtHighKV: Double?
    public var queueEmptyShare: Double?
    public var kvCapacityTokens: Double?
    public var preemptions: Int
    // F5
    public var kvByteShare: Double?
    public var decodeWeightBytes: Double?
    public var decodeKVBytes: Double?
    // F6
    public var interferenceRatio: Double?
    public var contaminatedViolationShare: Double?
    public var cleanMedianITL: Double?
    public var contaminatedMeanITL: Double?
    public var cleanMeanITL: Double?
    public var contaminatedGapCount: Int
    public var cleanGapCount: Int
    public var stepModel: StepTimeModel?
    // F7
    public var staticBatching: Bool
    public var slotUtilisation: Double?
    public var paddingWaste: Double?
    /// Mean queueing delay / mean TTFT.
    public var formationDelayShare: Double?
    /// Closed-loop client count N when the workload's arrival is `closed:N` (header), else nil.
    public var closedLoopClients: Int?
    /// The scheduler's sequence cap K (`max_num_seqs` in the header), if recorded.
    public var maxNumSeqs: Int?
    // F8
    public var tokenUtilisation: Double?
    public var reservationWaste: Double?
    public var contiguousLayout: Bool
    // F9
    public var prefixHitRate: Double?
    public var prefixPotential: Double?
    public var prefixCacheEnabled: Bool?
    // F10
    public var speculationActive: Bool
    public var alpha: Double?
    public var gamma: Int?
    public var draftCostRatio: Double?
    // F11
    public var p99: [String: Double]
    public var meanTTFT: Double?
    public var meanQueue: Double?
    /// Mean end-to-end latency (s).
    public var meanE2E: Double?
    /// Requests that arrived in the trace.
    public var requestsArrived: Int = 0
    public var meanTPOT: Double?
    public var medianUncachedPrompt: Double?
    public var missedSLOs: [String]
    /// The estimate from the run's means (imported files), the request-time split, and the
    /// admission counters of the main KV pool (R12, R13).
    public var aggregateEstimate: AggregateLevelEstimate? = nil
    public var requestTime: RequestTimeSplit? = nil
    public var admission: AdmissionStats? = nil
    public var meanKVUsage: Double? = nil
    /// Decode-attention seconds per cached token of one sequence on one thread, per KV element
    /// type, as InferScope's runtime measured its own kernels (`probe.kv_attention_ns_per_token.*`
    /// header options); empty when not probed.
    public var kvAttentionSecondsPerToken: [String: Double] = [:]
    /// Speculation as the runtime's probe measured it (`probe.spec.*`), when recorded.
    public var probedSpeculation: ProbedSpeculation? = nil
    /// The runtime's step time against rows, per thread count (`probe.step_us.*`), when recorded.
    public var probedStepCurve: ProbedStepCurve? = nil
    /// Compute threads of the run (`threads` option), when recorded.
    public var threads: Int? = nil
    /// Disaggregated serving: prefill and decode worker counts, when known.
    public var prefillWorkers: Int? = nil
    public var decodeWorkers: Int? = nil

    public init(metrics m: TraceMetrics, roofline r: RooflineAnalysis?, verdict v: Verdict, header: RunHeader,
                slo: ServiceLevelObjectives, thresholds: Thresholds, assumptions: Assumptions) {
        model = header.model
        hardware = r?.hardware
        self.slo = slo
        self.thresholds = thresholds
        self.assumptions = assumptions
        options = header.options
        ownRuntime = header.producer.lowercased().hasPrefix("inferscope") && !header.producer.lowercased().contains("import")

        workload = v.workload
        let busy = m.phases.busySeconds > 0
        idleShare = m.phases.totalSeconds > 0 ? m.phases.idleShare : nil
        prefillShare = busy ? m.phases.prefillShareOfBusy : nil
        decodeShare = busy ? m.phases.decodeShareOfBusy : nil

        ridge = r?.ridge
        peakFLOPS = r?.peakFLOPS
        decodeBound = v.decodePhase?.bound
        prefillBound = v.prefillPhase?.bound
        if let d = r?.decodeLike { decodeMFU = d.mfu; decodeMBU = d.mbu; decodeStepSeconds = d.seconds / Double(max(1, d.steps)) }
        if let p = r?.phase(.prefill) ?? r?.phase(.mixed) { prefillMFU = p.mfu; prefillMBU = p.mbu }
        if let r {
            for pv in v.phases where pv.bound == .overheadBound {
                guard let ph = r.phase(pv.phase) else { continue }
                let share = m.phases.busySeconds > 0 ? ph.seconds / m.phases.busySeconds : 0
                overheadPhases.append(OverheadPhase(phase: pv.phase, mfu: ph.mfu, mbu: ph.mbu, share: share))
            }
        }
        meanBatch = r?.meanBatch ?? m.batch.timeWeightedMean
        meanContext = r?.meanContext ?? m.batch.meanContext
        criticalBatch = r?.criticalBatch

        capacityBound = v.capacityBound
        timeAtHighKV = m.kv.map(\.timeAtHighUsage).max()
        queueEmptyShare = m.kv.isEmpty ? nil : 1 - (m.kv.map(\.waitingShare).max() ?? 0)
        kvCapacityTokens = r?.kvCapacityTokens
        preemptions = m.preemptions.total

        kvByteShare = r?.kvByteShare
        decodeWeightBytes = r?.decodeWeightBytes
        decodeKVBytes = r?.decodeKVBytes

        let i = m.interference
        interferenceRatio = i.ratio
        contaminatedViolationShare = i.contaminatedShareOfViolations
        cleanMedianITL = i.cleanGaps?.p50
        cleanMeanITL = i.cleanGaps?.mean
        contaminatedMeanITL = i.contaminatedGaps?.mean
        cleanGapCount = i.cleanGaps?.count ?? 0
        contaminatedGapCount = i.contaminatedGaps?.count ?? 0
        stepModel = m.stepModel

        staticBatching = m.staticBatching.detected
        slotUtilisation = m.staticBatching.slotUtilisation
        paddingWaste = m.staticBatching.paddingWaste
        if let q = m.queue?.mean, let t = m.ttft?.mean, t > 0 { formationDelayShare = q / t }

        let pool = m.mainKVPool
        tokenUtilisation = pool?.tokenUtilisation
        admission = pool?.admission
        meanKVUsage = pool?.meanUsage
        reservationWaste = pool?.reservationWaste
        contiguousLayout = header.options["kv_layout"]?.lowercased() == "contiguous" || (pool?.reservationWaste ?? 0) > 0

        prefixHitRate = m.prefix.measuredHitRate
        prefixPotential = m.prefix.potentialHitRate
        if let o = header.options["prefix_cache"]?.lowercased() {
            prefixCacheEnabled = ["true", "on", "1", "yes"].contains(o)
        } else if m.prefix.cachedTokens != nil {
            prefixCacheEnabled = (m.prefix.cachedTokens ?? 0) > 0
        }

        let specOption = header.options["spec"]?.lowercased()
        speculationActive = m.speculation != nil || (specOption != nil && !["off", "none", "false", "0"].contains(specOption!))
        alpha = m.speculation?.alpha
        gamma = m.speculation?.gamma
        draftCostRatio = m.speculation?.costRatio

        var p: [String: Double] = [:]
        if let d = m.ttft { p["ttft"] = d.p99 }
        if let d = m.tpot { p["tpot"] = d.p99 }
        if let d = m.itl { p["itl"] = d.p99 }
        if let d = m.e2e { p["e2e"] = d.p99 }
        p99 = p
        meanTTFT = m.ttft?.mean
        meanQueue = m.queue?.mean
        meanE2E = m.e2e?.mean
        requestsArrived = m.requests.arrived
        if let a = header.workload.parameters["arrival"], a.hasPrefix("closed:") { closedLoopClients = Int(a.dropFirst("closed:".count)) }
        maxNumSeqs = header.options["max_num_seqs"].flatMap { Int($0) }
        threads = header.options["threads"].flatMap { Int($0) }
        let probe = "probe.kv_attention_ns_per_token."
        for (k, v) in header.options where k.hasPrefix(probe) {
            if let ns = Double(v), ns > 0, ns.isFinite { kvAttentionSecondsPerToken[String(k.dropFirst(probe.count))] = ns * 1e-9 }
        }
        probedSpeculation = ProbedSpeculation(options: header.options)
        probedStepCurve = ProbedStepCurve(options: header.options)
        meanTPOT = m.tpot?.mean
        medianUncachedPrompt = m.uncachedPromptTokens?.p50
        missedSLOs = v.missedSLOs
        // F5 needs only the model, not the hardware.
        if r == nil { refreshDecodeDerived() }
    }

    /// Measured-model time of a uniform decode step of `batch` sequences × `tokensPerSequence`
    /// tokens at `context` on `threads` threads (default: the run's): the runtime's probed step
    /// curve at batch·tokens rows plus, when probed, decode attention of every row over the context
    /// (the KV attention probe's seconds per cached token of the run's KV type, split over the
    /// threads). nil without the curve for that thread count. O(1).
    public func decodeStepMeasured(batch: Double, context: Double, tokensPerSequence: Int = 1, threads t: Int? = nil) -> Double? {
        guard let threads = t ?? self.threads, let curve = probedStepCurve,
              let weights = curve.seconds(rows: batch * Double(tokensPerSequence), threads: threads) else { return nil }
        let attention = kvAttentionSecondsPerToken[model.kvType].map { $0 * batch * Double(tokensPerSequence) * context / Double(threads) } ?? 0
        return weights + attention
    }

    /// A decode step's time and where it comes from: the runtime's measured step model when the
    /// trace carries the probes, else the roofline. nil when neither is available.
    public func decodeStep(batch: Double, context: Double, tokensPerSequence: Int = 1) -> (seconds: Double, source: String)? {
        if let m = decodeStepMeasured(batch: batch, context: context, tokensPerSequence: tokensPerSequence) {
            return (m, "measured step curve")
        }
        return decodeStepRoofline(batch: batch, context: context, tokensPerSequence: tokensPerSequence).map { ($0, "roofline step times") }
    }

    /// Roofline time of a uniform decode step on the current hardware, seconds (nil without one).
    public func decodeStepRoofline(batch: Double, context: Double, tokensPerSequence: Int = 1,
                                   model m: ModelDescriptor? = nil) -> Double? {
        guard let hw = hardware else { return nil }
        let model = m ?? self.model
        let cost = model.decodeStepCost(batch: batch, context: context, tokensPerSequence: tokensPerSequence)
        return rooflineSeconds(flops: cost.flops, bytes: cost.bytes, peakFLOPS: hw.peak(for: model).flops,
                               bandwidth: hw.memoryBandwidth)
    }

    /// Recomputes F3/F5 from `model`, mean batch and context (after a rule changed one of them).
    public mutating func refreshDecodeDerived() {
        guard let b = meanBatch, let c = meanContext else { return }
        let w = model.weightBytesPerForward(tokens: clampedInt(b), logitRows: clampedInt(b))
        let k = b * c * model.kvBytesPerToken
        decodeWeightBytes = w
        decodeKVBytes = k
        kvByteShare = k / (w + k)
        if let hw = hardware { criticalBatch = model.criticalBatch(ridge: hw.ridge(for: model), context: c) }
    }
}

/// A forward phase the verdict found overhead-bound (R11's input).
public struct OverheadPhase: Sendable, Equatable {
    public var phase: Phase
    public var mfu: Double
    public var mbu: Double
    /// Share of busy time.
    public var share: Double
}

/// `x` rounded to an Int, clamped to 0…2^50 (non-finite → 0). For counts derived from measurements.
func clampedInt(_ x: Double) -> Int {
    guard x.isFinite, x > 0 else { return 0 }
    return Int(min(x.rounded(), 1_125_899_906_842_624))
}
