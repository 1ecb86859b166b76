import TraceFormat
@testable import Analysis

/// A parameterised steady-state trace for rule tests: `batch` sequences decode at `context`
/// every step; one slot turns over every `turnoverEvery` steps through a mixed step carrying the
/// newcomer's prompt. Llama 3.1 8B BF16 on H100 SXM unless changed. Times in ns.
struct Scenario {
    var model = Fixtures.llama8B
    var options: [String: String] = ["scheduler": "continuous", "kv_layout": "paged", "prefix_cache": "false", "block_size": "16"]
    var workload: [String: String] = [:]
    /// The trace's producer: an import by default; "inferscope …" for InferScope's own runtime.
    var producer = "inferscope-import vllm (constructed)"
    var batch = 8
    var context: Int32 = 512
    /// Decode step duration = step bytes/(mbu·BW).
    var decodeMBU = 0.7
    var steps = 256
    var turnoverEvery = 8
    /// Prompt tokens per request, and tokens served from the prefix cache.
    var prompt: Int32 = 256
    var cached: Int32 = 0
    /// Seconds per prefill token in mixed steps.
    var perPrefillToken = 28.2e-6
    var kvUsage = 0.5
    var tokenUtilisation = 0.97
    var reservedTokens: Int64 = 0
    /// Requests queueing before admission (waiting counter > 0 in KV samples).
    var waiting: Int32 = 0
    /// Time newcomers wait between arrival and admission.
    var queueDelay: Int64 = 0
    /// Idle gap after every step.
    var gap: Int64 = 0
    /// One preemption every this many steps.
    var preemptEvery: Int?

    var decodeStepNanos: Int64 {
        let bytes = model.decodeStepCost(batch: batch, context: Int(context)).bytes
        return Int64((bytes / (decodeMBU * 3.35e12) * 1e9).rounded())
    }

    func events() -> [TraceEvent] {
        var ev: [TraceEvent] = [Fixtures.header(model: model, options: options, workload: workload, producer: producer)]
        var occupant = (0..<batch).map { RequestID($0) }
        var nextID = RequestID(batch)
        var produced = [Int](repeating: 1, count: batch)
        for id in occupant {
            ev.append(.request(RequestEvent(request: id, kind: .arrival, time: 0, promptTokens: prompt)))
            ev.append(.request(RequestEvent(request: id, kind: .scheduled, time: 0, cachedTokens: cached)))
            ev.append(.request(RequestEvent(request: id, kind: .firstToken, time: 0, tokens: 1)))
        }
        let life = batch * turnoverEvery
        var remaining = (0..<batch).map { life - turnoverEvery * $0 }
        var t: Int64 = 0
        let blocksTotal: Int32 = 10_000
        let used = Int32((Double(blocksTotal) * kvUsage).rounded())
        for k in 0..<steps {
            var entries = (0..<batch).map { BatchEntry(request: occupant[$0], prefillTokens: 0, decodeTokens: 1, contextLength: context) }
            var duration = decodeStepNanos
            var phase = Phase.decode
            var admitted: (Int, RequestID)?
            if k % turnoverEvery == turnoverEvery - 1, let s = (0..<batch).first(where: { remaining[$0] == 1 }) {
                let id = nextID; nextID += 1
                admitted = (s, id)
                ev.append(.request(RequestEvent(request: id, kind: .arrival, time: t - queueDelay, promptTokens: prompt)))
                ev.append(.request(RequestEvent(request: id, kind: .scheduled, time: t, cachedTokens: cached)))
                let uncached = prompt - cached
                entries.append(BatchEntry(request: id, prefillTokens: uncached, decodeTokens: 0, contextLength: cached))
                duration += Int64((Double(uncached) * perPrefillToken * 1e9).rounded())
                phase = .mixed
            }
            ev.append(.step(StepEvent(step: Int64(k), phase: phase, start: t, duration: duration, batch: entries)))
            t += duration
            let slots = Int64(used) * 16
            ev.append(.kvCache(KVCacheCounters(time: t, blocksTotal: blocksTotal, blocksUsed: used, blockSize: 16,
                                               tokensStored: Int64(Double(slots) * tokenUtilisation), bytesUsed: 0,
                                               reservedTokens: reservedTokens, running: Int32(batch), waiting: waiting)))
            if let p = preemptEvery, k % p == 0 {
                ev.append(.request(RequestEvent(request: occupant[0], kind: .preempted, time: t, reason: "recompute")))
                ev.append(.request(RequestEvent(request: occupant[0], kind: .resumed, time: t)))
            }
            for s in 0..<batch {
                ev.append(.request(RequestEvent(request: occupant[s], kind: .token, time: t, tokens: 1)))
                produced[s] += 1
                remaining[s] -= 1
            }
            if let (s, id) = admitted {
                ev.append(.request(RequestEvent(request: occupant[s], kind: .finished, time: t, tokens: Int32(produced[s]))))
                ev.append(.request(RequestEvent(request: id, kind: .firstToken, time: t, tokens: 1)))
                occupant[s] = id
                produced[s] = 1
                remaining[s] = life
            }
            t += gap
        }
        return ev
    }

    func analyze(_ options: AnalysisOptions = AnalysisOptions(hardware: "H100-SXM")) throws -> AnalysisResult {
        try Analyzer.analyze(events(), options: options)
    }
}

extension AnalysisResult {
    func rule(_ id: String) -> Recommendation { recommendations.first { $0.id == id }! }
}
