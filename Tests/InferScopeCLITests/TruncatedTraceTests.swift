#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// Every sample trace in traces/ cut at every byte offset (sampled for the large ones) gets a
/// clear verdict from `validate` and `analyze`, run in-process: no crash, exit 0 or 1 (never a
/// usage error or anything else), and a non-empty message on the stream that goes with the exit
/// code (stdout for 0, stderr for 1). See docs/fuzzing.md.
@Suite struct TruncatedTraceTests {
    /// Files up to this size are cut at every offset; larger ones at `sampledOffsets` offsets.
    static let everyOffsetLimit = 16 * 1024
    static let sampledOffsets = 160

    /// The offsets `bytes` is cut at: all of them for a small file; for a large one, evenly spread
    /// offsets plus both sides of the first few line ends (the header record and its neighbour).
    static func offsets(_ bytes: [UInt8]) -> [Int] {
        if bytes.count <= everyOffsetLimit { return Array(0..<bytes.count) }
        var cuts = Set(stride(from: 0, to: bytes.count, by: bytes.count / sampledOffsets))
        var lineEnds = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            cuts.formUnion([i - 1, i, i + 1].filter { $0 >= 0 && $0 < bytes.count })
            lineEnds += 1
            if lineEnds == 4 { break }
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
                let clear = (run.exit == .success && !run.stdout.isEmpty) || (run.exit == .failure && !run.stderr.isEmpty)
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
