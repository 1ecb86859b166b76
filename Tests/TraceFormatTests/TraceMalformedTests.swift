import Testing
@testable import TraceFormat

@Suite struct TraceMalformedTests {
    static let headerLines: String = {
        var synth = SyntheticTrace(seed: 2)
        return String(decoding: TraceEncoder.encode([.header(synth.header())], closed: false), as: UTF8.self)
    }()

    /// Reads the header lines followed by `lines` (one event each) and a closing bracket.
    func diagnostics(_ lines: [String]) -> [String] {
        let text = Self.headerLines + lines.map { ",\n" + $0 }.joined() + "\n]\n"
        let reader = TraceReader(bytes: Array(text.utf8))
        _ = Array(reader)
        return reader.diagnostics.map(\.description)
    }

    /// Lines 1–3 are `[`, the header and its process_name line: the first bad event is line 4.
    @Test func malformedEventsNameLineFieldAndExpectation() {
        let good = #"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.000,"dur":2.000,"args":{"step":1,"phase":"decode","batch":[]}}"#
        #expect(diagnostics([good]) == [])
        let cases: [(String, String)] = [
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":"1","dur":2.000,"args":{"step":1,"phase":"decode"}}"#,
             "line 4: error: field 'ts': expected a number, found a string"),
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.0,"args":{"step":1,"phase":"decode"}}"#,
             "line 4: error: field 'dur': missing (expected microseconds, e.g. 1234.567)"),
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.0,"dur":-1,"args":{"step":1,"phase":"decode"}}"#,
             "line 4: error: field 'dur': expected a non-negative duration"),
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.0,"dur":1,"args":{"step":1.5,"phase":"decode"}}"#,
             "line 4: error: field 'args.step': expected an integer, found 1.5"),
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.0,"dur":1,"args":{"step":1,"phase":"warp"}}"#,
             "line 4: error: field 'args.phase': expected a phase (prefill, decode, mixed, draft, verify, sample, schedule, kv-transfer, idle), found \"warp\""),
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.0,"dur":1,"args":{"phase":"decode"}}"#,
             "line 4: error: field 'args.step': missing (expected the engine iteration, an integer)"),
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.0,"dur":1,"args":{"step":1,"phase":"decode","batch":[[1,2,3,4],[1,2,"x",4]]}}"#,
             "line 4: error: field 'args.batch[1][2]': expected an integer, found a string"),
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.0,"dur":1,"args":{"step":1,"phase":"decode","batch":[[1,2,3]]}}"#,
             "line 4: error: field 'args.batch[0]': expected ',' then context_length, found ']'"),
            (#"{"ph":"b","cat":"request","name":"r","id":-3,"pid":1,"ts":1.0,"args":{"kind":"arrival"}}"#,
             "line 4: error: field 'id': expected a non-negative integer, found -3"),
            (#"{"ph":"n","cat":"request","name":"r","id":3,"pid":1,"ts":1.0,"args":{"kind":"finished"}}"#,
             "line 4: error: field 'ph': expected \"e\" for a finished event, found \"n\""),
            (#"{"ph":"C","cat":"kv_cache","name":"kv","pid":1,"ts":1.0,"args":{"blocks_total":4,"blocks_used":5,"block_size":16,"tokens_stored":0,"bytes_used":0}}"#,
             "line 4: error: field 'args.blocks_used': expected at most blocks_total (4), found 5"),
            (#"{"ph":"C","cat":"kv_cache","name":"kv","pid":1,"ts":1.0,"args":{"blocks_total":4,"blocks_used":1,"block_size":16,"tokens_stored":0,"bytes_used":0,"note":"x"}}"#,
             "line 4: error: field 'args.note': expected a number (counter args are numbers), found a string"),
            (#"{"ph":"C","cat":"speculation","name":"speculation","pid":1,"ts":1.0,"step":2,"per_request":[[1,2,3]],"args":{"draft_length":4,"drafted":2,"accepted":1}}"#,
             "line 4: error: field 'per_request[0][2]': expected accepted ≤ drafted (2), found 3"),
            (#"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.0,"dur":1,"args":{"step":1,"phase":"decode"}} x"#,
             "line 4: error: expected the end of the event after its closing '}', found 'x'"),
            (#"{"ph":"X","cat":"step" "name":"decode"}"#,
             "line 4: error: expected ',' or '}' in an object, found a string"),
            (#"{"cat":"step"}"#,
             "line 4: error: field 'ph': missing"),
            (#"[1,2]"#,
             "line 4: error: expected an object, found an array"),
        ]
        for (line, expected) in cases {
            #expect(diagnostics([good, line, good]) == [expected.replacing("line 4", with: "line 5")])
        }
    }

    @Test func everyBadEventIsReportedAndReadingContinues() {
        let bad = #"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":true,"dur":1,"args":{}}"#
        let good = #"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.000,"dur":2.000,"args":{"step":1,"phase":"decode","batch":[]}}"#
        let text = Self.headerLines + ",\n\(bad),\n\(good),\n\(bad)\n]\n"
        let reader = TraceReader(bytes: Array(text.utf8))
        let events = Array(reader)
        #expect(events.count == 2)
        #expect(reader.diagnostics.map(\.description) == [
            "line 4: error: field 'ts': expected a number, found a boolean",
            "line 6: error: field 'ts': expected a number, found a boolean",
        ])
    }

    @Test func unknownFieldsAndUnknownEventKindsAreIgnored() {
        let line = #"{"ph":"X","cat":"step","name":"decode","pid":1,"tid":1,"ts":1.000,"dur":2.000,"extra":{"a":[1,{"b":null}]},"args":{"step":1,"phase":"decode","batch":[],"future":"x"}}"#
        let unknown = #"{"ph":"s","cat":"flow","name":"f","pid":1,"tid":1,"ts":1.0,"id":4}"#
        #expect(diagnostics([line, unknown]) == [])
        let text = Self.headerLines + ",\n\(unknown)\n]\n"
        let reader = TraceReader(bytes: Array(text.utf8))
        #expect(Array(reader).count == 1)
        #expect(reader.skippedUnknownEvents == 1)
    }

    func headerWith(_ replace: String, by: String) -> [String] {
        let text = Self.headerLines.replacing(replace, with: by) + "\n]\n"
        let reader = TraceReader(bytes: Array(text.utf8))
        #expect(Array(reader).isEmpty)
        return reader.diagnostics.map(\.description)
    }

    @Test func unknownMajorVersionIsRejectedNamingBothVersions() {
        #expect(headerWith(#""version":"1.0""#, by: #""version":"2.3""#) == [
            "line 2: error: field 'args.version': trace format version 2.3 is not supported: this reader reads version 1.x (1.0); use a newer InferScope to read it",
        ])
        // A newer minor of the same major is read.
        let text = Self.headerLines.replacing(#""version":"1.0""#, with: #""version":"1.7""#) + "\n]\n"
        let events = Array(TraceReader(bytes: Array(text.utf8)))
        guard case .header(let h)? = events.first else { Issue.record("no header"); return }
        #expect(h.version == TraceVersion(major: 1, minor: 7))
    }

    @Test func notATraceIsAFatalErrorWithAHint() {
        #expect(headerWith(#""schema":"inferscope.trace""#, by: #""schema":"other""#) == [
            "line 2: error: field 'args.schema': expected \"inferscope.trace\", found \"other\": not an InferScope trace",
        ])
        func read(_ text: String) -> [String] {
            let reader = TraceReader(bytes: Array(text.utf8))
            _ = Array(reader)
            return reader.diagnostics.map(\.description)
        }
        #expect(read("") == ["error: empty file: expected a JSON array starting with '[' and the run header"])
        #expect(read("{\"traceEvents\":[]}") == [
            "line 1: error: expected '[' (a trace is a JSON array, one event per line), found an object",
        ])
        #expect(read("[\n{\"ph\":\"X\",\"cat\":\"cpu_op\",\"name\":\"mm\",\"pid\":1,\"tid\":1,\"ts\":1,\"dur\":1}\n]") == [
            "line 2: error: expected the run header (ph \"i\", cat \"header\") as the first event, found ph \"X\", cat \"cpu_op\": this is not an InferScope trace (foreign Chrome traces go through an importer)",
        ])
        #expect(read("[\n]\n") == ["error: no run header: the trace has no events"])
    }

    @Test func contentAfterTheClosingBracketIsAnError() {
        let text = Self.headerLines + "\n]\n{}\n"
        let reader = TraceReader(bytes: Array(text.utf8))
        _ = Array(reader)
        #expect(reader.diagnostics.map(\.description) == ["line 5: error: unexpected content after the closing ']'"])
    }

    @Test func openFailureNamesTheFile() {
        #expect {
            _ = try TraceReader(path: "/nonexistent/trace.json")
        } throws: { error in
            "\(error)" == "/nonexistent/trace.json: error: cannot open the file: No such file or directory"
        }
    }
}

@Suite struct TraceMemberOrderTests {
    /// Readers must not depend on our writer's member order: move `args` first and add an
    /// unknown member after it; every event still reads back equal.
    @Test func memberOrderDoesNotMatter() {
        var synth = SyntheticTrace(seed: 17, adversarial: true)
        let events = synth.events(300)
        let text = String(decoding: TraceEncoder.encode(events), as: UTF8.self)
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var body = String(line)
            let comma = body.hasSuffix(",")
            if comma { body.removeLast() }
            guard let argsRange = body.range(of: ",\"args\":") else {
                lines.append(String(line))
                continue
            }
            // {A,"args":V} → {"args":V,"zz_future":[1,{"x":"}"}],A}
            let head = body[body.index(after: body.startIndex)..<argsRange.lowerBound]
            let value = body[argsRange.upperBound..<body.index(before: body.endIndex)]
            lines.append("{\"args\":\(value),\"zz_future\":[1,{\"x\":\"}\"}],\(head)}" + (comma ? "," : ""))
        }
        #expect(lines.filter { $0.hasPrefix("{\"args\"") }.count >= 300)
        let reader = TraceReader(bytes: Array(lines.joined(separator: "\n").utf8))
        #expect(Array(reader) == events)
        #expect(reader.diagnostics.isEmpty, "\(reader.diagnostics.prefix(3))")
    }
}
