import TraceFormat

/// Settings of the metrics pass.
public struct MetricsOptions: Sendable, Equatable {
    public var slo: ServiceLevelObjectives
    /// KV usage at or above this counts as "high" (F4), default 0.9.
    public var highUsageThreshold: Double
    /// Overrides the potential prefix-cache hit rate h_pot (e.g. from an offline replay).
    public var potentialPrefixHitRate: Double?

    public init(slo: ServiceLevelObjectives = .init(), highUsageThreshold: Double = 0.9,
                potentialPrefixHitRate: Double? = nil) {
        self.slo = slo
        self.highUsageThreshold = highUsageThreshold
        self.potentialPrefixHitRate = potentialPrefixHitRate
    }
}

/// Seconds from `b` to `a` (nanosecond times), computed in floating point so that extreme
/// timestamps cannot overflow.
@inline(__always) func seconds(from b: TraceTime, to a: TraceTime) -> Double { (Double(a) - Double(b)) * 1e-9 }

/// `start + duration`, saturating instead of trapping on overflow.
@inline(__always) func spanEnd(_ start: TraceTime, _ duration: TraceDuration) -> TraceTime {
    let (v, o) = start.addingReportingOverflow(duration)
    return o ? (duration > 0 ? .max : .min) : v
}

/// The one streaming pass over a trace. Feed events in trace order with ``consume(_:)``, then
/// call ``finish()``.
///
/// Memory: O(live requests) per-request state plus the samples the percentiles need (one value
/// per completed request per latency metric, one gap per token chunk, one interval per
/// prefill-carrying step, one usage value per KV sample). Everything else is running sums.
/// Step spans of one lane are assumed to arrive in start order (gaps between them are idle time).
public struct MetricsAccumulator: Sendable {
    public let options: MetricsOptions
    public private(set) var header: RunHeader?

    private struct Live: Sendable {
        var arrival: TraceTime?
        var scheduled: TraceTime?
        var firstToken: TraceTime?
        var lastToken: TraceTime?
        var promptTokens: Int?
        var tokens = 0
        /// `token` events after the first token (0: the source gave no chunk times).
        var chunkEvents = 0
        /// The prompt already counted toward the prefix-hit denominator (cached tokens on arrival).
        var promptCounted = false
        var cached = 0
        var seenInStep = false
        var decoding = false
    }
    private var live: [RequestID: Live] = [:]
    /// Requests that finished or were aborted. A static batch keeps computing their slots until
    /// its longest member ends (padding rows); an entry of a finished request is such a row.
    private var ended: Set<RequestID> = []

    // Request samples (seconds).
    private var ttfts: [Double] = []
    private var tpots: [Double] = []
    private var e2es: [Double] = []
    private var queues: [Double] = []
    private var prompts: [Double] = []
    private var uncachedPrompts: [Double] = []
    private var firstArrival: TraceTime?
    private var lastEnd: TraceTime?
    private var arrived = 0, completed = 0, aborted = 0, inputTokens = 0, outputTokens = 0
    /// Abort reasons ("unspecified" when none) → count.
    private var abortReasons: [String: Int] = [:]
    private var good = 0
    // Request-level totals (RequestTimeline).
    private var decodeSeconds = 0.0, decodeContextSeconds = 0.0, decodeTokens = 0, ttftSeconds = 0.0
    private var requestIntervals: [(TraceTime, TraceTime)] = []
    private var prefillShapes: [RequestTimeline.PrefillShape] = []
    private var violations: [String: Int] = [:]

    // ITL gaps as (start, end) ns, for pooled ITL and interference labelling.
    private var gaps: [(TraceTime, TraceTime)] = []
    // Prefill-carrying step intervals with their lane.
    private var prefillIntervals: [(start: TraceTime, end: TraceTime, lane: Int32)] = []
    private var decodeLanes: Set<Int32> = []

    // Phase times.
    private var phaseSeconds: [Phase: Double] = [:]
    private var laneEnd: [Int32: TraceTime] = [:]
    private var gapSeconds = 0.0
    private var work: [Phase: PhaseWork] = [:]
    private var mixedPrefillTokens = 0
    private var mixedPrefillFLOPs = 0.0, mixedFLOPs = 0.0
    private var fit = StepTimeFit()
    private var decodeStepTimes: [Double] = []
    private var mixedStepTimes: [Double] = []
    /// Step-run records (``StepRun``): (mean step seconds, steps), kept apart so that a run of a
    /// million decode steps is one entry; merged with the single steps at the end.
    private var decodeStepRuns: [(Double, Int64)] = []
    private var mixedStepRuns: [(Double, Int64)] = []
    private var batchSizeRuns: [(Double, Int64)] = []

    // Batch.
    private var batchHistogram: [Int: Int] = [:]
    private var batchSizes: [Double] = []
    private var batchTimeSum = 0.0, batchTimeWeight = 0.0
    private var contextSum = 0.0, contextCount = 0

    // Static batching.
    private var inFlightDecoders = 0
    private var joinsWhileDecoding = 0
    private var formations = 0
    private var formedBatch = 0
    private var usedSlots = 0, slotSteps = 0
    private var paddingUsed = 0.0, paddingTotal = 0.0

    // KV pools.
    private struct Pool: Sendable {
        var samples = 0
        var last: KVCacheCounters?
        var usages: [Double] = []
        var weightedUsage = 0.0, weightedTok = 0.0, weightedSlack = 0.0, weightedReserve = 0.0
        var fragWeight = 0.0, weight = 0.0, highWeight = 0.0
        var peak = 0.0, waiting = 0, peakSwapped = 0
        /// Running and waiting per sample, and usage of samples with requests waiting.
        var running: [Int] = [], waitingCounts: [Int] = [], usageWhileWaiting: [Double] = []
    }
    private var pools: [String: Pool] = [:]

    // Preemption, transfers.
    private var preemptions: [String: Int] = [:]
    private var transfers: [String: TransferTotals] = [:]

    // Prefix.
    private var scheduledPromptTokens = 0
    private var cachedTokens = 0
    private var cachedReported = false
    private var promptTokensAll = 0
    private var potentialHits = 0.0
    private var sharedPrefixSeen = false
    private var completedPrompts = 0

    // Speculation.
    private var specDrafts = 0, specDrafted = 0, specAccepted = 0, specSamples = 0
    private var specGammaCounts: [Int: Int] = [:]
    private var specPosAccepted: [Int] = []
    private var specPerRequestDrafts = 0

    private var eventCount = 0

    public init(options: MetricsOptions = .init()) { self.options = options }

    /// Consumes one event. The first event must be the header.
    public mutating func consume(_ event: TraceEvent) throws(AnalysisError) {
        defer { eventCount += 1 }
        switch event {
        case .header(let h):
            guard eventCount == 0 else { return }
            header = h
        case .step(let s):
            try requireHeader()
            consumeStep(s)
        case .request(let r):
            try requireHeader()
            consumeRequest(r)
        case .kvCache(let k):
            try requireHeader()
            consumeKV(k)
        case .speculation(let s):
            try requireHeader()
            consumeSpeculation(s)
        case .transfer(let t):
            try requireHeader()
            var tot = transfers[t.kind.rawValue] ?? TransferTotals(count: 0, bytes: 0, seconds: 0)
            tot.count += 1
            tot.bytes = tot.bytes.addingReportingOverflow(max(0, t.bytes)).overflow ? .max : tot.bytes + max(0, t.bytes)
            tot.seconds += max(0, Double(t.duration)) * 1e-9
            transfers[t.kind.rawValue] = tot
        }
    }

    private func requireHeader() throws(AnalysisError) {
        if header == nil { throw .missingHeader }
    }

    // MARK: steps

    private mutating func consumeStep(_ s: StepEvent) {
        let spanSeconds = max(0, Double(s.duration)) * 1e-9
        // A step-run record stands for n steps: totals are scaled by n, per-step samples are
        // weighted by n; contexts grow by `k` per step, so context sums use the arithmetic series.
        let n = max(1, s.stepCount)
        let nd = Double(n)
        let k = Double(s.run?.contextIncrement ?? 0)
        let series = k * nd * (nd - 1) / 2  // Σ_{j<n} j·k
        let stepSeconds = spanSeconds / nd
        phaseSeconds[s.phase, default: 0] += spanSeconds
        let end = spanEnd(s.start, max(0, s.duration))
        if let prev = laneEnd[s.lane] {
            if s.start > prev { gapSeconds += seconds(from: prev, to: s.start) }
            laneEnd[s.lane] = max(prev, end)
        } else {
            laneEnd[s.lane] = end
        }
        guard s.phase.isForward else { return }

        let prefillTokens = s.prefillTokens
        let decoding = s.batch.filter { $0.decodeTokens > 0 }
        if prefillTokens > 0 && (s.phase == .prefill || s.phase == .mixed) {
            prefillIntervals.append((s.start, end, s.lane))
        }
        if !decoding.isEmpty && s.phase != .draft { decodeLanes.insert(s.lane) }

        // Cost: from the trace, else the shared cost model (draft spans: the draft model is unknown).
        var w = work[s.phase] ?? PhaseWork(phase: s.phase, steps: 0, seconds: 0, flops: 0, bytes: 0,
                                           stepsWithTraceCost: 0, stepsWithoutCost: 0, sequences: 0,
                                           contextTokens: 0, prefillTokens: 0, decodeTokens: 0)
        w.steps += Int(n)
        w.seconds += spanSeconds
        if let f = s.flops, let b = s.bytes {
            w.flops += f
            w.bytes += b
            w.stepsWithTraceCost += Int(n)
        } else if s.phase != .draft, let model = header?.model, !s.batch.isEmpty {
            let cost = model.forwardCost(batch: s.batch, logitRows: Self.logitRows(s.batch))
            if n == 1 {
                w.flops += cost.flops
                w.bytes += cost.bytes
            } else {
                // The cost is affine in each entry's context, so n × the mean of the first and
                // last step is the exact sum over the run.
                let last = Self.advanced(s.batch, by: Int32(clamping: Int64(k) * (n - 1)))
                let end = model.forwardCost(batch: last, logitRows: Self.logitRows(last))
                w.flops += nd * (cost.flops + end.flops) / 2
                w.bytes += nd * (cost.bytes + end.bytes) / 2
            }
        } else {
            w.stepsWithoutCost += Int(n)
        }
        w.prefillTokens += prefillTokens * Int(n)
        w.decodeTokens += s.decodeTokens * Int(n)
        if s.phase != .draft {
            w.sequences += decoding.count * Int(n)
            w.contextTokens += decoding.reduce(0.0) { $0 + Double($1.contextLength) * nd + series }
        }
        work[s.phase] = w

        if s.phase == .mixed {
            mixedPrefillTokens += prefillTokens * Int(n)
            if let model = header?.model {
                let pre = s.batch.filter { $0.prefillTokens > 0 }
                mixedPrefillFLOPs += nd * model.forwardCost(batch: pre, logitRows: 0).flops
                mixedFLOPs += nd * model.forwardCost(batch: s.batch, logitRows: 0).flops
            }
        }
        if s.phase == .prefill || s.phase == .decode || s.phase == .mixed {
            let ctx = s.batch.reduce(0.0) { $0 + Double($1.contextLength) }
            if n == 1 {
                fit.add(prefillTokens: Double(prefillTokens), decodeTokens: Double(s.decodeTokens),
                        context: ctx, seconds: spanSeconds)
            } else {
                fit.addRun(count: n, prefillTokens: Double(prefillTokens), decodeTokens: Double(s.decodeTokens),
                           firstContext: ctx, contextIncrement: k * Double(s.batch.count), seconds: stepSeconds)
            }
        }
        if n == 1 {
            if s.phase == .decode { decodeStepTimes.append(spanSeconds) }
            if s.phase == .mixed { mixedStepTimes.append(spanSeconds) }
        } else {
            if s.phase == .decode { decodeStepRuns.append((stepSeconds, n)) }
            if s.phase == .mixed { mixedStepRuns.append((stepSeconds, n)) }
        }

        if !decoding.isEmpty && s.phase != .draft {
            batchHistogram[decoding.count, default: 0] += Int(n)
            if n == 1 { batchSizes.append(Double(decoding.count)) } else { batchSizeRuns.append((Double(decoding.count), n)) }
            batchTimeSum += Double(decoding.count) * spanSeconds
            batchTimeWeight += spanSeconds
            for e in decoding { contextSum += Double(e.contextLength) * nd + series }
            contextCount += decoding.count * Int(n)
        }

        // Static-batching bookkeeping.
        if s.phase != .draft && s.phase != .verify {
            var newcomers: [BatchEntry] = []
            for e in s.batch where !ended.contains(e.request) && (live[e.request]?.seenInStep == false || live[e.request] == nil) {
                newcomers.append(e)
                live[e.request, default: Live()].seenInStep = true
            }
            if !newcomers.isEmpty {
                if inFlightDecoders > 0 {
                    joinsWhileDecoding += 1
                } else {
                    formations += 1
                    formedBatch = newcomers.count
                    let lengths = newcomers.map { Double($0.prefillTokens) }
                    if let longest = lengths.max(), longest > 0 {
                        paddingUsed += lengths.reduce(0, +)
                        paddingTotal += longest * Double(lengths.count)
                    }
                }
            }
        }
        if !decoding.isEmpty && formedBatch > 0 {
            // Padding rows (entries of ended requests) hold a slot without producing a token.
            let useful = decoding.reduce(0) { $0 + (ended.contains($1.request) ? 0 : 1) }
            usedSlots += useful * Int(n)
            slotSteps += max(formedBatch, decoding.count) * Int(n)
        }
    }

    /// `batch` with every entry's context increased by `delta` tokens (the last step of a run).
    static func advanced(_ batch: [BatchEntry], by delta: Int32) -> [BatchEntry] {
        batch.map { e in
            var e = e
            e.contextLength = e.contextLength &+ delta
            return e
        }
    }

    /// Logit rows a batch needs: every generated/verified position, plus one per prefill entry
    /// (assumes each chunk may be the prompt's last; a slight over-count for non-final chunks).
    static func logitRows(_ batch: [BatchEntry]) -> Int {
        batch.reduce(0) { $0 + Int($1.decodeTokens) + ($1.prefillTokens > 0 ? 1 : 0) }
    }

    // MARK: requests

    private mutating func consumeRequest(_ r: RequestEvent) {
        var st = live[r.request] ?? Live()
        switch r.kind {
        case .arrival:
            st.arrival = r.time
            st.promptTokens = r.promptTokens.map(Int.init) ?? st.promptTokens
            arrived += 1
            firstArrival = min(firstArrival ?? r.time, r.time)
            // Imported sources that report prefix-cache hits but no scheduling time put them here.
            if let c = r.cachedTokens {
                st.cached = Int(c)
                cachedTokens += Int(c)
                cachedReported = true
                scheduledPromptTokens += st.promptTokens ?? 0
                st.promptCounted = true
            }
        case .scheduled:
            if st.scheduled == nil {
                st.scheduled = r.time
                let prompt = st.promptTokens ?? r.promptTokens.map(Int.init) ?? 0
                if !st.promptCounted { scheduledPromptTokens += prompt }
                if let c = r.cachedTokens {
                    st.cached = Int(c)
                    cachedTokens += Int(c)
                    cachedReported = true
                }
            }
        case .firstToken:
            st.firstToken = r.time
            st.lastToken = r.time
            st.tokens += Int(r.tokens ?? 1)
            if !st.decoding { st.decoding = true; inFlightDecoders += 1 }
        case .token:
            if let prev = st.lastToken { gaps.append((prev, r.time)) }
            st.lastToken = r.time
            st.chunkEvents += 1
            st.tokens += Int(r.tokens ?? 1)
        case .preempted:
            preemptions[r.reason ?? "unspecified", default: 0] += 1
        case .resumed:
            break
        case .finished, .aborted:
            if st.decoding { inFlightDecoders -= 1; st.decoding = false }
            lastEnd = max(lastEnd ?? r.time, r.time)
            if let p = r.promptTokens, st.promptTokens == nil { st.promptTokens = Int(p) }
            if let a = st.arrival { requestIntervals.append((a, max(a, st.lastToken ?? r.time, r.time))) }
            if r.kind == .aborted {
                aborted += 1
                let why = r.reason ?? ""
                abortReasons[why.allSatisfy(\.isWhitespace) ? "unspecified" : String(why.prefix(200)), default: 0] += 1
            } else {
                finishRequest(st, at: r.time, reportedTokens: r.tokens.map(Int.init))
            }
            live[r.request] = nil
            ended.insert(r.request)
            return
        }
        live[r.request] = st
    }

    private mutating func finishRequest(_ st: Live, at time: TraceTime, reportedTokens: Int?) {
        completed += 1
        let output = reportedTokens ?? st.tokens
        let prompt = st.promptTokens ?? 0
        inputTokens += prompt
        outputTokens += output
        promptTokensAll += prompt
        prompts.append(Double(prompt))
        uncachedPrompts.append(Double(max(0, prompt - st.cached)))
        if let h = header, let shared = Int(h.workload.parameters["shared_prefix_tokens"] ?? "") {
            let block = Int(h.options["block_size"] ?? "") ?? 16
            let reusable = (min(shared, prompt) / block) * block
            if sharedPrefixSeen { potentialHits += Double(reusable) }
            sharedPrefixSeen = true
        }
        completedPrompts += 1
        guard let arrival = st.arrival else { return }
        var ttft: Double?
        var tpot: Double?
        // The last token ends the request; when the source gave only the first token and the
        // finish reports more tokens than were delivered (imported request-level files: LLMPerf,
        // OTel spans without chunk events), the finish does.
        let timesMissing = st.chunkEvents == 0 && st.firstToken != nil && output > st.tokens
        let endTime = timesMissing ? max(st.lastToken ?? time, time) : (st.lastToken ?? time)
        let e2e = seconds(from: arrival, to: endTime)
        e2es.append(e2e)
        if let s = st.scheduled { queues.append(seconds(from: arrival, to: s)) }
        if let f = st.firstToken {
            let t = seconds(from: arrival, to: f)
            ttft = t
            ttfts.append(t)
            if output > 1 {
                let v = (e2e - t) / Double(output - 1)
                tpot = v
                tpots.append(v)
            }
            decodeSeconds += max(0, e2e - t)
            decodeContextSeconds += max(0, e2e - t) * (Double(prompt) + Double(output) / 2)
            decodeTokens += max(0, output - 1)
            ttftSeconds += t
            prefillShapes.append(.init(uncached: max(0, prompt - st.cached), cached: min(prompt, st.cached)))
        }
        let slo = options.slo
        var ok = true
        if let target = slo.ttft { if ttft.map({ $0 > target }) ?? true { ok = false; violations["ttft", default: 0] += 1 } }
        if let target = slo.tpot { if (tpot ?? 0) > target { ok = false; violations["tpot", default: 0] += 1 } }
        if let target = slo.e2e { if e2e > target { ok = false; violations["e2e", default: 0] += 1 } }
        if ok { good += 1 }
    }

    // MARK: KV and speculation

    private mutating func consumeKV(_ k: KVCacheCounters) {
        var p = pools[k.pool] ?? Pool()
        if let last = p.last {
            let dt = max(0, seconds(from: last.time, to: k.time))
            let u = last.blocksTotal > 0 ? Double(last.blocksUsed) / Double(last.blocksTotal) : 0
            p.weightedUsage += u * dt
            p.weight += dt
            if u >= options.highUsageThreshold { p.highWeight += dt }
            let slots = Double(last.blocksUsed) * Double(last.blockSize)
            // tokensStored 0 with blocks in use: the source does not expose it (vLLM /metrics).
            if slots > 0, last.tokensStored > 0 {
                p.weightedTok += Double(last.tokensStored) / slots * dt
                p.weightedSlack += Double(last.slackTokens) / slots * dt
                p.weightedReserve += Double(last.reservedTokens) / slots * dt
                p.fragWeight += dt
            }
        }
        let usage = k.blocksTotal > 0 ? Double(k.blocksUsed) / Double(k.blocksTotal) : 0
        p.usages.append(usage)
        p.peak = max(p.peak, usage)
        p.samples += 1
        if k.waiting > 0 { p.waiting += 1; p.usageWhileWaiting.append(usage) }
        p.running.append(Int(k.running))
        p.waitingCounts.append(Int(k.waiting))
        p.peakSwapped = max(p.peakSwapped, Int(k.swappedBlocks))
        p.last = k
        pools[k.pool] = p
    }

    private mutating func consumeSpeculation(_ s: SpeculationCounters) {
        specSamples += 1
        specDrafted += Int(s.drafted)
        specAccepted += Int(s.accepted)
        specGammaCounts[Int(s.draftLength), default: 0] += 1
        if s.perRequest.isEmpty {
            let gamma = max(1, Int(s.draftLength))
            specDrafts += (Int(s.drafted) + gamma - 1) / gamma
        } else {
            specDrafts += s.perRequest.count
            specPerRequestDrafts += s.perRequest.count
            // Positions beyond what was drafted (or beyond 64) are not credible: clamp.
            for pr in s.perRequest where pr.accepted > 0 {
                let n = Int(min(pr.accepted, max(0, pr.drafted), 64))
                if specPosAccepted.count < n {
                    specPosAccepted += [Int](repeating: 0, count: n - specPosAccepted.count)
                }
                for k in 0..<n { specPosAccepted[k] += 1 }
            }
        }
    }
}

// MARK: - finish

extension MetricsAccumulator {
    /// Builds the metrics. O(n log n) in the stored samples.
    public func finish() throws(AnalysisError) -> TraceMetrics {
        guard header != nil else { throw .missingHeader }
        var missing: [String] = []

        let laneStart = work.values.isEmpty && phaseSeconds.isEmpty
        var duration = 0.0
        if let a = firstArrival, let e = lastEnd, e > a {
            duration = seconds(from: a, to: e)
        } else if !laneStart {
            duration = phaseSeconds.values.reduce(0, +) + gapSeconds
            missing.append("request lifecycle events (arrival/finished): throughput uses engine time instead of request time")
        }
        if arrived == 0 { missing.append("request events: no TTFT, TPOT, ITL, E2E or goodput") }

        let throughput = Throughput(
            inputTokensPerSecond: duration > 0 ? Double(inputTokens) / duration : 0,
            outputTokensPerSecond: duration > 0 ? Double(outputTokens) / duration : 0,
            totalTokensPerSecond: duration > 0 ? Double(inputTokens + outputTokens) / duration : 0,
            requestsPerSecond: duration > 0 ? Double(completed) / duration : 0)

        var goodput: Goodput?
        if !(options.slo.ttft == nil && options.slo.tpot == nil && options.slo.e2e == nil), completed > 0 {
            goodput = Goodput(goodRequests: good, requestsPerSecond: duration > 0 ? Double(good) / duration : 0,
                              attainment: Double(good) / Double(completed), violations: violations)
        }

        // Step model and the mixed split.
        let model = fit.solve()
        var mixedPrefill = 0.0
        var splitMethod = "none"
        let mixedSeconds = phaseSeconds[.mixed] ?? 0
        if mixedSeconds > 0 {
            if let m = model, m.perPrefillToken > 0 {
                mixedPrefill = min(mixedSeconds, m.perPrefillToken * Double(mixedPrefillTokens))
                splitMethod = "regression"
            } else if mixedFLOPs > 0 {
                mixedPrefill = mixedSeconds * mixedPrefillFLOPs / mixedFLOPs
                splitMethod = "flops"
            }
        }
        if phaseSeconds.isEmpty { missing.append("step spans: no phase shares, roofline or verdict") }

        // Interference.
        let itlValues = gaps.map { seconds(from: $0.0, to: $0.1) }
        let interference = interferenceStats(itlValues)

        // KV.
        var kvStats: [KVPoolStats] = []
        for name in pools.keys.sorted() {
            let p = pools[name]!
            let last = p.last!
            let sorted = p.usages.sorted()
            kvStats.append(KVPoolStats(
                pool: name, samples: p.samples, blocksTotal: Int(last.blocksTotal), blockSize: Int(last.blockSize),
                meanUsage: p.weight > 0 ? p.weightedUsage / p.weight : sorted.reduce(0, +) / Double(sorted.count),
                p95Usage: Distribution.percentile(sorted: sorted, 95), peakUsage: p.peak,
                timeAtHighUsage: p.weight > 0 ? p.highWeight / p.weight : (p.peak >= options.highUsageThreshold ? 1 : 0),
                highUsageThreshold: options.highUsageThreshold,
                tokenUtilisation: p.fragWeight > 0 ? p.weightedTok / p.fragWeight : nil,
                lastBlockSlack: p.fragWeight > 0 ? p.weightedSlack / p.fragWeight : nil,
                reservationWaste: p.fragWeight > 0 ? p.weightedReserve / p.fragWeight : nil,
                waitingShare: Double(p.waiting) / Double(p.samples), peakSwappedBlocks: p.peakSwapped,
                admission: AdmissionStats(running: p.running, waiting: p.waitingCounts, usageWhileWaiting: p.usageWhileWaiting,
                                           usages: p.usages, cap: header?.options["max_num_seqs"].flatMap { Int($0) })))
        }
        if pools.isEmpty { missing.append("KV-cache counters: no occupancy, fragmentation or capacity verdict") }

        // Prefix.
        var prefix = PrefixStats(promptTokens: scheduledPromptTokens, cachedTokens: nil, measuredHitRate: nil,
                                 potentialHitRate: nil, potentialSource: nil)
        let prefixOption = header?.options["prefix_cache"]?.lowercased()
        if cachedReported {
            prefix.cachedTokens = cachedTokens
            prefix.measuredHitRate = scheduledPromptTokens > 0 ? Double(cachedTokens) / Double(scheduledPromptTokens) : 0
        } else if let o = prefixOption, ["false", "off", "0", "no", "none"].contains(o) {
            prefix.cachedTokens = 0
            prefix.measuredHitRate = 0
        }
        if let forced = options.potentialPrefixHitRate {
            prefix.potentialHitRate = forced
            prefix.potentialSource = "user-supplied"
        } else if sharedPrefixSeen, promptTokensAll > 0 {
            prefix.potentialHitRate = potentialHits / Double(promptTokensAll)
            prefix.potentialSource = "workload shared_prefix_tokens, full blocks, first request cold"
        } else if let estimate = classPrefixEstimate(), promptTokensAll > 0 {
            let hits = max(0, Double(completedPrompts) * estimate.meanReusable - estimate.coldMisses)
            prefix.potentialHitRate = min(1, hits / Double(promptTokensAll))
            prefix.potentialSource = "estimate from workload classes' shared_prefix (uniform class mix, full blocks, one cold miss per class)"
        } else {
            missing.append("prompt token ids or block hashes: potential prefix-cache hit rate h_pot not computable")
        }

        // Speculation.
        var spec: SpeculationStats?
        if specSamples > 0, specDrafts > 0 {
            let gamma = specGammaCounts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }!.key
            let mal = 1 + Double(specAccepted) / Double(specDrafts)
            var perPos: [Double] = []
            var alphaK: [Double] = []
            if specPerRequestDrafts > 0 {
                let counts = specPosAccepted + [Int](repeating: 0, count: max(0, min(gamma, 64) - specPosAccepted.count))
                perPos = counts.map { Double($0) / Double(specPerRequestDrafts) }
                var prev = 1.0
                for r in perPos { alphaK.append(prev > 0 ? r / prev : 0); prev = r }
            }
            var c: Double?
            if let draft = phaseSeconds[.draft], let verify = phaseSeconds[.verify], verify > 0, gamma > 0 {
                c = draft / (Double(gamma) * verify)
            }
            spec = SpeculationStats(
                drafts: specDrafts, draftedTokens: specDrafted, acceptedTokens: specAccepted, gamma: gamma,
                acceptanceRate: specDrafted > 0 ? Double(specAccepted) / Double(specDrafted) : 0,
                meanAcceptedLength: mal, alpha: Speculation.solveAlpha(meanAcceptedLength: mal, gamma: gamma),
                perPosition: perPos, alphaPerPosition: alphaK, costRatio: c)
        }

        // Static batching.
        let scheduler = header?.options["scheduler"]?.lowercased()
        let detected = scheduler == "static" || (scheduler == nil && joinsWhileDecoding == 0 && formations >= 2)
        let staticStats = StaticBatchingStats(
            joinsWhileDecoding: joinsWhileDecoding, formations: formations, detected: detected,
            slotUtilisation: detected && slotSteps > 0 ? Double(usedSlots) / Double(slotSteps) : nil,
            paddingWaste: detected && paddingTotal > 0 ? 1 - paddingUsed / paddingTotal : nil)

        let preemptionTotal = preemptions.values.reduce(0, +)
        return TraceMetrics(
            requests: RequestCounts(arrived: arrived, completed: completed, aborted: aborted,
                                    inputTokens: inputTokens, outputTokens: outputTokens, abortReasons: abortReasons),
            duration: duration,
            ttft: Distribution(ttfts), tpot: Distribution(tpots), itl: Distribution(itlValues),
            e2e: Distribution(e2es), queue: Distribution(queues),
            promptTokens: Distribution(prompts), uncachedPromptTokens: Distribution(uncachedPrompts),
            throughput: throughput, goodput: goodput,
            phases: PhaseTimes(seconds: phaseSeconds, gapSeconds: gapSeconds, mixedPrefillSeconds: mixedPrefill,
                               mixedSplitMethod: splitMethod),
            batch: BatchStats(histogram: batchHistogram, sizes: Self.distribution(batchSizes, runs: batchSizeRuns),
                              timeWeightedMean: batchTimeWeight > 0 ? batchTimeSum / batchTimeWeight : nil,
                              meanContext: contextCount > 0 ? contextSum / Double(contextCount) : nil),
            kv: kvStats,
            preemptions: PreemptionStats(byReason: preemptions,
                                         perSecond: duration > 0 ? Double(preemptionTotal) / duration : 0,
                                         transfers: transfers),
            prefix: prefix, speculation: spec, interference: interference, staticBatching: staticStats,
            stepModel: model,
            work: Phase.allCases.compactMap { work[$0] },
            missing: missing,
            timeline: RequestTimeline(decodeSeconds: decodeSeconds, decodeContextSeconds: decodeContextSeconds,
                                      decodeTokens: decodeTokens, ttftSeconds: ttftSeconds,
                                      busySeconds: RequestTimeline.unionSeconds(requestIntervals), prefills: prefillShapes))
    }

    /// From the runtime's workload parameters `class.NAME = "… shared_prefix=N"`: the mean reusable
    /// tokens per request (full blocks, classes drawn uniformly) and the cold-miss tokens (one
    /// request per class). nil when no class shares a prefix.
    private func classPrefixEstimate() -> (meanReusable: Double, coldMisses: Double)? {
        guard let h = header else { return nil }
        let block = Int(h.options["block_size"] ?? "") ?? 16
        var reusable: [Int] = []
        for (key, value) in h.workload.parameters where key.hasPrefix("class.") {
            let field = value.split(separator: " ").first { $0.hasPrefix("shared_prefix=") }
            let n = field.flatMap { Int($0.dropFirst("shared_prefix=".count)) } ?? 0
            reusable.append((n / block) * block)
        }
        guard !reusable.isEmpty, reusable.contains(where: { $0 > 0 }) else { return nil }
        return (Double(reusable.reduce(0, +)) / Double(reusable.count), Double(reusable.reduce(0, +)))
    }

    /// Labels each token gap clean or contaminated (a prefill-carrying step on a decoding lane
    /// overlaps it) and summarises both (methodology §6.4). O((g + p) log p).
    private func interferenceStats(_ itlValues: [Double]) -> InterferenceStats {
        let intervals = prefillIntervals.filter { decodeLanes.contains($0.lane) }.sorted { $0.start < $1.start }
        var prefixMaxEnd: [TraceTime] = []
        prefixMaxEnd.reserveCapacity(intervals.count)
        for iv in intervals { prefixMaxEnd.append(max(prefixMaxEnd.last ?? .min, iv.end)) }
        var clean: [Double] = [], dirty: [Double] = []
        var labels: [Bool] = []
        labels.reserveCapacity(gaps.count)
        for (i, g) in gaps.enumerated() {
            // Intervals starting before the gap's end; any of them ending after its start overlaps.
            var lo = 0, hi = intervals.count
            while lo < hi { let mid = (lo + hi) / 2; if intervals[mid].start < g.1 { lo = mid + 1 } else { hi = mid } }
            let contaminated = lo > 0 && prefixMaxEnd[lo - 1] > g.0
            labels.append(contaminated)
            if contaminated { dirty.append(itlValues[i]) } else { clean.append(itlValues[i]) }
        }
        let cleanMedian = Distribution.median(clean)
        var ratio: Double?
        if let c = cleanMedian, c > 0, let d = Distribution.median(dirty) { ratio = d / c }
        var stallShare: Double?
        var stalls = 0
        let total = itlValues.reduce(0, +)
        if let c = cleanMedian, total > 0 {
            stallShare = dirty.reduce(0) { $0 + max(0, $1 - c) } / total
            stalls = dirty.filter { $0 > 3 * c }.count
        }
        var violationShare: Double?
        if let target = options.slo.itl {
            var v = 0, vd = 0
            for (i, x) in itlValues.enumerated() where x > target { v += 1; if labels[i] { vd += 1 } }
            violationShare = v > 0 ? Double(vd) / Double(v) : 0
        }
        return InterferenceStats(cleanGaps: Distribution(clean), contaminatedGaps: Distribution(dirty), ratio: ratio,
                                 stallShare: stallShare, stalls: stalls, contaminatedShareOfViolations: violationShare,
                                 decodeStepTimes: Self.distribution(decodeStepTimes, runs: decodeStepRuns),
                                 mixedStepTimes: Self.distribution(mixedStepTimes, runs: mixedStepRuns))
    }

    /// The distribution of `values` plus each run's value repeated its count, computed without
    /// expanding the runs: the same numbers as `Distribution` of the expanded sample (NumPy
    /// linear percentiles over the expanded order statistics). O(m log m) for m entries.
    static func distribution(_ values: [Double], runs: [(Double, Int64)]) -> Distribution? {
        guard !runs.isEmpty else { return Distribution(values) }
        let entries = (values.map { ($0, Int64(1)) } + runs.filter { $0.1 > 0 }).sorted { $0.0 < $1.0 }
        let total = entries.reduce(Int64(0)) { $0 + $1.1 }
        guard total > 0 else { return nil }
        // The value at 0-based position i of the expanded sorted sample.
        var cumulative: [Int64] = []
        cumulative.reserveCapacity(entries.count)
        var c: Int64 = 0
        for e in entries { c += e.1; cumulative.append(c) }
        func at(_ i: Int64) -> Double {
            var lo = 0, hi = cumulative.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] > i { hi = mid } else { lo = mid + 1 }
            }
            return entries[lo].0
        }
        func percentile(_ q: Double) -> Double {
            let rank = q / 100 * Double(total - 1)
            let lo = Int64(rank.rounded(.down))
            let hi = Swift.min(lo + 1, total - 1)
            let a = at(lo), b = at(hi)
            return a + (b - a) * (rank - Double(lo))
        }
        let mean = entries.reduce(0.0) { $0 + $1.0 * Double($1.1) } / Double(total)
        guard var d = Distribution([entries[0].0]) else { return nil }
        d.count = Int(total)
        d.mean = mean
        d.max = entries[entries.count - 1].0
        d.p50 = percentile(50)
        d.p90 = percentile(90)
        d.p95 = percentile(95)
        d.p99 = percentile(99)
        return d
    }
}
