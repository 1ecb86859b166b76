// libFuzzer target: the workload file parsers (ServingEngine Workload+Files): the JSONL request
// format and ShareGPT JSON. Built only with INFERSCOPE_FUZZ=1 and --sanitize=fuzzer.
import Foundation
import ServingEngine

/// One input: a workload file. The first byte picks the parser (even: JSONL, odd: ShareGPT);
/// a parsed workload is then fitted to a small context, as `profile` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorkload(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let body = Data(bytes: data + 1, count: size - 1)
    let parsed: Workload?
    do {
        parsed = data[0] & 1 == 0 ? try Workload.parseJSONL(body, source: "fuzz.jsonl")
                                  : try Workload.parseShareGPT(body, source: "fuzz.json")
    } catch {
        _ = error.description
        parsed = nil
    }
    if var w = parsed { _ = w.fit(maxContext: 256) }
    return 0
}
