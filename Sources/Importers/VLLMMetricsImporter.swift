import Analysis
import PrometheusText
import TraceFormat

/// vLLM's Prometheus `/metrics`, as a plain text scrape (`curl …/metrics > scrape.txt`; samples
/// may carry the exposition format's optional millisecond timestamps) or as AIPerf's
/// `server_metrics_export.jsonl` (one timestamped snapshot per line: `timestamp_ns`, `metrics` =
/// family → `[{labels, value}]`).
///
/// Mapping, one `kvCache` counter sample per snapshot (pool "kv"): usage from
/// `vllm:kv_cache_usage_perc` (a fraction despite the name; V0 `vllm:gpu_cache_usage_perc`),
/// averaged over engines; running/waiting from `vllm:num_requests_running` /
/// `vllm:num_requests_waiting` summed over engines; blocks and block size from the labels of
/// `vllm:cache_config_info` (`num_gpu_blocks`, `block_size`). Token states held are not exposed:
/// they are written as 0, which the analyzer reads as "unknown" (no fragmentation figures).
/// Counter differences between the first and last snapshot (prompt/generation tokens,
/// preemptions, prefix-cache queries/hits) and histogram means (Δsum/Δcount: TTFT, ITL, E2E,
/// queue time) go to `reported.*`: a single scrape has no differences, only gauges.
/// Names are matched exactly, so `num_requests_waiting_by_reason` and `_created` series are
/// not confused with their neighbours. O(file size).
public struct VLLMMetricsImporter: TraceImporter {
    public var format: ImportFormat { .vllmMetrics }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.contains(firstBytes, "vllm:") && (ImportDetection.contains(firstBytes, "num_requests_running")
            || ImportDetection.contains(firstBytes, "kv_cache_usage_perc") || ImportDetection.contains(firstBytes, "gpu_cache_usage_perc")) ? 0.9 : 0
    }

    /// One sample: family name, labels, value.
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// One scrape at a time (epoch ns; nil when the source has no timestamps).
    struct Snapshot {
        var time: Int64?
        var samples: [Sample] = []

        func sum(_ name: String) -> Double? {
            let v = samples.filter { $0.name == name }.map(\.value)
            return v.isEmpty ? nil : v.reduce(0, +)
        }
        func mean(_ name: String) -> Double? {
            let v = samples.filter { $0.name == name }.map(\.value)
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        func labels(_ name: String) -> [String: String]? { samples.first { $0.name == name }?.labels }
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        let snapshots = reader.peek() == UInt8(ascii: "{") ? try jsonSnapshots(&reader) : try textSnapshots(bytes, file: file)
        guard let first = snapshots.first, let last = snapshots.last else {
            throw ImportError(file: file, message: "no vllm: samples in the file (expected a Prometheus text scrape of vLLM's /metrics or AIPerf's server_metrics_export.jsonl)")
        }
        let origin = first.time ?? 0
        var h = ImportHeader(tool: "vllm-metrics")
        h.modelID = snapshots.lazy.flatMap(\.samples).compactMap { $0.labels["model_name"] }.first
        h.clock = first.time == nil ? "single scrape" : "epoch"
        h.notes["kv_tokens_stored"] = "not exposed by vLLM: written as 0 (unknown)"
        let config = snapshots.lazy.compactMap { $0.labels("vllm:cache_config_info") }.first
        let blockSize = config.flatMap { $0["block_size"] }.flatMap { Int($0) } ?? 16
        var blocksTotal = config.flatMap { $0["num_gpu_blocks"] }.flatMap { Int($0) } ?? 0
        if blocksTotal <= 0 {
            blocksTotal = 10_000
            h.notes["kv_blocks"] = "scaled: vllm:cache_config_info (num_gpu_blocks) not in the file; blocks = usage × 10000, so capacity in tokens is unknown"
        }
        h.runtimeOptions["block_size"] = String(blockSize)
        h.runtimeOptions["kv_blocks"] = String(blocksTotal)
        if let p = config?["enable_prefix_caching"] { h.runtimeOptions["prefix_cache"] = p.lowercased() }
        // Counter differences and histogram means between the first and the last snapshot.
        if snapshots.count > 1 {
            for (name, key) in [("vllm:prompt_tokens_total", "prompt_tokens"), ("vllm:generation_tokens_total", "generation_tokens"),
                                ("vllm:num_preemptions_total", "preemptions"),
                                ("vllm:prefix_cache_queries_total", "prefix_cache_queries"),
                                ("vllm:prefix_cache_hits_total", "prefix_cache_hits")] {
                if let a = first.sum(name), let b = last.sum(name) {
                    h.parameters["reported.\(key)"] = b >= a ? parameterText(b - a) : "reset (counter decreased: the server restarted)"
                }
            }
            for (name, key) in [("vllm:time_to_first_token_seconds", "mean_ttft_s"), ("vllm:inter_token_latency_seconds", "mean_itl_s"),
                                ("vllm:time_per_output_token_seconds", "mean_tpot_s"), ("vllm:e2e_request_latency_seconds", "mean_e2e_s"),
                                ("vllm:request_queue_time_seconds", "mean_queue_s")] {
                if let s0 = first.sum(name + "_sum"), let s1 = last.sum(name + "_sum"),
                   let c0 = first.sum(name + "_count"), let c1 = last.sum(name + "_count"), c1 > c0 {
                    h.parameters["reported.\(key)"] = parameterText((s1 - s0) / (c1 - c0))
                }
            }
            if let d = last.time.map({ clampedDifference($0, origin) }) { h.parameters["reported.window_s"] = parameterText(Double(d) * 1e-9) }
        }
        // Canonical aggregates: histogram means over the window (first → last snapshot; a single
        // scrape gives none), and the speculative-decoding counters (a ratio, so a single scrape's
        // totals since server start are meaningful too).
        var summary = AggregateSummary()
        if snapshots.count > 1 {
            func mean(_ name: String) -> Double? {
                guard let s0 = first.sum(name + "_sum"), let s1 = last.sum(name + "_sum"),
                      let c0 = first.sum(name + "_count"), let c1 = last.sum(name + "_count"), c1 > c0, s1 >= s0 else { return nil }
                return (s1 - s0) / (c1 - c0)
            }
            summary.ttft.mean = mean("vllm:time_to_first_token_seconds")
            summary.itl.mean = mean("vllm:inter_token_latency_seconds")
            summary.tpot.mean = mean("vllm:time_per_output_token_seconds") ?? mean("vllm:request_time_per_output_token_seconds")
            summary.e2e.mean = mean("vllm:e2e_request_latency_seconds")
            summary.queue.mean = mean("vllm:request_queue_time_seconds")
            if let a = first.sum("vllm:request_success_total"), let b = last.sum("vllm:request_success_total"), b >= a {
                summary.completed = countValue(b - a)
            }
        }
        func counter(_ name: String) -> Double? {
            guard let b = last.sum(name) else { return nil }
            guard snapshots.count > 1, let a = first.sum(name) else { return b }
            return b >= a ? b - a : nil
        }
        if let drafted = counter("vllm:spec_decode_num_draft_tokens_total"), drafted > 0,
           let accepted = counter("vllm:spec_decode_num_accepted_tokens_total") {
            summary.specDraftTokens = drafted
            summary.specAcceptedTokens = accepted
            summary.specDrafts = counter("vllm:spec_decode_num_drafts_total")
        }
        summary.write(into: &h.parameters)
        h.parameters["snapshots"] = String(snapshots.count)
        if let t = first.time { h.parameters["origin_epoch_ns"] = String(t) }
        emit(.header(try h.build(options, file: file)))
        for s in snapshots {
            guard let usage = s.mean("vllm:kv_cache_usage_perc") ?? s.mean("vllm:gpu_cache_usage_perc") else { continue }
            let used = Int32(clamping: clampedCount((max(0, min(1, usage)) * Double(blocksTotal)).rounded()))
            emit(.kvCache(KVCacheCounters(
                time: clampedDifference(s.time ?? origin, origin), pool: "kv", blocksTotal: Int32(clamping: blocksTotal),
                blocksUsed: used, blockSize: Int32(clamping: blockSize), tokensStored: 0,
                bytesUsed: 0, swappedBlocks: Int32(clamping: clampedCount(s.sum("vllm:num_requests_swapped") ?? 0)),
                running: Int32(clamping: clampedCount(s.sum("vllm:num_requests_running") ?? 0)),
                waiting: Int32(clamping: clampedCount(s.sum("vllm:num_requests_waiting") ?? 0)))))
        }
    }

    /// AIPerf `server_metrics_export.jsonl` lines.
    func jsonSnapshots(_ r: inout JSONReader) throws(ImportError) -> [Snapshot] {
        var out: [Snapshot] = []
        while !r.atEnd() {
            let line = r.line(at: r.position)
            let doc = try r.readValue(nil)
            guard let ts = doc["timestamp_ns"]?.int64 else {
                throw ImportError(file: r.file, line: line, field: "timestamp_ns", message: "expected the snapshot time in epoch nanoseconds, found \(doc["timestamp_ns"]?.kind ?? "nothing")")
            }
            guard case .object(let families)? = doc["metrics"] else {
                throw ImportError(file: r.file, line: line, field: "metrics", message: "expected an object of metric families, found \(doc["metrics"]?.kind ?? "nothing")")
            }
            var snap = Snapshot(time: ts)
            for (name, list) in families.sorted(by: { $0.key < $1.key }) where name.hasPrefix("vllm:") {
                for item in list.array ?? [] {
                    var labels: [String: String] = [:]
                    if case .object(let l)? = item["labels"] { for (k, v) in l { labels[k] = v.string ?? "" } }
                    if let v = item["value"]?.double {
                        snap.samples.append(Sample(name: name, labels: labels, value: v))
                    } else if let s = item["sum"]?.double, let c = item["count"]?.double {
                        snap.samples.append(Sample(name: name + "_sum", labels: labels, value: s))
                        snap.samples.append(Sample(name: name + "_count", labels: labels, value: c))
                    }
                }
            }
            out.append(snap)
        }
        return out.sorted { ($0.time ?? 0) < ($1.time ?? 0) }
    }

    /// Prometheus text: one snapshot, or one per distinct sample timestamp.
    func textSnapshots(_ bytes: [UInt8], file: String) throws(ImportError) -> [Snapshot] {
        var byTime: [Int64: Snapshot] = [:]
        var untimed = Snapshot(time: nil)
        var lineNumber = 0
        for rawLine in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Substring(decoding: rawLine, as: UTF8.self)
            guard line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("vllm:") else { continue }
            let parsed: PrometheusSample?
            do { parsed = try PrometheusText.parseLine(line) } catch {
                throw ImportError(file: file, line: lineNumber, message: error.message)
            }
            guard let p = parsed else { continue }
            let sample = Sample(name: p.name, labels: p.labels, value: p.value)
            if let ms = p.timestampMilliseconds {
                byTime[ms * 1_000_000, default: Snapshot(time: ms * 1_000_000)].samples.append(sample)
            } else {
                untimed.samples.append(sample)
            }
        }
        if !byTime.isEmpty && !untimed.samples.isEmpty {
            throw ImportError(file: file, message: "some samples carry timestamps and others do not; expected one scrape, or timestamps on every sample")
        }
        return byTime.isEmpty ? (untimed.samples.isEmpty ? [] : [untimed]) : byTime.values.sorted { $0.time! < $1.time! }
    }
}

