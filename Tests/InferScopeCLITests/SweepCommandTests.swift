#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TraceFormat
@testable import InferScopeCLI

/// `inferscope sweep`: one valid trace per load point, a row per point, a machine-readable
/// document. Whether a point passes its SLO is a timing, so the tests check structure, not verdicts.
@Suite(.serialized) struct SweepCommandTests {
    static let quick = ["--model", "tiny", "--workload", "chat", "--requests", "4", "--threads", "1", "--seed", "2", "--no-probe"]

    @Test func onePointPerRateEachWithAValidTrace() throws {
        let dir = temporaryDirectory()
        let run = runCLI(["sweep", "--rates", "50,5", "--slo", "ttft=1s", "--dir", dir, "--format", "json"] + Self.quick)
        #expect(run.exit == .success, "\(run.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(document["schema"] as? String == "inferscope.sweep/1")
        #expect(document["load_kind"] as? String == "rate")
        let points = try #require(document["points"] as? [[String: Any]])
        #expect(points.map { $0["load"] as? Double } == [5, 50])  // ascending, whatever the order given
        for p in points {
            let trace = try #require(p["trace"] as? String)
            #expect(runCLI(["validate", trace, "--strict"]).exit == .success)
            #expect(p["passes"] is Bool)            // an SLO was given: every point is judged
            #expect(p["saturated"] is Bool)
            let attained = try #require(p["attainment"] as? Double)
            #expect((0...1).contains(attained))
        }
    }

    @Test func concurrencyPointsAndTheTextTable() throws {
        let dir = temporaryDirectory()
        let run = runCLI(["sweep", "--concurrencies", "1,2", "--dir", dir] + Self.quick)
        #expect(run.exit == .success, "\(run.stderr)")
        let rows = run.stdout.split(separator: "\n").filter { $0.contains(dir + "/concurrency-") }
        #expect(rows.count == 2)
        #expect(!run.stdout.contains("highest load meeting"))  // no SLO, no verdict on it
        #expect(FileBytes.contents(of: dir + "/concurrency-1.json") != nil)
        #expect(FileBytes.contents(of: dir + "/concurrency-2.json") != nil)
    }

    @Test func usageErrorsTeach() {
        expectGolden("sweep-no-loads", ["sweep", "--model", "tiny"])
        expectGolden("sweep-both-loads", ["sweep", "--rates", "1", "--concurrencies", "2"])
        expectGolden("sweep-bad-rates", ["sweep", "--rates", "1,,x"])
        expectGolden("sweep-search-without-slo", ["sweep", "--rates", "1,2", "--search", "2"])
        #expect(runCLI(["sweep", "--rates", "1", "--attainment", "120%"]).exit == .usage)
    }

    @Test func keepsFilesInferScopeDidNotWrite() throws {
        let dir = temporaryDirectory()
        writeText(dir + "/rate-5.json", "not a trace\n")
        let run = runCLI(["sweep", "--rates", "5", "--dir", dir] + Self.quick)
        #expect(run.exit == .failure)
        #expect(FileBytes.text(of: dir + "/rate-5.json") == "not a trace\n")
    }
}
