import Foundation
import Testing
import Analysis
@testable import Importers
import TraceFormat

/// The request- and kernel-level formats of issue #11 (perf_analyzer, llama.cpp server, Kineto,
/// llama-bench markdown), gzip, and the step-run record that keeps llama-bench imports O(file).
@Suite struct TimingImporterTests {
    @Test func perfAnalyzerRequestsFromTimestamps() throws {
        let top = try #require(try foundationJSON("perf_analyzer-profile_export.json")[0] as? [String: Any])
        let experiments = top["experiments"] as! [[String: Any]]
        let last = experiments.last!["requests"] as! [[String: Any]]
        let events = try importFixture("perf_analyzer-profile_export.json", .perfAnalyzer)
        let byRequest = requestEvents(events)
        #expect(byRequest.count == last.count)
        // Foundation reads the int64 timestamps as exact integers.
        let rows = last.map { ($0["timestamp"] as! Int, $0["response_timestamps"] as! [Int]) }.sorted { $0.0 < $1.0 }
        let origin = rows[0].0
        for (i, (start, responses)) in rows.enumerated() {
            let evs = try #require(byRequest[RequestID(i)])
            #expect(evs[0].time == Int64(start - origin))
            if responses.isEmpty { #expect(evs.last?.kind == .aborted); continue }
            #expect(evs.first { $0.kind == .firstToken }?.time == Int64(responses[0] - origin))
            #expect(evs.last?.kind == .finished && evs.last?.time == Int64(responses.last! - origin))
            #expect(evs.filter { $0.kind == .token }.count == responses.count - 1)
        }
        let h = try header(events)
        #expect(ImportedRun.read(h.workload.parameters).map(\.load) == [1, 4])
        let first = try importFixture("perf_analyzer-profile_export.json", .perfAnalyzer, ImportOptions(run: 1))
        #expect(requestEvents(first).count == (experiments[0]["requests"] as! [Any]).count)
        let m = try analyze(events).metrics
        #expect(m.requests.aborted == 1)
    }

    @Test func llamaServerTimings() throws {
        let one = try #require(try foundationJSON("llama-server-completion.json")[0] as? [String: Any])
        let t = one["timings"] as! [String: Any]
        let events = try importFixture("llama-server-completion.json", .llamaServer)
        let evs = try #require(requestEvents(events)[0])
        #expect(evs[0].promptTokens == Int32((t["prompt_n"] as! Int) + (t["cache_n"] as! Int)))
        #expect(evs[0].cachedTokens == Int32(t["cache_n"] as! Int))
        #expect(abs(seconds(evs.first { $0.kind == .firstToken }!.time) - (t["prompt_ms"] as! Double) / 1e3) < 1e-9)
        #expect(abs(seconds(evs.last!.time) - ((t["prompt_ms"] as! Double) + (t["predicted_ms"] as! Double)) / 1e3) < 1e-9)
        #expect(evs.last?.tokens == Int32(t["predicted_n"] as! Int))

        let lines = try foundationJSON("llama-server-chat.jsonl", lines: true).map { $0 as! [String: Any] }
        let chat = try importFixture("llama-server-chat.jsonl", .llamaServer)
        #expect(requestEvents(chat).count == lines.count)
        let drafted = lines.reduce(0) { $0 + (($1["timings"] as! [String: Any])["draft_n"] as! Int) }
        let accepted = lines.reduce(0) { $0 + (($1["timings"] as! [String: Any])["draft_n_accepted"] as! Int) }
        let spec = chat.compactMap { e -> SpeculationCounters? in if case .speculation(let s) = e { return s }; return nil }
        #expect(spec.count == 1 && spec[0].drafted == Int32(drafted) && spec[0].accepted == Int32(accepted))
        let s = AggregateSummary(parameters: try header(chat).workload.parameters)
        #expect(s.specDraftTokens == Double(drafted) && s.specAcceptedTokens == Double(accepted))
        // The same responses as a JSON array and as SSE "data:" lines import identically.
        let array = "[" + lines.map { String(decoding: try! JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }.joined(separator: ",") + "]"
        let sse = lines.map { "data: " + String(decoding: try! JSONSerialization.data(withJSONObject: $0), as: UTF8.self) + "\n\n" }.joined() + "data: [DONE]\n"
        let a = try LlamaServerImporter().importEvents(Array(array.utf8), file: "a.json")
        let b = try LlamaServerImporter().importEvents(Array(sse.utf8), file: "b.txt")
        #expect(Array(a.dropFirst()) == Array(chat.dropFirst()) && Array(b.dropFirst()) == Array(chat.dropFirst()))
    }

    /// With `timings_per_token` every streamed chunk carries timings: one request per stream.
    @Test func llamaServerStreamsCountOnce() throws {
        func chunk(_ id: String, _ n: Int, final: Bool) -> String {
            "data: {\"id\":\"\(id)\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{},\"finish_reason\":\(final ? "\"stop\"" : "null")}],"
                + "\"timings\":{\"prompt_n\":10,\"prompt_ms\":5.0,\"predicted_n\":\(n),\"predicted_ms\":\(Double(n) * 10)}}\n\n"
        }
        let text = chunk("a", 1, final: false) + chunk("a", 2, final: false) + chunk("a", 3, final: true)
            + chunk("b", 1, final: false) + chunk("b", 5, final: true) + "data: [DONE]\n"
        let events = try LlamaServerImporter().importEvents(Array(text.utf8), file: "s.txt")
        let byRequest = requestEvents(events)
        #expect(byRequest.count == 2)
        #expect(byRequest[0]?.last?.tokens == 3 && byRequest[1]?.last?.tokens == 5)
        let completion = "{\"content\":\"a\",\"stop\":false,\"timings\":{\"prompt_n\":4,\"prompt_ms\":1,\"predicted_n\":1,\"predicted_ms\":0}}\n"
            + "{\"content\":\"\",\"stop\":true,\"timings\":{\"prompt_n\":4,\"prompt_ms\":1,\"predicted_n\":9,\"predicted_ms\":80}}\n"
        #expect(requestEvents(try LlamaServerImporter().importEvents(Array(completion.utf8), file: "c.jsonl")).count == 1)
    }

    /// The fixture's constants (make_fixtures_2.py): per step 4 GEMMs of 120.5 µs, 4 attention
    /// kernels of 60.25 µs, 4 all-reduces of 40 µs overlapping the next kernel, 4 elementwise
    /// kernels of 8.125 µs and one 15 µs memcpy.
    @Test func kinetoSplitsGPUTimeByKernelClass() throws {
        let plain = try importFixture("kineto.pt.trace.json", .kineto)
        let zipped = try importFixture("kineto.pt.trace.json.gz", .kineto)
        let p = try header(plain).workload.parameters
        #expect(p == (try header(zipped)).workload.parameters, "gzip decompresses to the same trace")
        for step in ["step10", "step11", "step12"] {
            #expect(p["reported.kineto.\(step).gemm_ms"] == "0.482")
            #expect(p["reported.kineto.\(step).attention_ms"] == "0.241")
            #expect(p["reported.kineto.\(step).communication_ms"] == "0.16")
            #expect(p["reported.kineto.\(step).other_ms"] == "0.0475")
            #expect(p["reported.kineto.\(step).memory_ms"] == "0.015")
            #expect(p["reported.kineto.\(step).kernels"] == "17")
            let busy = Double(p["reported.kineto.\(step).busy_ms"]!)!, idle = Double(p["reported.kineto.\(step).idle_ms"]!)!
            let window = Double(p["reported.kineto.\(step).window_ms"]!)!
            #expect(abs(busy + idle - window) < 1e-6)
            #expect(busy < 0.482 + 0.241 + 0.16 + 0.0475, "the overlapping all-reduce is counted once in busy time")
            // The 150 µs host gap before the next step is GPU idle of this step; the last step's
            // window ends at its last kernel.
            #expect(step == "step12" ? idle < 0.05 : idle > 0.15, "\(step) idle \(idle)")
        }
        #expect(try header(plain).hardware.name == "NVIDIA H100 SXM5 80GB")
        #expect(KinetoImporter.classify("sm90_xmma_gemm_bf16bf16_bf16f32") == .gemm)
        #expect(KinetoImporter.classify("ncclKernel_AllGather_RING_LL_Sum_int8_t") == .communication)
        #expect(KinetoImporter.classify("void flash::flash_fwd_kernel<Flash_fwd_kernel_traits>") == .attention)
    }

    /// The kernel split reaches the verdict: shares of the window from the canonical aggregates,
    /// the largest class leads, no serving level is claimed and the missing workload is said.
    @Test func kinetoVerdictFromKernelTimes() throws {
        let events = try importFixture("kineto.pt.trace.json", .kineto)
        let p = try header(events).workload.parameters
        let r = try analyze(events)
        let k = try #require(r.verdict.kernelTime)
        let window = Double(p["reported.kineto.window_ms"]!)! * 1e-3
        #expect(abs(k.windowSeconds - window) < 1e-9)
        let shares = Dictionary(uniqueKeysWithValues: k.shares.map { ($0.name, $0.share) })
        for (name, key) in [("GEMM", "gemm"), ("attention", "attention"), ("communication", "communication"), ("idle", "idle")] {
            let reported = Double(p["reported.kineto.\(key)_share"]!)!
            #expect(abs(shares[name]! - reported) < 1e-5, "\(name): \(shares[name]!) vs reported \(reported)")
        }
        let top = k.shares.filter { $0.name != "idle" }.max { $0.share < $1.share }!
        #expect(top.name == "GEMM" && k.lead == .gemm)
        #expect(k.steps == 3)
        #expect(r.verdict.level == nil, "kernel times are not serving statistics")
        #expect(r.verdict.workload == .unknown && r.verdict.workloadMissing?.contains("kernel profile") == true)
    }

    /// Idle above the workload threshold is host-bound whatever kernel class is largest; heavy
    /// collectives are called out beside another lead.
    @Test func kernelTimeReadings() {
        var a = AggregateSummary()
        a.gpuWindowSeconds = 1; a.gpuBusySeconds = 0.5; a.gpuGEMMSeconds = 0.4; a.gpuCommunicationSeconds = 0.05
        #expect(KernelTimeSplit(aggregates: a, thresholds: Thresholds())?.lead == .hostBound)
        a.gpuBusySeconds = 0.9; a.gpuCommunicationSeconds = 0.3; a.gpuAttentionSeconds = 0.2
        let k = KernelTimeSplit(aggregates: a, thresholds: Thresholds())
        #expect(k?.lead == .gemm && k?.reading.contains("collectives take") == true)
        a.gpuWindowSeconds = nil
        #expect(KernelTimeSplit(aggregates: a, thresholds: Thresholds()) == nil)
    }

    @Test func gzipErrors() throws {
        let gz = try fixtureBytes("kineto.pt.trace.json.gz")
        #expect(throws: ImportError.self) { _ = try Gzip.decompress(Array(gz.prefix(gz.count / 2)), file: "t.gz") }
        var corrupt = gz
        corrupt[20] ^= 0xFF
        corrupt[21] ^= 0xFF
        #expect(throws: ImportError.self) { _ = try Gzip.decompress(corrupt, file: "t.gz") }
        // Two concatenated members decompress to both contents, as gunzip does.
        let plain = try fixtureBytes("kineto.pt.trace.json")
        #expect(try Gzip.decompress(gz + gz, file: "t.gz") == plain + plain)
    }

    @Test func llamaBenchMarkdown() throws {
        let events = try importFixture("llama-bench.md", .llamaBenchMarkdown)
        let steps = events.compactMap { e -> StepEvent? in if case .step(let s) = e { return s }; return nil }
        #expect(steps.count == 4, "pp512+tg128 cannot be split and is skipped")
        #expect(steps[0].phase == .prefill && steps[0].duration == TraceDuration((512 / 11342.17 * 1e9).rounded()), "'11,342.17' parsed")
        #expect(steps[1].phase == .decode && steps[1].run == StepRun(count: 128, contextIncrement: 1))
        #expect(steps[1].duration == TraceDuration((128 / 152.33 * 1e9).rounded()))
        #expect(steps[3].batch[0].contextLength == 4096, "'@ d4096' is the depth")
        let h = try header(events)
        #expect(h.options["import.skipped"]?.hasPrefix("1 rows") == true)
        #expect(h.model.weightType == "q4_k")
        #expect(ImportedRun.read(h.workload.parameters).count == 5)
        let m = try analyze(events).metrics
        #expect(m.batch.sizes?.count == 256, "two tg128 runs = 256 decode steps")
    }

    /// A step-run record gives the analyzer the same metrics as the steps it stands for.
    @Test func stepRunEqualsItsExpansion() throws {
        let model = try #require(ModelCatalog.all.first).descriptor()
        let h = RunHeader(producer: "test", model: model, hardware: HardwareDescriptor(name: "unknown", source: "unknown", threads: 1),
                          options: [:], workload: WorkloadDescriptor(name: "t", requests: 0, parameters: [:]), clock: "synthesized", startedAt: nil)
        let n = 37
        let total: TraceDuration = 37_000_123
        let batch = [BatchEntry(request: 0, prefillTokens: 0, decodeTokens: 1, contextLength: 100),
                     BatchEntry(request: 1, prefillTokens: 0, decodeTokens: 1, contextLength: 900)]
        let prefill = StepEvent(step: 0, phase: .prefill, start: 0, duration: 5_000_000,
                                batch: [BatchEntry(request: 2, prefillTokens: 512, decodeTokens: 0, contextLength: 0)])
        var expanded: [TraceEvent] = [.header(h), .step(prefill)]
        var previous: TraceTime = 0
        for k in 0..<n {
            let boundary = TraceTime((Double(total) * Double(k + 1) / Double(n)).rounded())
            expanded.append(.step(StepEvent(step: Int64(1 + k), phase: .decode, start: 5_000_000 + previous, duration: boundary - previous,
                                            batch: batch.map { var e = $0; e.contextLength += Int32(k); return e })))
            previous = boundary
        }
        let run: [TraceEvent] = [.header(h), .step(prefill),
                                 .step(StepEvent(step: 1, phase: .decode, start: 5_000_000, duration: total, batch: batch,
                                                 run: StepRun(count: Int64(n), contextIncrement: 1)))]
        let a = try analyze(expanded).metrics, b = try analyze(run).metrics
        #expect(a.batch.histogram == b.batch.histogram)
        #expect(close(a.batch.meanContext, b.batch.meanContext, 1e-12))
        #expect(a.batch.sizes?.count == b.batch.sizes?.count)
        let wa = try #require(a.work.first { $0.phase == .decode }), wb = try #require(b.work.first { $0.phase == .decode })
        #expect(wa.steps == wb.steps && wa.decodeTokens == wb.decodeTokens && wa.sequences == wb.sequences)
        #expect(close(wa.flops, wb.flops, 1e-12) && close(wa.bytes, wb.bytes, 1e-12) && close(wa.contextTokens, wb.contextTokens, 1e-12))
        #expect(close(a.phases.seconds[.decode], b.phases.seconds[.decode], 1e-12))
        let ia = try #require(a.interference.decodeStepTimes), ib = try #require(b.interference.decodeStepTimes)
        #expect(ia.count == ib.count && close(ia.mean, ib.mean, 1e-9) && close(ia.p50, ib.p50, 1e-6))
    }

    @Test func stepRunRoundTripsThroughTheTraceFormat() throws {
        let step = StepEvent(step: 4, phase: .decode, start: 1000, duration: 64_000_000,
                             batch: [BatchEntry(request: 0, prefillTokens: 0, decodeTokens: 1, contextLength: 12)],
                             run: StepRun(count: 4096, contextIncrement: 1))
        let h = RunHeader(producer: "test", model: try #require(ModelCatalog.all.first).descriptor(),
                          hardware: HardwareDescriptor(name: "unknown", source: "unknown", threads: 1), options: [:],
                          workload: WorkloadDescriptor(name: "t", requests: 0, parameters: [:]), clock: "synthesized", startedAt: nil)
        let bytes = TraceEncoder.encode([.header(h), .step(step)])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"run_count\":4096") && text.contains("\"run_context_increment\":1"))
        let loaded = try TraceReader.readAll(bytes: bytes)
        #expect(loaded.events.contains(.step(step)))
        // A count below 1 is an error naming the field.
        let bad = text.replacingOccurrences(of: "\"run_count\":4096", with: "\"run_count\":0")
        #expect(throws: (any Error).self) { _ = try TraceReader.readAll(bytes: Array(bad.utf8)) }
    }
}
