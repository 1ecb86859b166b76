import Testing
import TraceFormat

/// The shared escape decoder: strict for traces, lenient for other tools' files.
struct JSONEscapesTests {
    func decode(_ body: String, _ mode: JSONEscapes.Mode) throws(JSONEscapes.Failure) -> String {
        let bytes = Array(body.utf8)
        return try bytes.withUnsafeBufferPointer { raw throws(JSONEscapes.Failure) in try JSONEscapes.decode(raw, mode: mode) }
    }

    @Test(arguments: [JSONEscapes.Mode.strict, .lenient])
    func validEscapesDecodeTheSameInBothModes(mode: JSONEscapes.Mode) throws {
        #expect(try decode(#"a\"b\\c\/d\b\f\n\r\t"#, mode) == "a\"b\\c/d\u{08}\u{0C}\n\r\t")
        #expect(try decode(#"\u00e9\u20AC"#, mode) == "é€")
        #expect(try decode(#"\uD83D\uDE00!"#, mode) == "😀!")  // a surrogate pair
        #expect(throws: JSONEscapes.Failure.self) { try decode(#"\u12G4"#, mode) }
    }

    @Test func strictRefusesWhatLenientRepairs() throws {
        for body in [#"x\q"#, #"x\"#, #"\uD83Dx"#, #"\uDE00"#] {
            #expect(throws: JSONEscapes.Failure.self) { try decode(body, .strict) }
        }
        #expect(try decode(#"x\q"#, .lenient) == "xq")
        #expect(try decode(#"x\"#, .lenient) == "x\\")
        #expect(try decode(#"\uD83Dx"#, .lenient) == "x")
        #expect(try decode(#"\uDE00"#, .lenient) == "\u{FFFD}")
    }
}
