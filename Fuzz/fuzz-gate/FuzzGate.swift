// libFuzzer target: the gate expression parser (Analysis/Gate): --require and --budget.
// Built only with INFERSCOPE_FUZZ=1 and --sanitize=fuzzer (see docs/fuzzing.md).
import Analysis

/// One input: an expression as the user would type it (UTF-8, invalid sequences repaired).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = size == 0 ? "" : String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do { _ = try GateRule.parseRequirement(text) } catch { _ = error.description }
    do { _ = try GateRule.parseBudget(text) } catch { _ = error.description }
    return 0
}
