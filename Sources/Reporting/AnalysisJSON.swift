import Analysis
import TraceFormat

/// The `--json` document (schema "inferscope.analysis" 1.0, documented in docs/analysis-json.md).
/// Durations in seconds (keys ending `_s`), bytes, FLOPs, shares in 0…1. Every optional value is
/// present as null when unknown, so the key set is stable.
public enum AnalysisJSON {
    public static let schema = "inferscope.analysis"
    public static let version = "1.0"

    public static func document(_ r: AnalysisResult) -> JSONValue {
        .object([
            "schema": .string(schema),
            "version": .string(version),
            "trace": trace(r.header),
            "request": request(r.options),
            "hardware": r.hardware.map { hardware($0, roofline: r.roofline) } ?? .null,
            "verdict": verdict(r.verdict),
            "failures": r.failures.map(failures) ?? .null,
            "aggregate_estimate": r.aggregateEstimate.map(aggregateEstimate) ?? .null,
            "metrics": metrics(r.metrics),
            "roofline": r.roofline.map(roofline) ?? .null,
            "recommendations": .array(r.recommendations.map(recommendation)),
            "ranking": ranking(r.ranking),
            "what_if": r.whatIf.map(whatIf) ?? .null,
            "cost": r.cost.map(cost) ?? .null,
            "cannot_conclude": .strings(r.cannotConclude),
        ])
    }

    public static func render(_ r: AnalysisResult) -> String { document(r).serialized() }

    static func trace(_ h: RunHeader) -> JSONValue {
        .object([
            "producer": .string(h.producer),
            "model": .string(h.model.name),
            "weight_type": .string(h.model.weightType),
            "kv_type": .string(h.model.kvType),
            "hardware": .string(h.hardware.name),
            "workload": .string(h.workload.name),
            "options": .dict(h.options),
        ])
    }

    static func request(_ o: AnalysisOptions) -> JSONValue {
        .object([
            "hardware": .str(o.hardware),
            "objective": .string(o.objective.rawValue),
            "slo": .object(["ttft_s": .num(o.slo.ttft), "tpot_s": .num(o.slo.tpot), "e2e_s": .num(o.slo.e2e), "itl_s": .num(o.slo.itl)]),
            "on": .str(o.whatIf),
            "price_usd_per_hour": .num(o.pricePerHour),
        ])
    }

    static func hardware(_ h: HardwareSpec, roofline: RooflineAnalysis?) -> JSONValue {
        .object([
            "name": .string(h.name),
            "origin": .string(h.origin),
            "source": .string(h.source),
            "memory_bandwidth_bytes_per_s": .number(h.memoryBandwidth),
            "peak_flops": .object(h.peakFLOPS.mapValues { .number($0) }),
            "memory_bytes": .num(h.memoryBytes),
            "math_dtype": .str(roofline?.dtype),
            "ridge_flop_per_byte": .num(roofline?.ridge),
        ])
    }

    static func evidence(_ e: Evidence) -> JSONValue {
        .object(["name": .string(e.name), "value": .number(e.value), "relation": .string(e.relation),
                 "threshold": .number(e.threshold), "holds": .bool(e.holds), "unit": .string(e.unit.rawValue)])
    }

    static func verdict(_ v: Verdict) -> JSONValue {
        .object([
            "workload": .object(["label": .string(v.workload.rawValue), "evidence": .array(v.workloadEvidence.map(evidence))]),
            "phases": .array(v.phases.map { p in
                .object(["phase": .string(p.phase.rawValue), "bound": .string(p.bound.rawValue),
                         "evidence": .array(p.evidence.map(evidence)), "note": .str(p.note)])
            }),
            "capacity_bound": .object(["value": v.capacityBound.map { .bool($0) } ?? .null,
                                       "evidence": .array(v.capacityEvidence.map(evidence))]),
            "missed_slos": .strings(v.missedSLOs),
            "slo_cross_check": .str(v.sloCrossCheck),
            "level": .str(v.level?.rawValue),
            "request_time": v.requestTime.map(requestTime) ?? .null,
            "admission_cap": v.admissionCap.map { .array($0.map(evidence)) } ?? .null,
            "workload_missing": .str(v.workloadMissing),
            "kernel_time": v.kernelTime.map(kernelTime) ?? .null,
        ])
    }

    static func kernelTime(_ k: KernelTimeSplit) -> JSONValue {
        .object(["lead": .string(k.lead.rawValue), "window_s": .number(k.windowSeconds),
                 "steps": k.steps.map { .int($0) } ?? .null,
                 "shares": .object(Dictionary(uniqueKeysWithValues: k.shares.map { ($0.name.lowercased(), JSONValue.number($0.share)) })),
                 "reading": .string(k.reading), "evidence": .array(k.evidence.map(evidence))])
    }

    static func requestTime(_ t: RequestTimeSplit) -> JSONValue {
        .object(["level": .string(t.level.rawValue), "dominant": .string(t.dominant.rawValue),
                 "ttft_mean_s": .number(t.ttftSeconds), "decode_mean_s": .number(t.decodeSeconds),
                 "queue_mean_s": .num(t.queueSeconds), "ttft_share": .number(t.ttftShare),
                 "decode_source": .string(t.decodeSource), "requests": t.requests.map { .int($0) } ?? .null,
                 "evidence": .array(t.evidence.map(evidence))])
    }

    static func failures(_ f: FailureSummary) -> JSONValue {
        .object(["completed": .int(f.completed), "failed": .int(f.failed), "failed_share": .number(f.failedShare),
                 "all_failed": .bool(f.allFailed), "most_failed": .bool(f.mostFailed), "source": .string(f.source.rawValue),
                 "errors": .array(f.errors.map { .object(["error": .string($0.error), "count": .int($0.count)]) }),
                 "headline": .string(f.headline)])
    }

    static func aggregateEstimate(_ e: AggregateLevelEstimate) -> JSONValue {
        .object(["level": .string(e.inputs.level.rawValue),
                 "concurrency": .num(e.concurrency), "concurrency_source": .string(e.concurrencySource),
                 "decode_batch": .num(e.decodeBatch), "decode_context_tokens": .number(e.decodeContext),
                 "decode_step_s": .num(e.inputs.tpot), "decode_step_roofline_s": .num(e.decodeStepRoofline),
                 "decode_mfu": .num(e.decode?.mfu), "decode_mbu": .num(e.decode?.mbu),
                 "prefill_floor_s": .number(e.prefillFloorSeconds), "ttft_mean_s": .number(e.inputs.ttft),
                 "ttft_over_floor": .number(e.ttftOverFloor), "ttft_is_queueing": .bool(e.ttftIsQueueing),
                 "ttft_reading": .string(e.ttftReading)])
    }

    static func dist(_ d: Distribution?) -> JSONValue {
        guard let d else { return .null }
        return .object(["n": .int(d.count), "mean": .number(d.mean), "min": .number(d.min), "max": .number(d.max),
                        "p50": .number(d.p50), "p90": .number(d.p90), "p95": .number(d.p95), "p99": .number(d.p99)])
    }

    static func metrics(_ m: TraceMetrics) -> JSONValue {
        let p = m.phases
        var phaseSeconds: [String: JSONValue] = [:]
        var phaseShares: [String: JSONValue] = [:]
        for ph in Phase.allCases {
            phaseSeconds[ph.rawValue] = .number(p.seconds[ph] ?? 0)
            phaseShares[ph.rawValue] = .number(p.share(ph))
        }
        return .object([
            "requests": .object(["arrived": .int(m.requests.arrived), "completed": .int(m.requests.completed),
                                 "aborted": .int(m.requests.aborted), "input_tokens": .int(m.requests.inputTokens),
                                 "output_tokens": .int(m.requests.outputTokens)]),
            "duration_s": .number(m.duration),
            "latency": .object(["ttft_s": dist(m.ttft), "tpot_s": dist(m.tpot), "itl_s": dist(m.itl),
                                "e2e_s": dist(m.e2e), "queue_s": dist(m.queue)]),
            "prompt_tokens": dist(m.promptTokens),
            "uncached_prompt_tokens": dist(m.uncachedPromptTokens),
            "throughput": .object([
                "input_tokens_per_s": .number(m.throughput.inputTokensPerSecond),
                "output_tokens_per_s": .number(m.throughput.outputTokensPerSecond),
                "total_tokens_per_s": .number(m.throughput.totalTokensPerSecond),
                "requests_per_s": .number(m.throughput.requestsPerSecond)]),
            "goodput": m.goodput.map { g in
                .object(["good_requests": .int(g.goodRequests), "requests_per_s": .number(g.requestsPerSecond),
                         "attainment": .number(g.attainment), "violations": .object(g.violations.mapValues { .int($0) })])
            } ?? .null,
            "phases": .object([
                "seconds": .object(phaseSeconds), "share": .object(phaseShares),
                "gap_seconds": .number(p.gapSeconds), "idle_share": .number(p.idleShare),
                "busy_seconds": .number(p.busySeconds),
                "prefill_share_of_busy": .number(p.prefillShareOfBusy),
                "decode_share_of_busy": .number(p.decodeShareOfBusy),
                "mixed_prefill_seconds": .number(p.mixedPrefillSeconds),
                "mixed_split_method": .string(p.mixedSplitMethod)]),
            "batch": .object([
                "histogram": .object(Dictionary(uniqueKeysWithValues: m.batch.histogram.map { (String($0.key), JSONValue.int($0.value)) })),
                "sizes": dist(m.batch.sizes), "time_weighted_mean": .num(m.batch.timeWeightedMean),
                "mean_context_tokens": .num(m.batch.meanContext)]),
            "kv": .array(m.kv.map { k in
                .object(["pool": .string(k.pool), "samples": .int(k.samples), "blocks_total": .int(k.blocksTotal),
                         "block_size": .int(k.blockSize), "mean_usage": .number(k.meanUsage), "p95_usage": .number(k.p95Usage),
                         "peak_usage": .number(k.peakUsage), "time_at_high_usage": .number(k.timeAtHighUsage),
                         "high_usage_threshold": .number(k.highUsageThreshold),
                         "token_utilisation": .num(k.tokenUtilisation), "last_block_slack": .num(k.lastBlockSlack),
                         "reservation_waste": .num(k.reservationWaste), "waiting_share": .number(k.waitingShare),
                         "peak_swapped_blocks": .int(k.peakSwappedBlocks)])
            }),
            "preemptions": .object([
                "by_reason": .object(m.preemptions.byReason.mapValues { .int($0) }),
                "total": .int(m.preemptions.total), "per_s": .number(m.preemptions.perSecond),
                "transfers": .object(m.preemptions.transfers.mapValues { t in
                    .object(["count": .int(t.count), "bytes": .int(Int(t.bytes)), "seconds": .number(t.seconds)])
                })]),
            "prefix": .object([
                "prompt_tokens": .int(m.prefix.promptTokens), "cached_tokens": m.prefix.cachedTokens.map { .int($0) } ?? .null,
                "measured_hit_rate": .num(m.prefix.measuredHitRate), "potential_hit_rate": .num(m.prefix.potentialHitRate),
                "potential_source": .str(m.prefix.potentialSource)]),
            "speculation": m.speculation.map { s in
                .object(["drafts": .int(s.drafts), "drafted_tokens": .int(s.draftedTokens),
                         "accepted_tokens": .int(s.acceptedTokens), "gamma": .int(s.gamma),
                         "acceptance_rate": .number(s.acceptanceRate), "mean_accepted_length": .number(s.meanAcceptedLength),
                         "alpha": .number(s.alpha), "per_position": .array(s.perPosition.map { .number($0) }),
                         "alpha_per_position": .array(s.alphaPerPosition.map { .number($0) }), "cost_ratio": .num(s.costRatio)])
            } ?? .null,
            "interference": .object([
                "clean_gaps_s": dist(m.interference.cleanGaps), "contaminated_gaps_s": dist(m.interference.contaminatedGaps),
                "ratio": .num(m.interference.ratio), "stall_share": .num(m.interference.stallShare),
                "stalls": .int(m.interference.stalls),
                "contaminated_share_of_violations": .num(m.interference.contaminatedShareOfViolations),
                "decode_step_s": dist(m.interference.decodeStepTimes), "mixed_step_s": dist(m.interference.mixedStepTimes)]),
            "static_batching": .object([
                "detected": .bool(m.staticBatching.detected), "joins_while_decoding": .int(m.staticBatching.joinsWhileDecoding),
                "formations": .int(m.staticBatching.formations), "slot_utilisation": .num(m.staticBatching.slotUtilisation),
                "padding_waste": .num(m.staticBatching.paddingWaste)]),
            "step_model": m.stepModel.map { s in
                .object(["intercept_s": .number(s.intercept), "per_prefill_token_s": .number(s.perPrefillToken),
                         "per_decode_token_s": .number(s.perDecodeToken), "per_context_token_s": .number(s.perContextToken),
                         "terms": .strings(s.terms), "samples": .int(s.samples)])
            } ?? .null,
        ])
    }

    static func roofline(_ r: RooflineAnalysis) -> JSONValue {
        .object([
            "phases": .array(r.phases.map { p in
                .object(["phase": .string(p.phase.rawValue), "steps": .int(p.steps), "seconds": .number(p.seconds),
                         "flops": .number(p.flops), "bytes": .number(p.bytes), "intensity_flop_per_byte": .number(p.intensity),
                         "mfu": .number(p.mfu), "mbu": .number(p.mbu), "roofline_seconds": .number(p.rooflineSeconds),
                         "steps_without_cost": .int(p.stepsWithoutCost), "cost_source": .string(p.costSource)])
            }),
            "ridge_flop_per_byte": .number(r.ridge),
            "mean_batch": .num(r.meanBatch),
            "mean_context_tokens": .num(r.meanContext),
            "critical_batch_weights_only": .number(r.criticalBatchWeightsOnly),
            "critical_batch": .num(r.criticalBatch),
            "compute_bound_context_tokens": .num(r.computeBoundContext),
            "decode_headroom": .num(r.decodeHeadroom),
            "kv_byte_share": .num(r.kvByteShare),
            "decode_weight_bytes": .num(r.decodeWeightBytes),
            "decode_kv_bytes": .num(r.decodeKVBytes),
            "decode_step_roofline_s": .num(r.decodeStepRoofline),
            "kv_capacity_tokens": .num(r.kvCapacityTokens),
            "kv_capacity_source": .str(r.kvCapacitySource),
        ])
    }

    static func gain(_ g: Gain) -> JSONValue {
        .object(["factor": .number(g.factor), "formula": .string(g.formula), "inputs": .object(g.inputs.mapValues { .number($0) })])
    }

    static func recommendation(_ r: Recommendation) -> JSONValue {
        .object([
            "id": .string(r.id), "key": .string(r.key), "title": .string(r.title), "status": .string(r.status.rawValue),
            "conditions": .array(r.conditions.map(evidence)), "evidence": .strings(r.evidence),
            "gains": .object(Dictionary(uniqueKeysWithValues: r.gains.map { ($0.key.rawValue, gain($0.value)) })),
            "confidence": .number(r.confidence), "caveats": .strings(r.caveats), "missing": .strings(r.missing),
            "runtime_change": .dict(r.runtimeChange), "literature": .strings(r.literature), "disagreement": .str(r.disagreement),
        ])
    }

    static func ranking(_ r: Ranking) -> JSONValue {
        .object([
            "objective": .string(r.objective.rawValue),
            "entries": .array(r.entries.map { e in
                .object(["rank": .int(e.rank), "id": .string(e.id), "score": .number(e.score), "gain": gain(e.gain),
                         "confidence": .number(e.confidence), "round": e.round.map { .int($0) } ?? .null])
            }),
        ])
    }

    static func whatIf(_ w: WhatIfProjection) -> JSONValue {
        .object([
            "source": .string(w.source), "target": hardware(w.target, roofline: nil),
            "phases": .array(w.phases.map { p in
                .object(["phase": .string(p.phase.rawValue), "measured_step_s": .number(p.measuredStep),
                         "projected_step_s": .number(p.projectedStep), "scale": .number(p.scale)])
            }),
            "ttft_mean_s": .object(["measured": .num(w.ttftMeasured), "projected": .num(w.ttftProjected)]),
            "tpot_mean_s": .object(["measured": .num(w.tpotMeasured), "projected": .num(w.tpotProjected)]),
            "output_tokens_per_s": .object(["measured": .number(w.outputTokensPerSecondMeasured),
                                            "projected": .number(w.outputTokensPerSecondProjected)]),
            "cost": w.cost.map(cost) ?? .null,
            "caveats": .strings(w.caveats),
        ])
    }

    static func cost(_ c: CostEstimate) -> JSONValue {
        .object(["price_usd_per_hour": .number(c.pricePerHour),
                 "usd_per_million_input_tokens": .num(c.usdPerMillionInputTokens),
                 "usd_per_million_output_tokens": .num(c.usdPerMillionOutputTokens),
                 "usd_per_million_tokens": .num(c.usdPerMillionTokens)])
    }
}
