import TraceFormat

/// What `inferscope analyze` was asked.
public struct AnalysisOptions: Sendable, Equatable {
    /// nil (the trace header's peaks, else a catalog match of its name), a catalog name or alias,
    /// "host" (the header's measured peaks), or a JSON spec file path.
    public var hardware: String?
    public var objective: Objective
    public var slo: ServiceLevelObjectives
    public var thresholds: Thresholds
    public var assumptions: Assumptions
    /// Catalog name for the what-if projection.
    public var whatIf: String?
    /// USD per device-hour for the cost estimate.
    public var pricePerHour: Double?
    /// Overrides h_pot.
    public var potentialPrefixHitRate: Double?
    /// A ready spec (e.g. probed by the CLI for `--hardware host`); takes precedence over `hardware`.
    public var hardwareSpec: HardwareSpec?
    /// Disaggregated serving: prefill and decode worker counts (`--prefill-workers`,
    /// `--decode-workers`); override the file's `aggregate.prefill_workers/decode_workers`.
    public var prefillWorkers: Int?
    public var decodeWorkers: Int?

    public init(hardware: String? = nil, objective: Objective = .throughput, slo: ServiceLevelObjectives = .init(),
                thresholds: Thresholds = .init(), assumptions: Assumptions = .init(), whatIf: String? = nil,
                pricePerHour: Double? = nil, potentialPrefixHitRate: Double? = nil) {
        self.hardware = hardware
        self.objective = objective
        self.slo = slo
        self.thresholds = thresholds
        self.assumptions = assumptions
        self.whatIf = whatIf
        self.pricePerHour = pricePerHour
        self.potentialPrefixHitRate = potentialPrefixHitRate
    }
}

/// The complete analysis of one trace.
public struct AnalysisResult: Sendable, Equatable {
    public var options: AnalysisOptions
    public var header: RunHeader
    public var metrics: TraceMetrics
    /// The hardware the roofline used, nil when none could be determined.
    public var hardware: HardwareSpec?
    public var roofline: RooflineAnalysis?
    public var verdict: Verdict
    public var features: Features
    /// R1…R11 evaluated on the measured features, in id order.
    public var recommendations: [Recommendation]
    /// Ranking for the requested objective.
    public var ranking: Ranking
    public var whatIf: WhatIfProjection?
    /// Cost on the analysed hardware (when --price is given without --on).
    public var cost: CostEstimate?
    /// What the analysis could not conclude and why.
    public var cannotConclude: [String]
    /// The verdict's numbers estimated from request timings and the catalogs, for traces with
    /// requests but no step spans (imported files); nil otherwise.
    public var estimate: RequestLevelEstimate? = nil
    /// The verdict's numbers from the run's means (aggregates, or per-request means) and the
    /// catalog model/hardware: Little's-law concurrency, decode batch, TTFT vs its prefill floor.
    public var aggregateEstimate: AggregateLevelEstimate? = nil
    /// Failed/cancelled requests, when any; ``FailureSummary/headline`` opens every report when most failed.
    public var failures: FailureSummary? = nil
    /// The file's own aggregates (`aggregate.*` header parameters), empty for native traces.
    public var aggregates: AggregateSummary = AggregateSummary()
}

/// Streams a trace into an analysis: ``consume(_:)`` each event, then ``finish()``.
/// Memory as ``MetricsAccumulator``.
public struct Analyzer: Sendable {
    public let options: AnalysisOptions
    private var metrics: MetricsAccumulator
    private let explicitHardware: HardwareSpec?
    private let whatIfTarget: HardwareSpec?

    /// Resolves catalog names and spec files up front, so a bad `--hardware`/`--on` fails before
    /// any trace is read.
    public init(options: AnalysisOptions) throws(AnalysisError) {
        self.options = options
        metrics = MetricsAccumulator(options: MetricsOptions(slo: options.slo, highUsageThreshold: options.thresholds.highKVUsage,
                                                             potentialPrefixHitRate: options.potentialPrefixHitRate))
        if let spec = options.hardwareSpec {
            explicitHardware = spec
        } else if let h = options.hardware, h.lowercased() != "host" {
            explicitHardware = try HardwareCatalog.resolve(h)
        } else {
            explicitHardware = nil
        }
        whatIfTarget = try options.whatIf.map { name throws(AnalysisError) in try HardwareCatalog.resolve(name) }
        if let p = options.pricePerHour, !(p > 0 && p.isFinite) {
            throw .invalidArgument(name: "--price", value: String(p), expected: "a positive number of USD per hour")
        }
    }

    public mutating func consume(_ event: TraceEvent) throws(AnalysisError) {
        try metrics.consume(event)
    }

    /// Analyses a whole sequence of events in one pass.
    public static func analyze<S: Sequence>(_ events: S, options: AnalysisOptions) throws(AnalysisError) -> AnalysisResult
    where S.Element == TraceEvent {
        var a = try Analyzer(options: options)
        for e in events { try a.consume(e) }
        return try a.finish()
    }

    public func finish() throws(AnalysisError) -> AnalysisResult {
        let m = try metrics.finish()
        guard let header = metrics.header else { throw .missingHeader }
        var cannot = m.missing
        let hardware = try resolveHardware(header, notes: &cannot)
        let modelKnown = header.model.layers > 0 && header.model.dim > 0
        if !modelKnown {
            cannot.append("roofline, MFU/MBU and phase bounds: model '\(header.model.name)' has no architecture (not a catalog model); import with --model NAME")
        }
        var roofline = modelKnown ? hardware.map { RooflineAnalysis(metrics: m, model: header.model, hardware: $0) } : nil
        if let r = roofline, r.phases.contains(where: { $0.stepsWithoutCost == $0.steps && $0.phase != .draft }) {
            cannot.append("forward spans without batch composition or FLOPs/bytes: their phase bound is unknown")
        }
        // Request-level data only (an imported file): estimate the verdict's numbers.
        let aggregates = AggregateSummary(parameters: header.workload.parameters)
        let failures = FailureSummary(metrics: m, aggregates: aggregates)
        let nothingCompleted = failures?.allFailed == true
        var estimate: RequestLevelEstimate?
        let arrivals = header.options["import.arrivals"] ?? ""
        let synthesized = arrivals.hasPrefix("synthesized")
        if m.phases.totalSeconds == 0, m.requests.completed > 0 {
            if synthesized {
                cannot.append("throughput, idle share and the step-level estimate: the importer synthesized the arrival times (\(arrivals)); concurrency and decode batch use the file's duration, throughput and concurrency fields instead")
            } else if var r = roofline, let hw = hardware {
                estimate = RequestLevelEstimate(metrics: m, model: header.model, hardware: hw)
                if let e = estimate {
                    r.phases = [e.prefill, e.decode]
                    roofline = r
                    cannot = cannot.map { $0.hasPrefix("step spans:") ? "step spans: no measured phase shares or per-step times; the verdict is estimated from request timings and the catalog model/hardware (marked 'estimated')" : $0 }
                }
            }
        }
        // The level and the model-free split of request time.
        let level: DerivationLevel? = m.phases.totalSeconds > 0 ? .measured
            : (m.requests.completed > 0 ? .requests : (nothingCompleted || !aggregates.hasServingStatistics ? nil : .aggregates))
        var requestTime: RequestTimeSplit?
        if !nothingCompleted {
            requestTime = m.requests.completed > 0
                ? RequestTimeSplit(metrics: m, level: level ?? .requests, thresholds: options.thresholds)
                : RequestTimeSplit(aggregates: aggregates, thresholds: options.thresholds)
        }
        // Means + model + hardware: Little's law, decode batch, TTFT vs its prefill floor.
        var aggregateEstimate: AggregateLevelEstimate?
        if level != .measured, !nothingCompleted, modelKnown, let hw = hardware {
            let inputs = m.requests.completed > 0
                ? AggregateLevelEstimate.Inputs(metrics: m, aggregates: aggregates, synthesizedArrivals: synthesized)
                : AggregateLevelEstimate.Inputs(aggregates: aggregates)
            let decodeWorkers = options.decodeWorkers ?? aggregates.decodeWorkers ?? header.options["decode_workers"].flatMap { Int($0) } ?? 1
            aggregateEstimate = inputs.flatMap { AggregateLevelEstimate($0, model: header.model, hardware: hw, thresholds: options.thresholds,
                                                                        decodeWorkers: decodeWorkers) }
            if let a = aggregateEstimate, estimate == nil, var r = roofline {
                if let d = a.decode, let b = a.decodeBatch {
                    r.phases = [d]
                    r.setDecodeOperatingPoint(batch: b, context: a.decodeContext, model: header.model)
                }
                roofline = r
            }
        }
        if m.requests.completed == 0, !nothingCompleted, level == .aggregates, aggregateEstimate == nil, modelKnown, hardware != nil {
            cannot.append("aggregate-level estimate: needs the file's mean TTFT and mean input length")
        }
        if level == .aggregates {
            cannot = cannot.map { line in
                if line.hasPrefix("request events:") { return "request events: no per-request distribution, goodput or SLO attainment; latencies are the file's own aggregates" }
                if line.hasPrefix("step spans:") { return "step spans: no measured phase shares or per-step times; the verdict is estimated from the file's aggregates\(aggregateEstimate == nil ? "" : " and the catalog model/hardware")" }
                return line
            }
        }
        var verdict = Verdict(metrics: m, roofline: roofline, slo: options.slo, thresholds: options.thresholds)
        verdict.level = level
        verdict.requestTime = requestTime
        if let e = estimate, let r = roofline {
            (verdict.workload, verdict.workloadEvidence) = e.workload(options.thresholds)
            verdict.phases = e.phaseVerdicts(ridge: r.ridge, options.thresholds)
        }
        if let a = aggregateEstimate, let r = roofline {
            if estimate != nil {
                // Add TTFT-vs-floor to the request-level prefill verdict.
                verdict.phases = verdict.phases.map { p in
                    guard p.phase == .prefill else { return p }
                    var q = p
                    q.evidence.append(a.ttftEvidence)
                    q.note = (q.note.map { $0 + "; " } ?? "") + a.ttftReading
                    return q
                }
            } else {
                verdict.phases = [a.prefillVerdict(model: header.model, ridge: r.ridge)] + (a.decodeVerdict(ridge: r.ridge, options.thresholds).map { [$0] } ?? [])
            }
        }
        if m.requests.completed == 0, verdict.level == .aggregates, aggregates.ttft.isEmpty == false, requestTime == nil {
            cannot.append("where request time goes: the file gives TTFT but neither E2E nor TPOT/ITL with an output length")
        }
        verdict.kernelTime = KernelTimeSplit(aggregates: aggregates, thresholds: options.thresholds)
        if verdict.workload == .unknown, requestTime == nil, !nothingCompleted {
            verdict.workloadMissing = Self.workloadMissing(metrics: m, aggregates: aggregates, kernelProfile: verdict.kernelTime != nil)
        }
        // A server scrape with an admission cap is never capacity-bound.
        if let cap = R13AdmissionCap.admissionEvidence(m, options.thresholds), cap.allSatisfy(\.holds) {
            verdict.admissionCap = cap
            verdict.capacityBound = false
        }
        // Imported files never carry preemption events: "0 preemptions" would be a claim, not a measurement.
        if header.options["import.source_file"] != nil, m.preemptions.total == 0 {
            verdict.capacityEvidence.removeAll { $0.name == "preemptions per completed request" }
            verdict.capacityBound = verdict.capacityEvidence.isEmpty ? nil : verdict.capacityEvidence.contains { $0.holds }
            if !m.kv.isEmpty { cannot.append("preemptions: not in the imported data (a server counter difference, if any, is listed as reported)") }
        }
        if verdict.capacityBound == nil { cannot.append("capacity-bound flag: no KV counters or preemption events") }
        if options.slo.isEmpty { cannot.append("SLO attainment and goodput: no --slo given") }
        var features = Features(metrics: m, roofline: roofline, verdict: verdict, header: header, slo: options.slo,
                                thresholds: options.thresholds, assumptions: options.assumptions)
        features.aggregateEstimate = aggregateEstimate
        features.requestTime = requestTime
        features.prefillWorkers = options.prefillWorkers ?? aggregates.prefillWorkers ?? header.options["prefill_workers"].flatMap { Int($0) }
        features.decodeWorkers = options.decodeWorkers ?? aggregates.decodeWorkers ?? header.options["decode_workers"].flatMap { Int($0) }
        if features.meanTTFT == nil { features.meanTTFT = aggregates.ttft.central }
        if features.meanTPOT == nil { features.meanTPOT = aggregates.tpot.central ?? aggregates.itl.central }
        let recs = RuleSet.evaluate(features)
        for r in recs where r.status == .insufficientData {
            cannot.append("\(r.id) (\(r.key)): needs \(r.missing.joined(separator: "; "))")
        }
        let ranking = RuleSet.rank(features, objective: options.objective)
        var whatIf: WhatIfProjection?
        if let target = whatIfTarget {
            if let r = roofline {
                whatIf = WhatIfProjection(metrics: m, roofline: r, model: header.model, target: target,
                                          pricePerHour: options.pricePerHour)
            } else {
                cannot.append("what-if on \(target.name): needs the source hardware's peaks (--hardware)")
            }
        }
        var cost: CostEstimate?
        if let p = options.pricePerHour, whatIfTarget == nil {
            cost = CostEstimate(pricePerHour: p, wallSeconds: m.duration, prefillShare: m.phases.prefillShareOfBusy,
                                inputTokens: m.requests.inputTokens, outputTokens: m.requests.outputTokens)
        }
        return AnalysisResult(options: options, header: header, metrics: m, hardware: hardware, roofline: roofline,
                              verdict: verdict, features: features, recommendations: recs, ranking: ranking,
                              whatIf: whatIf, cost: cost, cannotConclude: cannot, estimate: estimate,
                              aggregateEstimate: aggregateEstimate, failures: failures, aggregates: aggregates)
    }

    /// One line naming what a file lacks when neither the workload nor the request time can be
    /// told: it says what the file does hold and what would let the analyzer decide.
    static func workloadMissing(metrics m: TraceMetrics, aggregates: AggregateSummary, kernelProfile: Bool) -> String {
        if kernelProfile {
            return "a kernel profile has no requests or tokens, so prefill and decode cannot be told apart; the GPU time split below is its verdict"
        }
        if m.requests.completed == 0, !aggregates.ttft.isEmpty {
            return "the file gives TTFT but neither E2E nor TPOT/ITL with an output length: request time cannot be split"
        }
        if !m.kv.isEmpty {
            return "the file holds server gauges (KV usage, running/waiting), not request timings or latency aggregates; analyze the benchmark's own result file, or run `inferscope profile --endpoint URL` against the server"
        }
        return "the file holds no engine step spans, no per-request timings (arrival, first token, end) and no TTFT/E2E aggregates"
    }

    private func resolveHardware(_ header: RunHeader, notes: inout [String]) throws(AnalysisError) -> HardwareSpec? {
        if let h = explicitHardware { return h }
        if options.hardware?.lowercased() == "host" { return try HardwareSpec.fromHeader(header.hardware) }
        if let spec = try? HardwareSpec.fromHeader(header.hardware) { return spec }
        if let row = try? HardwareCatalog.lookup(header.hardware.name) { return row.spec }
        let near = header.hardware.name == "unknown" ? [] : HardwareCatalog.closest(to: header.hardware.name, among: HardwareCatalog.all.map { $0.aliases.first ?? $0.name })
        notes.append("roofline, MFU/MBU and phase bounds: the trace header has no peaks for '\(header.hardware.name)' and it is not a catalog name\(near.isEmpty ? "" : " (closest catalog entries: \(near.joined(separator: ", ")); not assumed)"); give --hardware NAME|host|FILE.json ('--hardware list' prints the catalog)")
        return nil
    }
}
