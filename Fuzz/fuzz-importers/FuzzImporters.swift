// libFuzzer target: every importer of Sources/Importers, and the analyzer on what they emit
// (the path `inferscope analyze FOREIGN-FILE` takes). Built only with INFERSCOPE_FUZZ=1 and
// --sanitize=fuzzer (see docs/fuzzing.md).
import Analysis
import Importers
import TraceFormat

/// One input: a selector byte, then the file. Selector mod 10 picks:
///   0…7  the importer of `ImportFormat.allCases[selector]` (vllm, sglang, aiperf, aiperf-csv,
///        llmperf, llama-bench, otel, vllm-metrics), forced as with `--format`;
///   8    auto-detection (`ImportDetection.detect`), then the detected importer;
///   9    `CombinedImport`: the file is split at its first 0x00 byte into an AIPerf export and a
///        vLLM metrics file.
/// Bit 4 of the selector adds a model and a hardware name (the roofline estimate path) and
/// bit 5 asks for run 1 (the multi-run selection path).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImporters(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let selector = Int(data[0])
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let formats = ImportFormat.allCases
    var options = ImportOptions()
    if selector & 0x10 != 0 { options.model = "Llama-3.1-8B"; options.hardware = "H100-SXM" }
    if selector & 0x20 != 0 { options.run = 1 }
    var analyzer = try? Analyzer(options: AnalysisOptions(hardware: options.hardware))
    let emit: (TraceEvent) -> Void = { event in
        do { try analyzer?.consume(event) } catch { analyzer = nil }
    }
    do throws(ImportError) {
        switch selector % 10 {
        case 0..<formats.count:
            try formats[selector % 10].importer.importTrace(bytes, file: "fuzz", options: options, emit: emit)
        case 8:
            let format = try ImportDetection.detect(firstBytes: bytes, file: "fuzz")
            try format.importer.importTrace(bytes, file: "fuzz", options: options, emit: emit)
        default:
            let cut = bytes.firstIndex(of: 0) ?? bytes.count
            let metrics = cut < bytes.count ? Array(bytes[(cut + 1)...]) : []
            try CombinedImport.importTrace(Array(bytes[..<cut]), file: "fuzz", format: .aiperf, metrics: metrics,
                                           metricsFile: "fuzz-metrics", options: options, emit: emit)
        }
        _ = try? analyzer?.finish()
    } catch {
        _ = error.description
    }
    return 0
}
