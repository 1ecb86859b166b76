import Foundation
import Testing
import Analysis
@testable import Importers
import TraceFormat

/// vLLM /metrics scrapes: KV occupancy and queue gauges become KV counter samples, counter
/// differences and histogram means become reported values, names match exactly.
@Suite struct VLLMMetricsImporterTests {
    func kvSamples(_ events: [TraceEvent]) -> [KVCacheCounters] {
        events.compactMap { if case .kvCache(let k) = $0 { return k }; return nil }
    }

    @Test func textScrapeIsOneSample() throws {
        let events = try importFixture("vllm-metrics.txt", .vllmMetrics)
        let kv = kvSamples(events)
        #expect(kv.count == 1)
        let k = try #require(kv.first)
        #expect(k.blocksTotal == 27981 && k.blockSize == 16)
        #expect(k.blocksUsed == Int32(((0.4215 + 0.3987) / 2 * 27981).rounded()), "usage averaged over the two engines")
        #expect(k.running == 13, "running summed over engines")
        #expect(k.waiting == 1, "num_requests_waiting_by_reason is not num_requests_waiting")
        #expect(k.tokensStored == 0)
        let h = try header(events)
        #expect(h.model.name == "Llama 3.1 8B" && h.options["prefix_cache"] == "true")
        #expect(!h.workload.parameters.keys.contains { $0.hasPrefix("reported.") }, "one scrape has no differences")
        let m = try analyze(events).metrics
        #expect(m.kv.first?.tokenUtilisation == nil, "token states are unknown, not 0%")
    }

    @Test func aiperfSnapshotsBecomeATimeSeries() throws {
        let events = try importFixture("aiperf-server_metrics_export.jsonl", .vllmMetrics)
        let lines = try foundationJSON("aiperf-server_metrics_export.jsonl", lines: true).map { $0 as! [String: Any] }
        let kv = kvSamples(events)
        #expect(kv.count == lines.count)
        let t0 = lines[0]["timestamp_ns"] as! Int
        for (k, line) in zip(kv, lines) {
            #expect(k.time == Int64(line["timestamp_ns"] as! Int - t0))
            let metrics = line["metrics"] as! [String: [[String: Any]]]
            let usage = metrics["vllm:kv_cache_usage_perc"]!.map { $0["value"] as! Double }
            #expect(k.blocksUsed == Int32((usage.reduce(0, +) / Double(usage.count) * 27981).rounded()))
        }
        func total(_ line: [String: Any], _ name: String, _ key: String = "value") -> Double {
            ((line["metrics"] as! [String: [[String: Any]]])[name] ?? []).map { $0[key] as! Double }.reduce(0, +)
        }
        let first = lines.first!, last = lines.last!
        let p = try header(events).workload.parameters
        #expect(p["reported.prompt_tokens"] == String(Int(total(last, "vllm:prompt_tokens_total") - total(first, "vllm:prompt_tokens_total"))))
        let ttft = (total(last, "vllm:time_to_first_token_seconds", "sum") - total(first, "vllm:time_to_first_token_seconds", "sum"))
            / (total(last, "vllm:time_to_first_token_seconds", "count") - total(first, "vllm:time_to_first_token_seconds", "count"))
        #expect(close(Double(p["reported.mean_ttft_s"]!), ttft, 1e-12))
        #expect(p["reported.window_s"] == "5.5")
        let pool = try #require(try analyze(events).metrics.kv.first)
        #expect(pool.samples == lines.count)
    }

    @Test func errors() {
        #expect(importFailure("vllm:num_requests_running{engine=0} 3\n", .vllmMetrics, file: "m.txt")
                == "m.txt:1: expected label=\"value\" pairs in the braces of 'vllm:num_requests_running'")
        #expect(importFailure("vllm:kv_cache_usage_perc 0.5 1795774500000\nvllm:num_requests_running 3\n", .vllmMetrics, file: "m.txt")
                == "m.txt: some samples carry timestamps and others do not; expected one scrape, or timestamps on every sample")
        #expect(importFailure("vllm:kv_cache_usage_perc high\n", .vllmMetrics, file: "m.txt")
                == "m.txt:1: expected a sample value after 'vllm:kv_cache_usage_perc', found 'high'")
        #expect(importFailure("{\"metrics\": {}}\n", .vllmMetrics, file: "s.jsonl")
                == "s.jsonl:1: field 'timestamp_ns': expected the snapshot time in epoch nanoseconds, found nothing")
        #expect(importFailure("# HELP nothing\n", .vllmMetrics, file: "m.txt")
                == "m.txt: no vllm: samples in the file (expected a Prometheus text scrape of vLLM's /metrics or AIPerf's server_metrics_export.jsonl)")
    }
}

/// AIPerf's request records and its server-metrics snapshots of the same run, merged on the
/// epoch clock.
@Suite struct CombinedImportTests {
    @Test func metricsAlignWithTheRequests() throws {
        let records = try foundationJSON("aiperf-profile_export.jsonl", lines: true).map { $0 as! [String: Any] }
        let firstStart = records.compactMap { r -> Int? in
            let m = r["metadata"] as! [String: Any]
            return m["benchmark_phase"] as? String == "profiling" ? m["request_start_ns"] as? Int : nil
        }.min()!
        let snapshots = try foundationJSON("aiperf-server_metrics_export.jsonl", lines: true).map { ($0 as! [String: Any])["timestamp_ns"] as! Int }
        let events = try CombinedImport.importTrace(try fixtureBytes("aiperf-profile_export.jsonl"), file: "p.jsonl", format: .aiperf,
                                                    metrics: try fixtureBytes("aiperf-server_metrics_export.jsonl"), metricsFile: "s.jsonl",
                                                    options: ImportOptions(model: "Llama 3.1 8B"))
        let kv = events.compactMap { if case .kvCache(let k) = $0 { return k }; return nil }
        let after = snapshots.filter { $0 >= firstStart }.map { Int64($0 - firstStart) }
        let before = snapshots.filter { $0 < firstStart }.count
        #expect(kv.map(\.time) == (before > 0 ? [0] : []) + after)
        #expect(requestEvents(events).count == 10)
        let h = try header(events)
        #expect(h.options["import.metrics_file"] == "s.jsonl" && h.options["kv_blocks"] == "27981")
        let r = try analyze(events, AnalysisOptions(hardware: "H100"))
        #expect(r.verdict.capacityBound != nil && r.estimate != nil)
        #expect(!r.verdict.capacityEvidence.contains { $0.name.hasPrefix("preemptions") }, "imported data has no preemption events")
    }

    @Test func unalignableClocksAreRefused() throws {
        #expect(throws: ImportError(file: "v.json", message: "its times are not on the epoch clock (from start_times (benchmark monotonic clock, relative to the first request)), so the metrics in s.jsonl cannot be aligned with its requests")) {
            _ = try CombinedImport.importTrace(try fixtureBytes("vllm-bench-serve.json"), file: "v.json", format: .vllm,
                                               metrics: try fixtureBytes("aiperf-server_metrics_export.jsonl"), metricsFile: "s.jsonl",
                                               options: ImportOptions())
        }
        #expect(throws: ImportError(file: "m.txt", message: "the metrics have no timestamps, so they cannot be aligned with the requests; give AIPerf's server_metrics_export.jsonl or a scrape whose samples carry timestamps")) {
            _ = try CombinedImport.importTrace(try fixtureBytes("aiperf-profile_export.jsonl"), file: "p.jsonl", format: .aiperf,
                                               metrics: try fixtureBytes("vllm-metrics.txt"), metricsFile: "m.txt", options: ImportOptions())
        }
    }
}

extension CombinedImport {
    static func importTrace(_ bytes: [UInt8], file: String, format: ImportFormat, metrics: [UInt8], metricsFile: String,
                            options: ImportOptions) throws(ImportError) -> [TraceEvent] {
        var events: [TraceEvent] = []
        try importTrace(bytes, file: file, format: format, metrics: metrics, metricsFile: metricsFile, options: options) { events.append($0) }
        return events
    }
}
