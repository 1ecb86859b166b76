// libFuzzer target: the InferScope trace reader (TraceFormat) and the analyzer behind it.
// Built only with INFERSCOPE_FUZZ=1 and --sanitize=fuzzer (see docs/fuzzing.md).
import Analysis
import TraceFormat

/// One input: the bytes of a trace file. Every outcome must be a value or a typed error:
/// the reader's diagnostics, or the analyzer's ``AnalysisError``. A trap is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrace(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    for strict in [false, true] {
        let reader = TraceReader(bytes: bytes, sourceName: "fuzz.json", options: .init(strict: strict, bufferSize: 256))
        var analyzer = try? Analyzer(options: AnalysisOptions(hardware: strict ? "H100-SXM" : nil))
        while let event = reader.next() {
            do { try analyzer?.consume(event) } catch { analyzer = nil }
        }
        _ = reader.diagnostics.map(\.message)
        if !reader.hasErrors { _ = try? analyzer?.finish() }
    }
    return 0
}
