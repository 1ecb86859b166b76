import TraceFormat
@testable import Analysis

/// Constructed traces for the analyzer tests. Times in nanoseconds.
enum Fixtures {
    static let llama8B = try! ModelCatalog.lookup("Llama 3.1 8B").descriptor()
    static let h100 = HardwareDescriptor(name: "NVIDIA H100 SXM5 80GB", source: "catalog", threads: 1)

    static func header(model: ModelDescriptor = llama8B, hardware: HardwareDescriptor = h100,
                       options: [String: String] = [:], workload: [String: String] = [:],
                       producer: String = "inferscope-import vllm (constructed)") -> TraceEvent {
        .header(RunHeader(producer: producer, model: model, hardware: hardware, options: options,
                          workload: WorkloadDescriptor(name: "constructed", requests: 0, parameters: workload),
                          clock: "test"))
    }

    static let ms: Int64 = 1_000_000

    /// b_p of methodology §7.5: 2·N_lin/(P·0.5), seconds per prefill token on H100 SXM.
    static var workedExampleBp: Double { 2 * llama8B.linearParameters / (989.4e12 * 0.5) }

    /// Methodology §7.5 as a trace: Llama 3.1 8B BF16 on H100 SXM, chunked scheduler, no prefix
    /// cache, 48 running sequences at context 1800, clean decode steps of 14 ms; every 8th step is
    /// mixed and admits one request whose prefill chunk makes the step 60 ms (7 of 10) or 85 ms
    /// (3 of 10): contaminated gaps median 60 ms, p99 ITL 85 ms. Prompts 1500 tokens with a shared
    /// 600-token system prompt; KV usage 0.55; no preemptions. Each request decodes 384 tokens.
    static func workedExample(steps: Int = 1152) -> [TraceEvent] {
        var events: [TraceEvent] = [header(options: ["scheduler": "chunked", "token_budget": "8192",
                                                     "prefix_cache": "false", "kv_layout": "paged", "block_size": "16"],
                                           workload: ["shared_prefix_tokens": "600"])]
        let slots = 48, life = 384
        var occupant = [RequestID](0..<48).map { $0 }
        var nextID: RequestID = 48
        for id in occupant {
            events.append(.request(RequestEvent(request: id, kind: .arrival, time: 0, promptTokens: 1500)))
            events.append(.request(RequestEvent(request: id, kind: .scheduled, time: 0, cachedTokens: 0)))
            events.append(.request(RequestEvent(request: id, kind: .firstToken, time: 0, tokens: 1)))
        }
        // Tokens produced so far by each slot's occupant.
        var produced = [Int](repeating: 0, count: slots)
        // Stagger: slot s's first occupant leaves at step 8·(47 − s) + 7, so exactly one slot turns
        // over at every 8th step (the mixed one). `remaining` counts steps until leaving.
        var remaining = (0..<slots).map { life - 8 * $0 }
        var t: Int64 = 0
        var mixedCount = 0
        for k in 0..<steps {
            let decode = (0..<slots).map { BatchEntry(request: occupant[$0], prefillTokens: 0, decodeTokens: 1, contextLength: 1800) }
            let leaving = (0..<slots).filter { remaining[$0] == 1 }
            var batch = decode
            var duration = 14 * ms
            var phase = Phase.decode
            var admitted: (slot: Int, id: RequestID)?
            if k % 8 == 7, let s = leaving.first {
                let chunk: Int32 = mixedCount % 10 < 3 ? 2516 : 1630
                mixedCount += 1
                let id = nextID; nextID += 1
                admitted = (s, id)
                events.append(.request(RequestEvent(request: id, kind: .arrival, time: t, promptTokens: 1500)))
                events.append(.request(RequestEvent(request: id, kind: .scheduled, time: t, cachedTokens: 0)))
                batch.append(BatchEntry(request: id, prefillTokens: chunk, decodeTokens: 0, contextLength: 0))
                duration += Int64((Double(chunk) * workedExampleBp * 1e9).rounded())
                phase = .mixed
            }
            events.append(.step(StepEvent(step: Int64(k), phase: phase, start: t, duration: duration, batch: batch)))
            t += duration
            events.append(.kvCache(KVCacheCounters(time: t, blocksTotal: 9862, blocksUsed: 5424, blockSize: 16,
                                                   tokensStored: 86400, bytesUsed: 0, slackTokens: 384)))
            for s in 0..<slots {
                events.append(.request(RequestEvent(request: occupant[s], kind: .token, time: t, tokens: 1)))
                produced[s] += 1
                remaining[s] -= 1
            }
            if let a = admitted {
                let old = occupant[a.slot]
                events.append(.request(RequestEvent(request: old, kind: .finished, time: t, tokens: Int32(produced[a.slot] + 1))))
                events.append(.request(RequestEvent(request: a.id, kind: .firstToken, time: t, tokens: 1)))
                occupant[a.slot] = a.id
                produced[a.slot] = 0
                remaining[a.slot] = life
            }
        }
        return events
    }
}
