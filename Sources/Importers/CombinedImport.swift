import TraceFormat

/// One trace from two files of the same run: the requests of a benchmark file (AIPerf
/// `profile_export.jsonl`, OTel spans — formats whose times are epoch nanoseconds) and the KV
/// occupancy and queue samples of a vLLM metrics file (AIPerf `server_metrics_export.jsonl`,
/// or a text scrape with sample timestamps). Both headers carry `origin_epoch_ns`; the metrics
/// samples are shifted onto the requests' origin. Samples before the first request are dropped,
/// except the last of them, which is placed at time 0 (the state the first request met).
/// Files whose clock is not the epoch (vLLM/SGLang results: a monotonic clock; LLMPerf: none)
/// cannot be aligned and are refused.
public enum CombinedImport {
    public static func importTrace(_ bytes: [UInt8], file: String, format: ImportFormat,
                                   metrics: [UInt8], metricsFile: String, options: ImportOptions,
                                   emit: (TraceEvent) -> Void) throws(ImportError) {
        let metricEvents = try ImportFormat.vllmMetrics.importer.importEvents(metrics, file: metricsFile, options: options)
        guard case .header(let metricsHeader)? = metricEvents.first,
              let metricsOrigin = metricsHeader.workload.parameters["origin_epoch_ns"].flatMap({ Int64($0) }) else {
            throw ImportError(file: metricsFile, message: "the metrics have no timestamps, so they cannot be aligned with the requests; give AIPerf's server_metrics_export.jsonl or a scrape whose samples carry timestamps")
        }
        var failure: ImportError?
        var shift: Int64 = 0
        try format.importer.importTrace(bytes, file: file, options: options) { event in
            guard failure == nil else { return }
            guard case .header(var h) = event else { emit(event); return }
            guard let origin = h.workload.parameters["origin_epoch_ns"].flatMap({ Int64($0) }) else {
                failure = ImportError(file: file, message: "its times are not on the epoch clock (\(h.options["import.arrivals"] ?? h.clock)), so the metrics in \(metricsFile) cannot be aligned with its requests")
                return
            }
            shift = clampedDifference(metricsOrigin, origin)
            h.options["import.metrics_file"] = metricsHeader.options["import.source_file"]
            for key in ["block_size", "kv_blocks", "prefix_cache"] { h.options[key] = h.options[key] ?? metricsHeader.options[key] }
            for (k, v) in metricsHeader.options where k.hasPrefix("import.kv_") { h.options[k] = v }
            for (k, v) in metricsHeader.workload.parameters where k.hasPrefix("reported.") { h.workload.parameters["reported.server." + k.dropFirst("reported.".count)] = v }
            emit(.header(h))
        }
        if let failure { throw failure }
        let samples = metricEvents.compactMap { e -> KVCacheCounters? in
            guard case .kvCache(var k) = e else { return nil }
            k.time = k.time.addingReportingOverflow(shift).overflow ? (shift < 0 ? .min : .max) : k.time + shift
            return k
        }
        let before = samples.filter { $0.time < 0 }
        if var last = before.last {
            last.time = 0
            emit(.kvCache(last))
        }
        for k in samples where k.time >= 0 { emit(.kvCache(k)) }
    }
}
