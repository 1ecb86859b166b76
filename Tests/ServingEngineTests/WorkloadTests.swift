import Foundation
import Testing
import LlamaModel
import ServingEngine

struct WorkloadTests {
    func parse(_ text: String) throws(WorkloadError) -> Workload {
        try Workload.parseJSONL(Data(text.utf8), source: "req.jsonl")
    }

    @Test func jsonlReadsEveryField() throws {
        let w = try parse("""
        # comment
        {"arrival": 0.5, "prompt_length": 20, "output_length": 1}
        {"arrival": 0.25, "prompt_tokens": [5, 6, 7], "output_length": 2, "max_output": 9}

        {"arrival": 0.0, "prompt_length": 30, "output_length": 3, "prefix_group": "sys", "prefix_length": 16, "text": "hi"}
        """)
        #expect(w.requests.count == 3)
        // Sorted by arrival.
        #expect(w.requests.map(\.arrival) == [0, 250_000_000, 500_000_000])
        #expect(w.requests[1].promptTokens == [5, 6, 7] && w.requests[1].maxOutputTokens == 9)
        #expect(w.requests[0].prefixGroup == "sys" && w.requests[0].prefixLength == 16 && w.requests[0].text == "hi")
    }

    @Test(arguments: [
        ("{\"prompt_length\": 5}", 1, "output_length"),
        ("{\"prompt_length\": 5, \"output_length\": 0}", 1, "output_length"),
        ("{\"output_length\": 2}", 1, "prompt_length"),
        ("{\"prompt_length\": 5, \"output_length\": 2}\n{\"prompt_length\": 5, \"output_lenght\": 2}", 2, "output_lenght"),
        ("{\"prompt_length\": 5, \"output_length\": 2, \"arrival\": -1}", 1, "arrival"),
        ("{\"prompt_tokens\": [1, \"a\"], \"output_length\": 2}", 1, "prompt_tokens"),
        ("{\"prompt_length\": 5, \"output_length\": 4, \"max_output\": 3}", 1, "max_output"),
        ("{\"prompt_length\": 5, \"output_length\": 2, \"prefix_group\": \"g\", \"prefix_length\": 5}", 1, "prefix_length"),
        ("\n\nnot json", 3, "(line)"),
        ("{\"prompt_length\": true, \"output_length\": 2}", 1, "prompt_length"),
    ])
    func jsonlErrorsNameLineAndField(text: String, line: Int, field: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.source == "req.jsonl" && error.line == line && error.field == field, "\(error)")
            #expect(error.description.hasPrefix("req.jsonl:\(line): field '\(field)'"))
        }
    }

    @Test func shareGPTTakesTheFirstHumanAssistantPair() throws {
        let json = """
        [{"id": "a", "conversations": [{"from": "system", "value": "x"}, {"from": "human", "value": "abcdefghijklmnop"},
                                      {"from": "gpt", "value": "0123456789012345678901234567890123456789"}]},
         {"id": "b", "conversations": [{"from": "gpt", "value": "only a reply"}]},
         {"id": "c", "conversations": [{"from": "user", "value": "hey"}, {"from": "assistant", "value": "12345678"}]}]
        """
        let w = try Workload.parseShareGPT(Data(json.utf8), source: "s.json")
        #expect(w.requests.count == 2)
        #expect(w.requests[0].text == "abcdefghijklmnop" && w.requests[0].promptLength == 4 && w.requests[0].outputTokens == 10)
        #expect(w.requests[1].outputTokens == 2)
        #expect(throws: WorkloadError.self) { try Workload.parseShareGPT(Data("{}".utf8), source: "s.json") }
    }

    @Test func generatorsAreSeededAndFitTheContext() throws {
        for name in Workload.builtInNames {
            let a = try Workload.builtIn(name, count: 50, seed: 11, maxContext: 256)
            let b = try Workload.builtIn(name, count: 50, seed: 11, maxContext: 256)
            let c = try Workload.builtIn(name, count: 50, seed: 12, maxContext: 256)
            #expect(a == b)
            #expect(a != c)
            #expect(a.requests.allSatisfy { $0.promptLength + $0.maxOutputTokens <= 256 && $0.outputTokens <= $0.maxOutputTokens })
            #expect(a.requests.map(\.arrival) == a.requests.map(\.arrival).sorted())
            #expect(a.descriptor.parameters["seed"] == "11" && a.descriptor.parameters["arrival"] == "poisson:8")
        }
        #expect(throws: WorkloadError.self) { try Workload.builtIn("nope", maxContext: 256) }
    }

    @Test func poissonArrivalsHaveTheRequestedRate() {
        var rng = Xoshiro256(seed: 5)
        let offsets = ArrivalPattern.poisson(rate: 10).offsets(count: 20_001, rng: &rng)
        let rate = 20_000 / (Double(offsets.last!) / 1e9)
        #expect(abs(rate - 10) < 0.5)
        var g = Xoshiro256(seed: 5)
        let gamma = ArrivalPattern.gamma(rate: 10, cv: 2).offsets(count: 20_001, rng: &g)
        let gaps = zip(gamma.dropFirst(), gamma).map { Double($0 - $1) / 1e9 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let sd = (gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)).squareRoot()
        #expect(abs(mean - 0.1) < 0.01 && abs(sd / mean - 2) < 0.2)
    }

    @Test func lengthDistributionsParseAndSample() throws {
        #expect(try LengthDistribution(parsing: "uniform:16-128", field: "--prompt") == .uniform(16, 128))
        #expect(try LengthDistribution(parsing: "lognormal:64,0.5", field: "--prompt") == .lognormal(median: 64, sigma: 0.5))
        #expect(throws: WorkloadError.self) { try LengthDistribution(parsing: "uniform:9-3", field: "--prompt") }
        var rng = Xoshiro256(seed: 1)
        let u = (0..<2_000).map { _ in LengthDistribution.uniform(10, 20).sample(&rng) }
        #expect(u.min() == 10 && u.max() == 20)
        let n = (0..<20_000).map { _ in Double(LengthDistribution.normal(mean: 100, sd: 10).sample(&rng)) }
        #expect(abs(n.reduce(0, +) / 20_000 - 100) < 0.5)
        let e = Set((0..<200).map { _ in LengthDistribution.empirical([3, 7]).sample(&rng) })
        #expect(e == [3, 7])
    }

    @Test func materializeSharesPrefixesWithinAGroupOnly() throws {
        let w = Workload(name: "t", requests: [
            WorkloadRequest(promptLength: 20, outputTokens: 2, prefixGroup: "a", prefixLength: 12),
            WorkloadRequest(promptLength: 20, outputTokens: 2, prefixGroup: "a", prefixLength: 12),
            WorkloadRequest(promptLength: 20, outputTokens: 2, prefixGroup: "b", prefixLength: 12),
        ], arrival: .burst)
        let r = try w.materialize(vocabSize: 100, seed: 3)
        #expect(r[0].prompt.prefix(12) == r[1].prompt.prefix(12))
        #expect(r[0].prompt.suffix(8) != r[1].prompt.suffix(8))
        #expect(r[0].prompt.prefix(12) != r[2].prompt.prefix(12))
        #expect(r.allSatisfy { $0.prompt.allSatisfy { $0 >= 3 && $0 < 100 } })
        let bad = Workload(name: "t", requests: [WorkloadRequest(promptTokens: [5, 500], promptLength: 2, outputTokens: 1)], arrival: .burst)
        #expect(throws: WorkloadError.self) { try bad.materialize(vocabSize: 100, seed: 0) }
    }
}
