import Testing
@testable import LoadGenerator

@Suite struct SSEFramingTests {
    /// A stream as servers write it: a role-only chat chunk, a ping comment, CRLF lines, a
    /// multi-line data field, a usage chunk and [DONE].
    static let stream = Array((
        "data: {\"a\":1}\n\n" +
        ": ping\n\n" +
        "event: message\r\ndata: {\"b\":2}\r\n\r\n" +
        "data:first\ndata: second\n\n" +
        "id: 7\ndata: {\"usage\":{}}\n\n" +
        "data: [DONE]\n\n").utf8)

    static let expected: [SSEMessage] = [
        SSEMessage(data: Array("{\"a\":1}".utf8)), SSEMessage(data: nil), SSEMessage(data: Array("{\"b\":2}".utf8)),
        SSEMessage(data: Array("first\nsecond".utf8)), SSEMessage(data: Array("{\"usage\":{}}".utf8)),
        SSEMessage(data: Array("[DONE]".utf8)),
    ]

    /// Feeds `pieces` as a client would: append, split, keep the unconsumed tail.
    static func feed(_ pieces: [[UInt8]]) -> [SSEMessage] {
        var buffer: [UInt8] = []
        var out: [SSEMessage] = []
        for p in pieces {
            buffer.append(contentsOf: p)
            let (messages, consumed) = SSEFraming.split(buffer)
            out += messages
            buffer.removeFirst(consumed)
        }
        #expect(buffer.isEmpty)
        return out
    }

    @Test func wholeStream() {
        #expect(Self.feed([Self.stream]) == Self.expected)
        #expect(Self.expected.last!.isDone)
    }

    @Test func everySingleSplitPoint() {
        for cut in 0...Self.stream.count {
            let got = Self.feed([Array(Self.stream[..<cut]), Array(Self.stream[cut...])])
            #expect(got == Self.expected, "split at byte \(cut)")
        }
    }

    @Test func oneByteAtATimeAndRandomPieces() {
        #expect(Self.feed(Self.stream.map { [$0] }) == Self.expected)
        var state: UInt64 = 42
        for _ in 0..<200 {
            var pieces: [[UInt8]] = []
            var i = 0
            while i < Self.stream.count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let n = Int((state >> 33) % 9)
                pieces.append(Array(Self.stream[i..<min(Self.stream.count, i + n)]))
                i += n
            }
            #expect(Self.feed(pieces) == Self.expected)
        }
    }

    @Test func carriageReturnAtTheEndWaitsForItsLineFeed() {
        let (messages, consumed) = SSEFraming.split(Array("data: x\r\n\r".utf8))
        #expect(messages.isEmpty && consumed == 0)
        let (all, used) = SSEFraming.split(Array("data: x\r\n\r\n".utf8))
        #expect(all == [SSEMessage(data: Array("x".utf8))] && used == 11)
        // Old-Mac line ends alone also delimit.
        #expect(SSEFraming.split(Array("data: y\r\rdata: z".utf8)).messages == [SSEMessage(data: Array("y".utf8))])
    }

    @Test func unterminatedLastMessage() {
        #expect(SSEFraming.finish(Array("data: [DONE]".utf8))?.isDone == true)
        #expect(SSEFraming.finish(Array(": ping".utf8)) == nil)
        #expect(SSEFraming.finish([]) == nil)
    }

    @Test func chunkDecoding() {
        let c = StreamChunk.decode(Array(#"{"model":"m","choices":[{"index":0,"text":"hi","finish_reason":null}]}"#.utf8))
        #expect(c.hasContent && c.text == "hi" && c.model == "m" && c.completionTokens == nil)
        let role = StreamChunk.decode(Array(#"{"choices":[{"delta":{"role":"assistant","content":null}}]}"#.utf8))
        #expect(role.hasChoices && !role.hasContent)
        let usage = StreamChunk.decode(Array(#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":2}}}"#.utf8))
        #expect(!usage.hasChoices && usage.promptTokens == 5 && usage.completionTokens == 7 && usage.cachedTokens == 2)
        let llama = StreamChunk.decode(Array(#"{"choices":[{"text":"","finish_reason":"length"}],"usage":{"completion_tokens":3,"prompt_tokens":4},"timings":{"prompt_n":4,"predicted_n":3,"cache_n":0}}"#.utf8))
        #expect(llama.finishReason == "length" && llama.timingsPredictedTokens == 3 && !llama.hasContent)
        #expect(StreamChunk.decode(Array(#"{"error":{"code":500,"message":"boom"}}"#.utf8)).error == "boom")
        #expect(StreamChunk.decode(Array("not json".utf8)).malformed)
        #expect(StreamChunk.decode(Array("[DONE]".utf8)).done)
    }
}
