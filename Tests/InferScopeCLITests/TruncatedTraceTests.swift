#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// Every sample trace in traces/ cut at byte offsets (see `offsets`) gets a
/// clear verdict from `validate` and `analyze`, run in-process: no crash, exit 0 or 1 (never a
/// usage error or anything else), and a non-empty message. See docs/fuzzing.md.
@Suite struct TruncatedTraceTests {
    /// Every offset of the header record (the first 2 lines), both sides of every line end (where
    /// a cut leaves whole records), and every `stride`-th offset in between; every offset at all
    /// would be ~100k in-process runs, too slow for the suite (scripts/fuzz.sh covers the rest).
    static let stride = 61

    static func offsets(_ bytes: [UInt8]) -> [Int] {
        var cuts = Set(Swift.stride(from: 0, to: bytes.count, by: stride))
        var lineEnds = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            lineEnds += 1
            if lineEnds <= 2 { cuts.formUnion(0...i) }
            cuts.formUnion([i, i + 1].filter { $0 < bytes.count })
        }
        cuts.insert(bytes.count - 1)
        return cuts.sorted()
    }

    @Test(arguments: sampleTraces())
    func everyCutGetsAVerdict(_ trace: String) throws {
        let bytes = try #require(FileBytes.contents(of: packageRoot + "/" + trace), "cannot read \(trace)")
        let directory = temporaryDirectory()
        let path = directory + "/cut.json"
        var failures = 0
        let offsets = Self.offsets(bytes)
        for offset in offsets {
            writeBytes(path, Array(bytes[..<offset]))
            for command in ["validate", "analyze"] {
                let run = runCLI([command, path])
                // `validate` reports an invalid trace on stdout with exit 1; `analyze` on stderr.
                let clear = (run.exit == .success || run.exit == .failure) && !(run.stdout + run.stderr).isEmpty
                if !clear {
                    failures += 1
                    if failures <= 5 {
                        Issue.record("\(trace) cut at byte \(offset): '\(command)' exit \(run.exit), stdout \(run.stdout.count) bytes, stderr: \(run.stderr.prefix(200))")
                    }
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(2 * offsets.count) runs on cuts of \(trace) gave no clear verdict")
        // The empty file (offset 0) is refused by both.
        writeBytes(path, [])
        #expect(runCLI(["validate", path]).exit == .failure)
        #expect(runCLI(["analyze", path]).exit == .failure)
    }
}
