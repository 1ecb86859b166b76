// libFuzzer target: the HTTP/1.1 request parser of `inferscope serve` (HTTPServer) and the
// OpenAI request bodies it hands on (ServingAPI CompletionParameters). Built only with
// INFERSCOPE_FUZZ=1 and --sanitize=fuzzer (see docs/fuzzing.md).
import HTTPServer
import ServingAPI

/// One input: the bytes a client sent on one connection. Byte 0 picks the limits (bit 0: a head
/// limit of 64 bytes and a body limit of 256, so the 431/413 paths are reached by small inputs)
/// and how the bytes arrive (bits 1…3: split at that many eighths, so a prefix is parsed first,
/// as the server does while bytes trickle in). Every complete request is followed by the next
/// pipelined one; each body is also parsed as a completion and a chat request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var limits = HTTPLimits()
    if control & 1 != 0 { limits.maxHeaderBytes = 64; limits.maxBodyBytes = 256 }
    let split = bytes.count * Int((control >> 1) & 7) / 8
    _ = HTTPRequestParser.parse(Array(bytes[..<split]), limits: limits)
    var start = 0
    var requests = 0
    while start < bytes.count, requests < 64 {
        guard case .complete(let request, let consumed) = HTTPRequestParser.parse(bytes, from: start, limits: limits) else { break }
        precondition(consumed > 0 && start + consumed <= bytes.count, "consumed \(consumed) bytes of \(bytes.count - start)")
        _ = (request.path, request.keepAlive, request.header("content-type"))
        for chat in [false, true] {
            do { _ = try CompletionParameters.parse(request.body, chat: chat) } catch { _ = error.description }
        }
        start += consumed
        requests += 1
    }
    return 0
}
