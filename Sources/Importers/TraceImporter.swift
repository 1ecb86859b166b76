import TraceFormat

/// A foreign file format InferScope can import. The raw value is the `--from` name.
public enum ImportFormat: String, Sendable, CaseIterable, Equatable {
    /// `vllm bench serve --save-result [--save-detailed]` result JSON (also `--append-result` lines).
    case vllm
    /// SGLang `bench_serving --output-file` JSONL (with or without `--output-details`).
    case sglang
    /// NVIDIA AIPerf `profile_export.jsonl` (one request per line).
    case aiperf
    /// NVIDIA AIPerf `profile_export_aiperf.csv` (aggregates only).
    case aiperfCSV = "aiperf-csv"
    /// Anyscale LLMPerf `*_individual_responses.json`.
    case llmperf
    /// llama.cpp `llama-bench -o json|jsonl`.
    case llamaBench = "llama-bench"
    /// OpenTelemetry OTLP/JSON spans (collector file exporter) with `gen_ai.*` attributes.
    case otel
    /// vLLM Prometheus `/metrics` scrapes (text, or AIPerf's server_metrics_export.jsonl).
    case vllmMetrics = "vllm-metrics"
    /// The `Serving Benchmark Result` block vLLM and SGLang print (console text, also in a log).
    case servingText = "serving-text"
    /// vLLM CI nightly / performance results: a JSON list of runs with display-named columns.
    case vllmNightly = "vllm-nightly"
    /// NVIDIA GenAI-Perf `profile_export_genai_perf.json` or `.csv` (aggregates only).
    case genaiPerf = "genai-perf"
    /// NVIDIA perf_analyzer `profile_export.json` (per-request timestamps).
    case perfAnalyzer = "perf-analyzer"
    /// NVIDIA AIPerf `profile_export_aiperf.json` (aggregates; early `records` or flat schema).
    case aiperfJSON = "aiperf-json"
    /// Anyscale LLMPerf `*_summary.json` (aggregates only).
    case llmperfSummary = "llmperf-summary"
    /// llama.cpp server responses with `timings` (one, an array, or JSON Lines).
    case llamaServer = "llama-server"
    /// llama.cpp `llama-bench` markdown table (`-o md`, also inside a log).
    case llamaBenchMarkdown = "llama-bench-md"
    /// TensorRT-LLM `trtllm-bench` console report (text).
    case trtllmBench = "trtllm-bench"
    /// PyTorch profiler / Kineto Chrome trace (`.json` or `.json.gz`).
    case kineto

    /// What the format is, for help and error messages.
    public var summary: String {
        switch self {
        case .vllm: return "vLLM `bench serve` result JSON"
        case .sglang: return "SGLang bench_serving JSONL"
        case .aiperf: return "AIPerf profile_export.jsonl"
        case .aiperfCSV: return "AIPerf profile_export_aiperf.csv (aggregates only)"
        case .llmperf: return "LLMPerf individual_responses.json"
        case .llamaBench: return "llama.cpp llama-bench JSON/JSONL"
        case .otel: return "OpenTelemetry OTLP/JSON spans with gen_ai.* attributes"
        case .vllmMetrics: return "vLLM Prometheus /metrics scrape or AIPerf server_metrics_export.jsonl"
        case .servingText: return "vLLM/SGLang 'Serving Benchmark Result' console block"
        case .vllmNightly: return "vLLM nightly benchmark results (a list of runs)"
        case .genaiPerf: return "GenAI-Perf profile_export_genai_perf.json/.csv (aggregates only)"
        case .perfAnalyzer: return "perf_analyzer profile_export.json"
        case .aiperfJSON: return "AIPerf profile_export_aiperf.json (aggregates only)"
        case .llmperfSummary: return "LLMPerf summary.json (aggregates only)"
        case .llamaServer: return "llama.cpp server responses with timings"
        case .llamaBenchMarkdown: return "llama.cpp llama-bench markdown table"
        case .trtllmBench: return "trtllm-bench console report"
        case .kineto: return "PyTorch profiler / Kineto Chrome trace (.json, .json.gz)"
        }
    }

    /// The importer for this format.
    public var importer: any TraceImporter {
        switch self {
        case .vllm: return ServingBenchImporter(format: .vllm)
        case .sglang: return ServingBenchImporter(format: .sglang)
        case .aiperf: return AIPerfImporter()
        case .aiperfCSV: return AIPerfCSVImporter()
        case .llmperf: return LLMPerfImporter()
        case .llamaBench: return LlamaBenchImporter()
        case .otel: return OTelImporter()
        case .vllmMetrics: return VLLMMetricsImporter()
        case .servingText: return ServingBenchTextImporter()
        case .vllmNightly: return VLLMNightlyImporter()
        case .genaiPerf: return GenAIPerfImporter()
        case .perfAnalyzer: return PerfAnalyzerImporter()
        case .aiperfJSON: return AIPerfSummaryImporter()
        case .llmperfSummary: return LLMPerfSummaryImporter()
        case .llamaServer: return LlamaServerImporter()
        case .llamaBenchMarkdown: return LlamaBenchMarkdownImporter()
        case .trtllmBench: return TRTLLMBenchImporter()
        case .kineto: return KinetoImporter()
        }
    }

    /// "vllm, sglang, aiperf, …" for messages.
    public static var namesList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// What the user told the importer beyond the file.
public struct ImportOptions: Sendable, Equatable {
    /// A model name (catalog name or the engine's model id) overriding the file's.
    public var model: String?
    /// A hardware catalog name; otherwise hardware comes only from the file.
    public var hardware: String?
    /// For files holding several runs (vLLM `--append-result`, SGLang JSONL): which one, 1-based.
    /// nil = the last run in the file.
    public var run: Int?
    /// A model architecture read from a file (`--model config.json|FILE.gguf`); wins over `model`.
    public var modelDescriptor: ModelDescriptor?

    public init(model: String? = nil, hardware: String? = nil, run: Int? = nil, modelDescriptor: ModelDescriptor? = nil) {
        self.model = model
        self.hardware = hardware
        self.run = run
        self.modelDescriptor = modelDescriptor
    }
}

/// One importer: recognises its format from the first bytes of a file and turns the file into
/// InferScope trace events (header first), handed one by one to `emit` so that large inputs
/// never hold the whole trace in memory.
public protocol TraceImporter: Sendable {
    var format: ImportFormat { get }
    /// How sure the importer is that a file starting with `firstBytes` is its format: 0 (no) …
    /// 1 (certain). Cheap: looks for the format's characteristic keys.
    func detect(firstBytes: [UInt8]) -> Double
    /// Parses `bytes` (the whole file) and emits the trace. On error nothing after the failing
    /// record is emitted; callers that write files must discard partial output.
    func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                     emit: (TraceEvent) -> Void) throws(ImportError)
}

extension TraceImporter {
    /// The whole trace as an array (tests, small files).
    public func importEvents(_ bytes: [UInt8], file: String, options: ImportOptions = .init()) throws(ImportError) -> [TraceEvent] {
        var events: [TraceEvent] = []
        try importTrace(bytes, file: file, options: options) { events.append($0) }
        return events
    }
}

/// Auto-detection over every importer.
public enum ImportDetection {
    /// How many leading bytes detection looks at.
    public static let prefixLength = 64 * 1024

    /// The format of a file starting with `firstBytes`, or an error listing the formats and
    /// how to force one when none or several match equally well.
    public static func detect(firstBytes: [UInt8], file: String) throws(ImportError) -> ImportFormat {
        let prefix = Array(firstBytes.prefix(prefixLength))
        let scored = ImportFormat.allCases.map { ($0, $0.importer.detect(firstBytes: prefix)) }
            .filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
        let formats = ImportFormat.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: ", ")
        guard let best = scored.first else {
            throw ImportError(file: file, message: "not a recognised format; supported: \(formats). "
                              + "If this is one of them, force it with --from NAME")
        }
        if scored.count > 1, scored[1].1 >= best.1 {
            let tied = scored.filter { $0.1 >= best.1 }.map(\.0.rawValue).joined(separator: " or ")
            throw ImportError(file: file, message: "ambiguous format: looks like \(tied); force one with --from NAME")
        }
        return best.0
    }

    /// True when `firstBytes` contains `needle` (an ASCII key such as `"ttfts"`).
    static func contains(_ firstBytes: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard !n.isEmpty, firstBytes.count >= n.count else { return false }
        let first = n[0]
        var i = 0
        let last = firstBytes.count - n.count
        while i <= last {
            if firstBytes[i] == first {
                var j = 1
                while j < n.count && firstBytes[i + j] == n[j] { j += 1 }
                if j == n.count { return true }
            }
            i += 1
        }
        return false
    }

    /// The fraction of `keys` present in `firstBytes` (each as `"key"`).
    static func score(_ firstBytes: [UInt8], keys: [String]) -> Double {
        let hits = keys.filter { contains(firstBytes, "\"\($0)\"") }.count
        return Double(hits) / Double(keys.count)
    }
}
