import TraceFormat

/// The verdict's numbers from a run's means alone (the file's aggregates, or the means of its
/// requests), a catalog model and hardware. Every figure names its formula:
///
/// - Request throughput X: completed/duration, or the file's own figure.
/// - Mean concurrency L (Little's law): X × mean E2E; without a throughput, the client's
///   concurrency cap (closed loop, assumed always full — said so).
/// - Mean decode batch B: X × mean decode time (E2E − TTFT, or TPOT × (output − 1)).
/// - Decode step ≈ mean TPOT (one token per running sequence per step under continuous batching);
///   its FLOPs/bytes from the shared cost model at (B, c = input + output/2) → MFU, MBU.
/// - Prefill floor: the roofline time of one prompt of the mean input length, alone; TTFT / floor
///   ≥ `Thresholds.queueingFloorRatio` is called queueing, not slow prefill.
///
/// O(1).
public struct AggregateLevelEstimate: Sendable, Equatable {
    /// The run's means the estimate starts from (seconds, tokens, per second).
    public struct Inputs: Sendable, Equatable {
        public var level: DerivationLevel
        public var ttft: Double
        public var tpot: Double?
        public var e2e: Double?
        public var inputTokens: Double
        public var outputTokens: Double?
        public var requestThroughput: Double?
        public var throughputSource: String
        public var concurrencyCap: Double?
        public var completed: Int?
        public init(level: DerivationLevel, ttft: Double, tpot: Double?, e2e: Double?, inputTokens: Double,
                    outputTokens: Double?, requestThroughput: Double?, throughputSource: String,
                    concurrencyCap: Double?, completed: Int?) {
            self.level = level
            self.ttft = ttft
            self.tpot = tpot
            self.e2e = e2e
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.requestThroughput = requestThroughput
            self.throughputSource = throughputSource
            self.concurrencyCap = concurrencyCap
            self.completed = completed
        }
    }

    public var inputs: Inputs
    /// Mean requests in flight and how it was obtained.
    public var concurrency: Double?
    public var concurrencySource: String
    /// Mean decode batch (sequences decoding per step), and mean decode context, tokens.
    public var decodeBatch: Double?
    public var decodeContext: Double
    /// Roofline time of one prompt of the mean input length, alone, seconds.
    public var prefillFloorSeconds: Double
    /// Mean TTFT / prefill floor.
    public var ttftOverFloor: Double
    /// True when TTFT ≥ queueingFloorRatio × floor: the first token waits, it is not computed slowly.
    public var ttftIsQueueing: Bool
    /// The ratio at and above which TTFT is called queueing (`Thresholds.queueingFloorRatio`).
    public var queueingFloorRatio: Double
    /// Roofline time of one decode step at (B, c), seconds; nil without B.
    public var decodeStepRoofline: Double?
    /// The decode phase at the estimated operating point (nil without TPOT or B).
    public var decode: PhaseRoofline?

    /// Decode workers the run's decode batch is spread over (disaggregated: D; otherwise 1).
    public var decodeWorkers: Int

    /// `decodeWorkers`: engines sharing the decode load (the per-engine batch is X·decode/D).
    public init?(_ i: Inputs, model: ModelDescriptor, hardware: HardwareSpec, thresholds t: Thresholds, decodeWorkers: Int = 1) {
        self.decodeWorkers = max(1, decodeWorkers)
        let workers = Double(max(1, decodeWorkers))
        guard i.ttft > 0, i.inputTokens > 0, model.layers > 0 else { return nil }
        inputs = i
        let peak = hardware.peak(for: model).flops, bw = hardware.memoryBandwidth
        let prompt = model.forwardCost(batch: [BatchEntry(request: 0, prefillTokens: Int32(clamping: Int(i.inputTokens.rounded())),
                                                          decodeTokens: 0, contextLength: 0)], logitRows: 1)
        prefillFloorSeconds = rooflineSeconds(flops: prompt.flops, bytes: prompt.bytes, peakFLOPS: peak, bandwidth: bw)
        ttftOverFloor = i.ttft / prefillFloorSeconds
        ttftIsQueueing = ttftOverFloor >= t.queueingFloorRatio
        queueingFloorRatio = t.queueingFloorRatio
        let decodeTime: Double? = {
            if let e = i.e2e, e > i.ttft { return e - i.ttft }
            if let tp = i.tpot, let o = i.outputTokens, o > 1 { return tp * (o - 1) }
            return nil
        }()
        if let x = i.requestThroughput, x > 0, let e = i.e2e ?? decodeTime.map({ $0 + i.ttft }) {
            concurrency = x * e
            concurrencySource = "Little's law: \(i.throughputSource) \(NumberFormat.significant(x)) req/s × mean E2E \(NumberFormat.duration(e))"
            decodeBatch = decodeTime.map { x * $0 / workers }
        } else if let cap = i.concurrencyCap, cap.isFinite, cap > 0 {
            concurrency = cap
            concurrencySource = "the client's max concurrency \(NumberFormat.significant(cap)), assumed always full (no usable throughput or duration)"
            if let d = decodeTime, let e = i.e2e ?? Optional(d + i.ttft), e > 0 { decodeBatch = cap * d / e / workers }
        } else {
            concurrency = nil
            concurrencySource = "unknown: no throughput, duration or concurrency in the data"
            decodeBatch = nil
        }
        decodeContext = i.inputTokens + (i.outputTokens ?? 0) / 2
        if let b = decodeBatch, b > 0, let tpot = i.tpot, tpot > 0 {
            let step = model.decodeStepCost(batch: b, context: decodeContext)
            let roof = rooflineSeconds(flops: step.flops, bytes: step.bytes, peakFLOPS: peak, bandwidth: bw)
            decodeStepRoofline = roof
            let steps: Double = {
                guard let n = i.completed, let o = i.outputTokens, o > 1 else { return 1 }
                return max(1, Double(n) * (o - 1) / b)
            }()
            decode = PhaseRoofline(
                phase: .decode, steps: Int(steps.rounded()), seconds: steps * tpot, flops: steps * step.flops,
                bytes: steps * step.bytes, intensity: step.bytes > 0 ? step.flops / step.bytes : 0,
                mfu: step.flops / (tpot * peak), mbu: step.bytes / (tpot * bw), rooflineSeconds: steps * roof,
                stepsWithoutCost: 0, costSource: "\(i.level.rawValue): step = mean TPOT, B by Little's law")
        } else {
            decodeStepRoofline = nil
            decode = nil
        }
    }

    /// The prefill evidence: TTFT against its compute floor.
    public var ttftEvidence: Evidence {
        Evidence("mean TTFT \(NumberFormat.duration(inputs.ttft)) / roofline prefill of \(NumberFormat.significant(inputs.inputTokens.rounded())) tokens \(NumberFormat.duration(prefillFloorSeconds))",
                 ttftOverFloor, "≥", queueingFloorRatio, unit: .number)
    }

    /// One sentence on what the TTFT is made of.
    public var ttftReading: String {
        ttftIsQueueing
            ? "TTFT is \(NumberFormat.significant(ttftOverFloor))× its compute floor: the first token waits (queueing, or batched behind other prompts), prefill itself is not slow"
            : "TTFT is \(NumberFormat.significant(ttftOverFloor))× its compute floor: within reach of prefill compute and per-request overhead, no sign of queueing"
    }

    /// The decode phase verdict at the estimated operating point, labelled with the level.
    func decodeVerdict(ridge: Double, _ t: Thresholds) -> PhaseVerdict? {
        guard let d = decode, let b = decodeBatch else { return nil }
        var v = Verdict.classify(d, ridge: ridge, thresholds: t)
        v.note = (v.note.map { $0 + "; " } ?? "") + "\(inputs.level.rawValue): step = mean TPOT \(NumberFormat.duration(inputs.tpot ?? 0)), batch \(fmt(b)) (\(concurrencySource.hasPrefix("Little") ? "Little's law" : "concurrency cap")), context \(fmt(decodeContext.rounded())) tokens"
        return v
    }

    /// The prefill phase verdict: the ridge side of one prompt, with TTFT-vs-floor as evidence.
    func prefillVerdict(model: ModelDescriptor, ridge: Double) -> PhaseVerdict {
        let prompt = model.forwardCost(batch: [BatchEntry(request: 0, prefillTokens: Int32(clamping: Int(inputs.inputTokens.rounded())),
                                                          decodeTokens: 0, contextLength: 0)], logitRows: 1)
        let ai = Evidence("arithmetic intensity (FLOP/byte) vs ridge I*", prompt.bytes > 0 ? prompt.flops / prompt.bytes : 0, "≥", ridge, unit: .flopPerByte)
        return PhaseVerdict(phase: .prefill, bound: ai.holds ? .computeBound : .memoryBound, evidence: [ai, ttftEvidence],
                            note: "\(inputs.level.rawValue): one prompt of the mean input length; \(ttftReading)")
    }
}

extension AggregateLevelEstimate.Inputs {
    /// From a file's aggregates; nil without a mean TTFT and input length. Throughput from the
    /// file's request throughput, else completed/duration; never from synthesized arrival times.
    public init?(aggregates a: AggregateSummary) {
        guard let ttft = a.ttft.central, let input = a.inputTokensMean else { return nil }
        var x = a.requestThroughput, src = "the file's request throughput"
        if x == nil, let n = a.completed, let d = a.durationSeconds, d > 0 { x = Double(n) / d; src = "completed/duration" }
        let tpot = a.tpot.central ?? a.itl.central
        self.init(level: .aggregates, ttft: ttft, tpot: tpot, e2e: a.e2e.central, inputTokens: input,
                  outputTokens: a.outputTokensMean, requestThroughput: x, throughputSource: src,
                  concurrencyCap: a.maxConcurrency, completed: a.completed)
    }

    /// From the per-request means; `synthesizedArrivals` makes the trace's own duration unusable,
    /// so the file's aggregate duration/throughput and concurrency are used instead (and said).
    public init?(metrics m: TraceMetrics, aggregates a: AggregateSummary, synthesizedArrivals: Bool) {
        guard let ttft = m.ttft?.mean, let prompt = m.promptTokens?.mean, m.requests.completed > 0 else { return nil }
        var x: Double?, src = ""
        if !synthesizedArrivals, m.duration > 0 {
            x = Double(m.requests.completed) / m.duration
            src = "completed/duration"
        } else if let r = a.requestThroughput {
            x = r
            src = "the file's request throughput (arrival times synthesized)"
        } else if let d = a.durationSeconds, d > 0 {
            x = Double(m.requests.completed) / d
            src = "completed/the file's duration (arrival times synthesized)"
        }
        self.init(level: .requests, ttft: ttft, tpot: m.tpot?.mean, e2e: m.e2e?.mean, inputTokens: prompt,
                  outputTokens: Double(m.requests.outputTokens) / Double(m.requests.completed), requestThroughput: x,
                  throughputSource: src, concurrencyCap: a.maxConcurrency, completed: m.requests.completed)
    }
}
