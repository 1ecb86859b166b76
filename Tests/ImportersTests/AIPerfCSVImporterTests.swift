import Testing
import Analysis
@testable import Importers
import TraceFormat

/// AIPerf's CSV summary: aggregates only. Its statistics (computed by numpy in make_fixtures.py
/// over the same run as aiperf-profile_export.jsonl) must equal what the analyzer computes from
/// the per-request JSONL, to AIPerf's 2-decimal rounding.
@Suite struct AIPerfCSVImporterTests {
    @Test func csvAggregatesMatchTheAnalyzerOnTheJSONL() throws {
        let events = try importFixture("aiperf-profile_export_aiperf.csv", .aiperfCSV)
        #expect(events.count == 1, "no requests are invented from aggregates")
        let h = try header(events)
        #expect(h.hardware.name == "NVIDIA H100 SXM5 80GB", "from the GPU telemetry table's GPU_Name")
        let p = h.workload.parameters
        func reported(_ key: String) throws -> Double { try #require(p["reported.\(key)"].flatMap(Double.init), "\(key)") }
        let m = try analyze(try importFixture("aiperf-profile_export.jsonl", .aiperf)).metrics
        let pairs: [(Distribution?, String)] = [(m.ttft, "time_to_first_token_ms"), (m.tpot, "inter_token_latency_ms"),
                                                (m.e2e, "request_latency_ms")]
        for (d, name) in pairs {
            let d = try #require(d)
            for (ours, stat) in [(d.mean, "avg"), (d.p50, "p50"), (d.p90, "p90"), (d.p99, "p99"), (d.max, "max")] {
                #expect(abs(ours * 1e3 - (try reported("\(name).\(stat)"))) <= 0.0051, "\(name).\(stat)")
            }
        }
        #expect(try reported("request_count_requests") == Double(m.requests.completed))
        #expect(try reported("error_request_count_requests") == Double(m.requests.aborted))
        #expect(abs(m.throughput.outputTokensPerSecond - (try reported("output_token_throughput_tokens_sec"))) <= 0.0051)
    }

    @Test func errors() {
        #expect(importFailure("Metric,avg,min,max\r\nTime to First Token (ms),1.5,x,2\r\n", .aiperfCSV, file: "a.csv")
                == "a.csv:2: field 'Time to First Token (ms).min': expected a number, found 'x'")
        #expect(importFailure("Metric,avg,min,max\r\n\"Time to First Token (ms),1.5,1,2\r\n", .aiperfCSV, file: "a.csv")
                == "a.csv:2: unterminated quoted CSV cell")
        #expect(importFailure("Metric,avg,min,max\r\n", .aiperfCSV, file: "a.csv")
                == "a.csv: no metric rows (expected AIPerf's profile_export_aiperf.csv: a 'Metric,avg,min,max,…' table)")
    }

    @Test func slugs() {
        #expect(AIPerfCSVImporter.slug("Output Token Throughput Per User (tokens/sec/user)") == "output_token_throughput_per_user_tokens_sec_user")
        #expect(AIPerfCSVImporter.slug("Time to First Token (ms)") == "time_to_first_token_ms")
    }
}
