import Analysis
import TraceFormat

/// TensorRT-LLM `trtllm-bench throughput|latency` console report (text, usually inside a log):
/// sections framed by `=` lines (`= PYTORCH BACKEND` / `= ENGINE DETAILS`, `= MACHINE DETAILS`,
/// `= REQUEST DETAILS`, `= WORLD + RUNTIME INFORMATION`, `= PERFORMANCE OVERVIEW`,
/// `= DECODING STATISTICS`, …) with `Label: value` rows (tabs or spaces; values may be `.4E`
/// scientific or `90.00%`), and per-request breakdown blocks `-- Per-Request … [TTFT] Breakdown
/// (ms)` with rows `[TTFT] P99: v`. Older builds (2024) used `= STREAMING STATISTICS` and
/// `Token Throughput (tokens/sec)`.
///
/// Mapping: requests → completed; `Number of concurrent requests` → max concurrency (it is the
/// measured mean, Σ latency / total time); average input/output lengths; request and output
/// throughput (total token throughput when printed); `Total Latency (ms)` → duration; average
/// TTFT/TPOT and the breakdown percentiles (TTFT, TPOT, request latency → E2E) in seconds;
/// `Issue Rate` → request rate; `[AL]` average acceptance length. Model from `Model:`, hardware
/// from the machine line. Every numeric row is kept as `reported.<label slug>`. Lost: per-request
/// records (in `--request_json`); failures (the tool aborts on errors). O(file size).
public struct TRTLLMBenchImporter: TraceImporter {
    public var format: ImportFormat { .trtllmBench }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        if ImportDetection.contains(firstBytes, "\"request_info\"") && ImportDetection.contains(firstBytes, "\"world_info\"") { return 0.9 }
        return (ImportDetection.contains(firstBytes, "PERFORMANCE OVERVIEW") || ImportDetection.contains(firstBytes, "REQUEST DETAILS"))
            && (ImportDetection.contains(firstBytes, "Request Throughput (req/sec)") || ImportDetection.contains(firstBytes, "Number of requests"))
            ? 0.9 : 0
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        if reader.peek() == UInt8(ascii: "{") { return try importReportJSON(&reader, file: file, options: options, emit: emit) }
        var h = ImportHeader(tool: "trtllm-bench")
        var s = AggregateSummary()
        var section = ""
        var breakdown = ""
        var rows = 0
        for raw in AggregateImport.lines(bytes) {
            let line = raw.trimmingSpaces()
            if line.hasPrefix("=") {
                let name = line.drop { $0 == "=" || $0 == " " }.trimmingSpaces()
                if !name.isEmpty { section = name.uppercased(); breakdown = "" }
                continue
            }
            if line.hasPrefix("--") {
                if line.contains("[TTFT]") { breakdown = "ttft" }
                else if line.contains("[TPOT]") { breakdown = "tpot" }
                else if line.contains("Request Latency") { breakdown = "e2e" }
                else { breakdown = "other" }
                continue
            }
            if section == "MACHINE DETAILS", !line.isEmpty, !line.contains(":"), h.hardwareName == nil {
                h.hardwareName = line.split(separator: ",").first.map(String.init)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let label = line[..<colon].trimmingSpaces()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            if label.hasPrefix("[") {
                // "[TTFT] P99" / "[Latency] AVERAGE" / "[AL] AVERAGE"
                let parts = label.split(separator: " ")
                guard parts.count >= 2, let x = AggregateImport.number(Substring(value)) else { continue }
                let tag = parts[0].dropFirst().dropLast().lowercased()
                let stat = parts.last!.lowercased()
                h.parameters["reported.\(tag).\(stat)"] = parameterText(x)
                rows += 1
                if tag == "al", stat == "average" { s.specMeanAcceptedLength = x; continue }
                let target = tag == "ttft" ? "ttft" : tag == "tpot" ? "tpot" : tag == "latency" ? "e2e" : breakdown
                func set(_ st: inout AggregateSummary.Stat) { st.set(stat, x * 1e-3) }
                switch target {
                case "ttft": set(&s.ttft)
                case "tpot": set(&s.tpot)
                case "e2e": set(&s.e2e)
                default: break
                }
                continue
            }
            let key = label.lowercased()
            switch key {
            case "model": h.modelID = value; continue
            case "tensorrt llm version", "tensorrt-llm version": h.toolVersion = value; continue
            default: break
            }
            guard let x = AggregateImport.number(Substring(value)) else {
                if !value.isEmpty { h.parameters[AIPerfCSVImporter.slug(label)] = value }
                continue
            }
            h.parameters["reported.\(AIPerfCSVImporter.slug(label))"] = parameterText(x)
            rows += 1
            switch key {
            case "number of requests": s.completed = countValue(x)
            case "number of concurrent requests": s.maxConcurrency = x
            case "average input length (tokens)": s.inputTokensMean = x
            case "average output length (tokens)": s.outputTokensMean = x
            case "request throughput (req/sec)": s.requestThroughput = x
            case "total output throughput (tokens/sec)", "token throughput (tokens/sec)": s.outputThroughput = x
            case "total token throughput (tokens/sec)": s.totalTokenThroughput = x
            case "total latency (ms)": s.durationSeconds = x * 1e-3
            case "average request latency (ms)": s.e2e.mean = s.e2e.mean ?? x * 1e-3
            case "average time-to-first-token [ttft] (ms)", "average time-to-first-token (ms)": s.ttft.mean = s.ttft.mean ?? x * 1e-3
            case "average time-per-output-token [tpot] (ms)", "average inter-token latency (ms)": s.tpot.mean = s.tpot.mean ?? x * 1e-3
            case "issue rate (req/sec)": s.requestRate = x > 1e15 ? .infinity : x
            case "tp size", "pp size":
                h.devices = max(h.devices, 1) * max(1, min(countValue(x) ?? 1, 4096))
            default: break
            }
        }
        guard rows > 0 else {
            throw ImportError(file: file, message: "no trtllm-bench report rows found (expected the '= PERFORMANCE OVERVIEW' / '= REQUEST DETAILS' sections it prints)")
        }
        h.notes["token_counts"] = "exact output token ids (in-process, no re-tokenization)"
        h.notes["ttft_definition"] = "from the request's start after the concurrency semaphore (client queueing excluded); streaming only"
        try AggregateImport.emit(h, s, format: format, file: file, options: options, emit: emit)
    }

    /// `trtllm-bench … --report_json FILE`: `engine`, `machine`, `world_info`, `request_info`,
    /// `performance` (ms, tok/s, `request_latency_percentiles_ms` with p50…p99, minimum, maximum,
    /// average), `streaming_metrics` (`avg_ttft_ms`, `avg_tpot_ms`, `ttft_percentiles`,
    /// `tpot_percentiles` in ms), `decoding_stats` (`acceptance_length_percentiles`). Same mapping
    /// as the console report.
    func importReportJSON(_ reader: inout JSONReader, file: String, options: ImportOptions,
                          emit: (TraceEvent) -> Void) throws(ImportError) {
        let top = try reader.readValue(nil)
        guard top["request_info"] != nil || top["performance"] != nil else {
            throw ImportError(file: file, message: "no trtllm-bench report found (expected --report_json output with 'request_info' and 'performance', or the console report)")
        }
        var h = ImportHeader(tool: "trtllm-bench")
        h.modelID = top["engine"]?["model"]?.string
        h.toolVersion = top["engine"]?["version"]?.string
        h.hardwareName = top["machine"]?["name"]?.string
        let world = top["world_info"]
        h.devices = max(1, min(world?["tp_size"]?.double.flatMap(countValue) ?? 1, 4096)) * max(1, min(world?["pp_size"]?.double.flatMap(countValue) ?? 1, 4096))
        var s = AggregateSummary()
        func ms(_ v: JSON?) -> Double? { v?.double.flatMap { $0.isFinite ? $0 * 1e-3 : nil } }
        func stat(_ v: JSON?) -> AggregateSummary.Stat {
            .init(mean: ms(v?["average"]), p50: ms(v?["p50"]), p90: ms(v?["p90"]), p95: ms(v?["p95"]), p99: ms(v?["p99"]), max: ms(v?["maximum"]))
        }
        let req = top["request_info"], perf = top["performance"], stream = top["streaming_metrics"]
        s.completed = req?["num_requests"]?.double.flatMap(countValue)
        s.maxConcurrency = req?["avg_num_concurrent_requests"]?.double
        s.inputTokensMean = req?["avg_input_length"]?.double
        s.outputTokensMean = req?["avg_output_length"]?.double
        s.durationSeconds = ms(perf?["total_latency_ms"])
        s.requestThroughput = perf?["request_throughput_req_s"]?.double
        s.outputThroughput = perf?["system_output_throughput_tok_s"]?.double
        s.totalTokenThroughput = perf?["system_total_throughput_tok_s"]?.double
        s.e2e = stat(perf?["request_latency_percentiles_ms"])
        if s.e2e.mean == nil { s.e2e.mean = ms(perf?["avg_request_latency_ms"]) }
        s.ttft = stat(stream?["ttft_percentiles"])
        if s.ttft.mean == nil { s.ttft.mean = ms(stream?["avg_ttft_ms"]) }
        s.tpot = stat(stream?["tpot_percentiles"])
        if s.tpot.mean == nil { s.tpot.mean = ms(stream?["avg_tpot_ms"]) }
        if let rate = world?["issue_rate"]?.double { s.requestRate = rate > 1e15 ? .infinity : rate }
        s.specMeanAcceptedLength = top["decoding_stats"]?["acceptance_length_percentiles"]?["average"]?.double
        for section in ["performance", "request_info", "world_info"] {
            guard case .object(let o)? = top[section] else { continue }
            for (k, v) in o { if let x = v.double, x.isFinite { h.parameters["reported.\(section).\(k)"] = parameterText(x) } }
        }
        h.notes["token_counts"] = "exact output token ids (in-process, no re-tokenization)"
        try AggregateImport.emit(h, s, format: format, file: file, options: options, emit: emit)
    }
}
