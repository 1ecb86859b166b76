import Foundation
import Testing
import HTTPServer

extension String {
    /// The path with a leading slash (a `#filePath` split on "/" loses it).
    var prefixedBySlash: String { hasPrefix("/") ? self : "/" + self }
}

struct HTTPRequestParserTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func contentLengthBodyAndPipelinedNextRequest() throws {
        let first = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        let second = "GET /health HTTP/1.1\r\n\r\n"
        let all = bytes(first + second)
        guard case .complete(let r, let consumed) = HTTPRequestParser.parse(all) else { Issue.record("not complete"); return }
        #expect(r.method == "POST" && r.path == "/v1/completions" && r.body == bytes("hello"))
        #expect(r.header("content-length") == "5" && r.keepAlive)
        #expect(consumed == first.utf8.count)
        guard case .complete(let r2, let c2) = HTTPRequestParser.parse(all, from: consumed) else { Issue.record("second not complete"); return }
        #expect(r2.method == "GET" && r2.target == "/health" && r2.body.isEmpty && c2 == second.utf8.count)
    }

    @Test func everyPrefixIsIncompleteAndTheWholeIsComplete() {
        let text = bytes("POST /a?x=1 HTTP/1.1\r\nContent-Length: 11\r\nX-A:  padded value \t\r\n\r\nhello world")
        for n in 0..<text.count {
            #expect(HTTPRequestParser.parse(Array(text[0..<n])) == .incomplete(expectsContinue: false), "prefix \(n)")
        }
        guard case .complete(let r, _) = HTTPRequestParser.parse(text) else { Issue.record("not complete"); return }
        #expect(r.header("x-a") == "padded value" && r.path == "/a" && r.target == "/a?x=1")
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() {
        let text = bytes("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nNEXT")
        guard case .complete(let r, let consumed) = HTTPRequestParser.parse(text) else { Issue.record("not complete"); return }
        #expect(r.body == bytes("hello world"))
        #expect(consumed == text.count - 4)
        // Fed byte by byte it is incomplete until the final CRLF.
        for n in 0..<(text.count - 4) {
            #expect(HTTPRequestParser.parse(Array(text[0..<n])) == .incomplete(expectsContinue: false), "prefix \(n)")
        }
    }

    /// A chunk size of 16 hex digits used to overflow Int while it was read (found by fuzz-http):
    /// now it is a 400; 15 digits still parse as a size, which the body limit then refuses.
    @Test func hugeChunkSizesAreRefusedNotOverflowed() {
        let head = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(status(head + "8AAAAAAAAAAAAAAA\r\nxx\r\n0\r\n\r\n") == 400)
        #expect(status(head + "FFFFFFFFFFFFFFFFFFFF\r\nxx\r\n0\r\n\r\n") == 400)
        #expect(status(head + "FFFFFFFFFFFFFFF\r\nxx\r\n0\r\n\r\n") == 413)
    }

    /// Every input in Fuzz/regressions/fuzz-http parses to a result (first byte: the fuzz
    /// target's control byte, bit 0 = small limits).
    @Test func fuzzRegressionsParse() throws {
        let directory = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/")).prefixedBySlash + "/Fuzz/regressions/fuzz-http"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        #expect(!names.isEmpty, "no regression inputs in \(directory)")
        for name in names.sorted() {
            let data = try #require(FileManager.default.contents(atPath: directory + "/" + name))
            let all = [UInt8](data)
            guard let control = all.first else { continue }
            var limits = HTTPLimits()
            if control & 1 != 0 { limits.maxHeaderBytes = 64; limits.maxBodyBytes = 256 }
            let result = HTTPRequestParser.parse(Array(all.dropFirst()), limits: limits)
            if case .complete(_, let consumed) = result { #expect(consumed > 0, "\(name)") }
        }
    }

    @Test func expectContinueIsReported() {
        let text = bytes("POST /c HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        #expect(HTTPRequestParser.parse(text) == .incomplete(expectsContinue: true))
    }

    @Test func keepAliveFollowsVersionAndConnectionHeader() {
        func request(_ s: String) -> HTTPRequest? {
            if case .complete(let r, _) = HTTPRequestParser.parse(bytes(s)) { return r }
            return nil
        }
        #expect(request("GET / HTTP/1.1\r\n\r\n")?.keepAlive == true)
        #expect(request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")?.keepAlive == false)
        #expect(request("GET / HTTP/1.0\r\n\r\n")?.keepAlive == false)
        #expect(request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.keepAlive == true)
    }

    func status(_ s: String, limits: HTTPLimits = HTTPLimits()) -> Int? {
        if case .invalid(let e) = HTTPRequestParser.parse(bytes(s), limits: limits) { return e.status }
        return nil
    }

    @Test func oversizeHeadIs431AndOversizeBodyIs413() {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 64
        limits.maxBodyBytes = 10
        let long = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 100)
        #expect(status(long, limits: limits) == 431)                // before the head ends
        #expect(status(long + "\r\n\r\n", limits: limits) == 431)   // complete head
        #expect(status("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", limits: limits) == 413)  // before the body arrives
        #expect(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n", limits: limits) == 413)
        #expect(status("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n", limits: limits) == nil)
    }

    @Test func garbageIs400() {
        for g in ["\u{16}\u{03}\u{01}\u{02}\u{00}", "hello world\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/1.1 extra\r\n\r\n",
                  "GET / HTTP/1.1\nHost: x\n\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\n Folded: x\r\n\r\n",
                  "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                  "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "GET / XTTP/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n"] {
            #expect(status(g) == 400, "\(g.debugDescription)")
        }
        #expect(status("GET / HTTP/2.0\r\n\r\n") == 505)
        #expect(status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") == 501)
    }

    @Test func randomBytesNeverCrashAndAnswerConsistently() {
        // A seeded stream of mutated requests (what the libFuzzer target does at scale): every
        // input parses to one of the three outcomes, and a complete request's `consumed` lies
        // within the input.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let seed = bytes("POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Type: a\r\n\r\n4\r\nabcd\r\n0\r\n\r\n")
        var completes = 0, invalids = 0
        for _ in 0..<3000 {
            var b = seed
            for _ in 0..<(1 + Int(next() % 4)) {
                let i = Int(next() % UInt64(b.count))
                switch next() % 3 {
                case 0: b[i] = UInt8(truncatingIfNeeded: next())
                case 1: b.remove(at: i)
                default: b.insert(UInt8(truncatingIfNeeded: next()), at: i)
                }
                if b.isEmpty { b = [0] }
            }
            switch HTTPRequestParser.parse(b) {
            case .complete(_, let consumed): completes += 1; #expect(consumed > 0 && consumed <= b.count)
            case .invalid(let e): invalids += 1; #expect([400, 413, 431, 501, 505].contains(e.status))
            case .incomplete: break
            }
        }
        #expect(completes > 0 && invalids > 0)
    }

    @Test func sseFramingSplitsLinesAndEndsWithABlankLine() {
        #expect(SSE.event("{\"a\":1}") == bytes("data: {\"a\":1}\n\n"))
        #expect(SSE.event("one\ntwo\r\nthree\rfour") == bytes("data: one\ndata: two\ndata: three\ndata: four\n\n"))
        #expect(SSE.event("") == bytes("data: \n\n"))
        #expect(SSE.done == bytes("data: [DONE]\n\n"))
        #expect(HTTPResponse.chunk(bytes("hello")) == bytes("5\r\nhello\r\n"))
        #expect(HTTPResponse.chunk([]) == bytes("0\r\n\r\n"))
    }
}
