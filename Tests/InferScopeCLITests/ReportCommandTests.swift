#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// `inferscope report`: a self-contained page, deterministic, written whole or not at all, and
/// never over a file InferScope did not write.
@Suite(.serialized) struct ReportCommandTests {
    static func scratch(_ name: String) -> String {
        let dir = packageRoot + "/.build/report-tests-\(getpid())"
        mkdir(dir, 0o755)
        return dir + "/" + name
    }

    @Test func goldenPageForTheSmallTrace() throws {
        let out = Self.scratch("small.html")
        defer { unlink(out) }
        let run = runCLI(["report", AnalyzeCommandTests.fixture, "-o", out, "--hardware", "H100-SXM"])
        #expect(run.exit == .success)
        #expect(run.stdout.hasPrefix("wrote \(out) (decode-bound;"))
        let page = try #require(FileBytes.text(of: out))
        let golden = packageRoot + "/Tests/InferScopeCLITests/Goldens/report-small.html"
        if let record = getenv("RECORD_GOLDENS"), String(cString: record) == "1" {
            writeText(golden, page)
            Issue.record("RECORD_GOLDENS=1: rewrote Goldens/report-small.html; review it (open it in a browser)")
            return
        }
        #expect(page == FileBytes.text(of: golden), "the page changed: run with RECORD_GOLDENS=1 and review it")
    }

    @Test func pageIsSelfContainedAndItsChartsAreWellFormedSVG() throws {
        let out = Self.scratch("sample.html")
        defer { unlink(out) }
        let run = runCLI(["report", "traces/profile-mixed-continuous.json", "-o", out])
        #expect(run.exit == .success)
        let page = try #require(FileBytes.text(of: out))
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.contains("<script"))
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http"))
        for section in ["Verdict", "The run over time", "Recommendations", "Latency", "Full text report"] {
            #expect(page.contains(section), "missing section \(section)")
        }
        // Every chart parses as XML on its own (Foundation's parser, independent of our writer).
        var charts = 0
        var rest = Substring(page)
        while let start = rest.range(of: "<svg "), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            let svg = String(rest[start.lowerBound..<end.upperBound])
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "chart \(charts) is not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
            charts += 1
            rest = rest[end.upperBound...]
        }
        #expect(charts == 7)  // time shares, tokens/s, batch+queue, KV usage, roofline, latency CDFs, per-request timeline
        // Deterministic: the same trace gives the same bytes.
        let again = Self.scratch("sample-again.html")
        defer { unlink(again) }
        _ = runCLI(["report", "traces/profile-mixed-continuous.json", "-o", again])
        #expect(FileBytes.contents(of: again) == FileBytes.contents(of: out))
    }

    @Test func neverOverwritesAFileInferScopeDidNotWrite() throws {
        let out = Self.scratch("notes.html")
        defer { unlink(out) }
        writeText(out, "my own notes\n")
        let run = runCLI(["report", AnalyzeCommandTests.fixture, "-o", out])
        #expect(run.exit == .failure)
        #expect(run.stderr.contains("refusing to overwrite"))
        #expect(FileBytes.text(of: out) == "my own notes\n")
        // An earlier report is replaced.
        let ours = Self.scratch("ours.html")
        defer { unlink(ours) }
        #expect(runCLI(["report", AnalyzeCommandTests.fixture, "-o", ours]).exit == .success)
        #expect(runCLI(["report", "traces/profile-mixed-continuous.json", "-o", ours]).exit == .success)
        #expect(FileBytes.text(of: ours)?.contains("profile-mixed-continuous.json") == true)
    }

    @Test func badInputWritesNothing() {
        let out = Self.scratch("bad.html")
        let run = runCLI(["report", "Tests/InferScopeCLITests/Fixtures/malformed.json", "-o", out])
        #expect(run.exit == .failure)
        #expect(FileBytes.contents(of: out) == nil)
        #expect(runCLI(["report", AnalyzeCommandTests.fixture, "--buckets", "3"]).exit == .usage)
        expectGolden("report-missing-file", ["report", "no-such-trace.json"])
    }

    @Test func defaultOutputReplacesTheExtension() {
        #expect(ReportCommand.defaultOutput(for: "run/trace.json") == "run/trace.html")
        #expect(ReportCommand.defaultOutput(for: "trace") == "trace.html")
        #expect(ReportCommand.defaultOutput(for: "a.b/trace") == "a.b/trace.html")
        #expect(ReportCommand.defaultOutput(for: ".hidden") == ".hidden.html")
    }
}
