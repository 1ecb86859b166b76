#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat

/// The sample traces in `traces/`: small hand-modelled runs (not recorded from the runtime),
/// written by ``TraceWriter``. The test rebuilds them and compares byte for byte;
/// `RECORD_GOLDENS=1` rewrites them (and fails, so a rewrite is never silent).
enum SampleTraces {
    static let model = ModelDescriptor(
        name: "stories15M", source: "preset:stories15m", dim: 288, layers: 6, heads: 6, kvHeads: 6, headDim: 48,
        ffnDim: 768, vocabSize: 32000, maxContext: 256, tiedEmbeddings: true, weightType: "f32", bytesPerWeight: 4,
        kvType: "f32", bytesPerKVElement: 4)

    static func header(_ options: [String: String], requests: Int) -> RunHeader {
        RunHeader(producer: "inferscope-samples", model: model,
                  hardware: HardwareDescriptor(name: "sample CPU (2 threads)", source: "user", threads: 2,
                                               memoryBandwidth: 2.0e10, peakFLOPS: 1.0e11, memoryBytes: 25_769_803_776),
                  options: options,
                  workload: WorkloadDescriptor(name: "sample", requests: requests,
                                               parameters: ["seed": "7", "arrival": "fixed"]),
                  clock: "CLOCK_MONOTONIC")
    }

    /// A tiny continuous-batching run: requests arrive, prefill, decode together, finish.
    /// `speculative` adds draft/verify spans and speculation counters; `disaggregated` runs
    /// prefill on lane 1 and decode on lane 2 with a KV hand-off between.
    static func run(requests: [(arrival: Int64, prompt: Int32, output: Int32)], speculative: Bool = false,
                    disaggregated: Bool = false) -> [TraceEvent] {
        var options = ["scheduler": "fcfs", "block_size": "16", "kv_blocks": "64", "threads": "2", "seed": "7"]
        if speculative { options["spec"] = "draft"; options["gamma"] = "3" }
        if disaggregated { options["disaggregated"] = "true" }
        var events: [TraceEvent] = [.header(header(options, requests: requests.count))]
        var now: Int64 = 0, step: Int64 = 0
        var pending = Array(requests.enumerated())
        var running: [(id: UInt64, prompt: Int32, produced: Int32, output: Int32, context: Int32)] = []

        func kv() {
            let tokens = running.reduce(Int64(0)) { $0 + Int64($1.context) }
            let blocks = running.reduce(Int32(0)) { $0 + ($1.context + 15) / 16 }
            events.append(.kvCache(KVCacheCounters(
                time: now, pool: disaggregated ? "kv.decode" : "kv", blocksTotal: 64, blocksUsed: blocks,
                blockSize: 16, tokensStored: tokens, bytesUsed: Int64(blocks) * 16 * Int64(model.kvBytesPerToken),
                slackTokens: Int64(blocks) * 16 - tokens, running: Int32(running.count), waiting: Int32(pending.count))))
        }

        while !pending.isEmpty || !running.isEmpty {
            // Arrivals up to now; admit them, one prefill iteration each.
            while let (index, r) = pending.first, r.arrival <= now {
                pending.removeFirst()
                step += 1
                let id = UInt64(index)
                events.append(.request(RequestEvent(request: id, kind: .arrival, time: r.arrival, promptTokens: r.prompt)))
                events.append(.step(StepEvent(step: step, phase: .schedule, start: now, duration: 15_000)))
                now += 15_000
                events.append(.request(RequestEvent(request: id, kind: .scheduled, time: now, cachedTokens: 0)))
                let batch = [BatchEntry(request: id, prefillTokens: r.prompt, decodeTokens: 0, contextLength: 0)]
                let duration = Int64(r.prompt) * 180_000
                events.append(.step(StepEvent(
                    step: step, phase: .prefill, start: now, duration: duration, lane: 1, batch: batch,
                    flops: model.forwardFLOPs(newTokens: Int(r.prompt), cachedTokens: 0, logitRows: 1),
                    bytes: model.weightBytesPerForward(tokens: Int(r.prompt), logitRows: 1))))
                now += duration
                if disaggregated {
                    let blocks = (r.prompt + 15) / 16
                    events.append(.transfer(TransferEvent(kind: .handoff, start: now, duration: 40_000,
                                                          bytes: Int64(r.prompt) * Int64(model.kvBytesPerToken),
                                                          blocks: blocks, request: id, destination: "decode-worker")))
                    now += 40_000
                }
                events.append(.request(RequestEvent(request: id, kind: .firstToken, time: now, tokens: 1)))
                running.append((id, r.prompt, 1, r.output, r.prompt + 1))
                kv()
            }
            step += 1
            if running.isEmpty {
                let next = pending.first!.element.arrival
                events.append(.step(StepEvent(step: step, phase: .idle, start: now, duration: next - now)))
                now = next
                continue
            }
            // One decode (or draft + verify) iteration for everyone running.
            let lane: Int32 = disaggregated ? 2 : 1
            let gamma: Int32 = speculative ? 3 : 0
            if speculative {
                let draft = running.map { BatchEntry(request: $0.id, prefillTokens: 0, decodeTokens: gamma, contextLength: $0.context) }
                events.append(.step(StepEvent(step: step, phase: .draft, start: now, duration: 300_000, lane: lane, batch: draft)))
                now += 300_000
            }
            let batch = running.map { BatchEntry(request: $0.id, prefillTokens: 0, decodeTokens: gamma + 1, contextLength: $0.context) }
            let flops = running.reduce(0.0) { $0 + model.forwardFLOPs(newTokens: Int(gamma + 1), cachedTokens: Int($1.context), logitRows: Int(gamma + 1)) }
            let duration = 900_000 + Int64(running.count) * 60_000
            events.append(.step(StepEvent(step: step, phase: speculative ? .verify : .decode, start: now, duration: duration,
                                          lane: lane, batch: batch, flops: flops,
                                          bytes: model.weightBytesPerForward(tokens: batch.count, logitRows: batch.count))))
            now += duration
            events.append(.step(StepEvent(step: step, phase: .sample, start: now, duration: 20_000, lane: lane)))
            now += 20_000
            var perRequest: [SpeculationCounters.PerRequest] = []
            for i in running.indices {
                let accepted = speculative ? Int32((Int(running[i].id) + Int(step)) % Int(gamma + 1)) : 0
                let produced = min(accepted + 1, running[i].output - running[i].produced)
                perRequest.append(.init(request: running[i].id, drafted: gamma, accepted: min(accepted, gamma)))
                running[i].produced += produced
                running[i].context += produced
                events.append(.request(RequestEvent(request: running[i].id, kind: .token, time: now, tokens: produced)))
            }
            if speculative {
                events.append(.speculation(SpeculationCounters(
                    time: now, step: step, draftLength: gamma, drafted: perRequest.reduce(0) { $0 + $1.drafted },
                    accepted: perRequest.reduce(0) { $0 + $1.accepted }, perRequest: perRequest)))
            }
            for r in running where r.produced >= r.output {
                events.append(.request(RequestEvent(request: r.id, kind: .finished, time: now, promptTokens: r.prompt,
                                                    tokens: r.produced)))
            }
            running.removeAll { $0.produced >= $0.output }
            kv()
        }
        return events
    }

    static let requests: [(arrival: Int64, prompt: Int32, output: Int32)] =
        [(0, 24, 6), (2_000_000, 40, 4), (3_500_000, 16, 8), (30_000_000, 32, 3)]

    /// File name → contents.
    static var all: [(String, [UInt8])] {
        let colocated = TraceEncoder.encode(run(requests: requests))
        // What a crash leaves: no closing bracket and the last event cut mid-line.
        let unclosed = TraceEncoder.encode(run(requests: requests), closed: false)
        let crashed = Array(unclosed.prefix(unclosed.count - 25))
        return [
            ("colocated-small.json", colocated),
            ("speculative-small.json", TraceEncoder.encode(run(requests: requests, speculative: true))),
            ("disaggregated-small.json", TraceEncoder.encode(run(requests: requests, disaggregated: true))),
            ("crashed-run.json", crashed),
        ]
    }
}

/// The repository root (this file is Tests/TraceFormatTests/SampleTraces.swift).
let packageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()


func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot write \(path)")
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

@Suite struct SampleTraceTests {
    @Test func sampleTracesAreUpToDate() {
        let record = getenv("RECORD_GOLDENS").map { String(cString: $0) == "1" } ?? false
        for (name, bytes) in SampleTraces.all {
            let path = packageRoot + "/traces/" + name
            if record {
                writeFile(path, bytes)
                Issue.record("RECORD_GOLDENS=1: rewrote traces/\(name); review the diff and run again without it")
            } else {
                #expect(FileBytes.contents(of: path) == bytes, "traces/\(name) is out of date: run with RECORD_GOLDENS=1 and review")
            }
        }
    }

    @Test func sampleTracesReadBack() throws {
        for (name, bytes) in SampleTraces.all where name != "crashed-run.json" {
            let loaded = try TraceReader.readAll(bytes: bytes, options: .init(strict: true))
            #expect(loaded.warnings.isEmpty, "\(name)")
            let finished = loaded.events.filter { if case .request(let r) = $0 { r.kind == .finished } else { false } }
            #expect(finished.count == SampleTraces.requests.count, "\(name)")
        }
        let crashed = TraceReader(bytes: SampleTraces.all.last!.1)
        _ = Array(crashed)
        #expect(!crashed.hasErrors)
        #expect(crashed.warningCount == 1)
    }
}
