import Testing
import LlamaModel
import ServingEngine
import Tracing

/// The speculation probe (`profile`'s `probe.spec.*` header options): a short draft-vs-target run
/// on the workload's own first prompts measures acceptance and the draft and verification costs,
/// so R4 need not assume them. The acceptance it measures is the model's: the peaked `tiny`
/// (a self-draft that agrees with its target) probes far higher than the flat one.
struct SpeculationProbeTests {
    static let peaked = LoadedModel(
        weights: ModelPreset(name: "tiny-peaked", config: ModelPreset.tiny.config,
                             initialization: .peaked(layers: ModelPreset.tiny.config.layers)).makeWeights(type: .f32, seed: 5),
        tokenizer: nil, name: "tiny-peaked", source: "test")

    static func workload() -> Workload {
        Workload(name: "probe-test", requests: (0..<3).map { WorkloadRequest(promptLength: 20 + 10 * $0, outputTokens: 40) },
                 arrival: .closedLoop(concurrency: 2))
    }

    static func probe(_ model: LoadedModel) throws -> (SpeculationProbeResult, [String: String]) {
        var o = EngineOptions()
        o.threads = 1
        let engine = try ServingEngine(model: model, options: o, tracer: Tracer(sink: nil, clock: SteppingClock()))
        #expect(!engine.header(for: workload()).options.keys.contains { $0.hasPrefix("probe.spec.") })
        let result = try #require(engine.probeSpeculation(workload(), requests: 2, outputTokens: 24))
        return (result, engine.header(for: workload()).options)
    }

    @Test func probeMeasuresTheModelsAcceptanceAndCostsAndRecordsThem() throws {
        let (flat, options) = try Self.probe(Fixtures.tiny)
        let (peaked, _) = try Self.probe(Self.peaked)
        for p in [flat, peaked] {
            #expect(p.strategy == "quant" && p.gamma == 3)
            // Two requests of 24 output tokens: rounds of up to 3 drafts until the budget ends.
            #expect(p.draftedTokens >= 2 * 3 && p.draftedTokens <= 2 * 24 * 3)
            #expect(p.draftCostRatio > 0 && p.verifyCostRatio > 0 && p.decodeStepSeconds > 0)
            #expect((0...1).contains(p.alpha))
        }
        #expect(peaked.alpha >= 0.6, "peaked α \(peaked.alpha)")
        #expect(peaked.alpha >= flat.alpha + 0.3, "peaked α \(peaked.alpha) vs flat α \(flat.alpha)")
        #expect(options["probe.spec.strategy"] == "quant" && options["probe.spec.gamma"] == "3")
        #expect(options["probe.spec.drafted_tokens"] == String(flat.draftedTokens))
        let alpha = try #require(options["probe.spec.alpha"].flatMap(Double.init))
        #expect(abs(alpha - flat.alpha) < 1e-4)
        for key in ["draft_cost_ratio", "verify_cost_ratio", "decode_step_us"] {
            #expect((options["probe.spec.\(key)"].flatMap(Double.init) ?? 0) > 0, "probe.spec.\(key)")
        }
    }

    @Test func probeIsSkippedWhenTheRunAlreadySpeculatesOrRunsDisaggregated() throws {
        var o = EngineOptions()
        o.threads = 1
        o.speculation = SpeculationConfig(strategy: .ngram(maxMatch: 3), draftLength: .fixed(3))
        let speculating = try ServingEngine(model: Fixtures.tiny, options: o, tracer: Tracer(sink: nil, clock: SteppingClock()))
        #expect(speculating.probeSpeculation(Self.workload()) == nil)
        var d = EngineOptions()
        d.threads = 2
        d.disaggregated = true
        let split = try ServingEngine(model: Fixtures.tiny, options: d, tracer: Tracer(sink: nil, clock: SteppingClock()))
        #expect(split.probeSpeculation(Self.workload()) == nil)
        #expect(!split.header(for: Self.workload()).options.keys.contains { $0.hasPrefix("probe.spec.") })
    }
}

/// The step-time probe (`probe.step_us.threads_<t>`): decode steps of 1…64 sequences with the
/// run's threads and with each share `--disaggregated` would give a worker.
struct StepTimeProbeTests {
    @Test func probeMeasuresTheCurveForEachThreadCountAndRecordsIt() throws {
        var o = EngineOptions()
        o.threads = 2
        let engine = try ServingEngine(model: Fixtures.tiny, options: o, tracer: Tracer(sink: nil, clock: SteppingClock()))
        let workload = SpeculationProbeTests.workload()
        #expect(!engine.header(for: workload).options.keys.contains { $0.hasPrefix("probe.step_us.") })
        let p = try #require(engine.probeStepTime(repetitions: 1))
        #expect(p.seconds.keys.sorted() == [1, 2])
        for (_, s) in p.seconds {
            #expect(s.count == StepTimeProbeResult.batches.count && s.allSatisfy { $0 > 0 })
            // 64 rows through every matrix cost more than one (the timer cannot hide a 64× workload).
            #expect(s.last! > s.first!)
        }
        let options = engine.header(for: workload).options
        for t in [1, 2] {
            let text = try #require(options["probe.step_us.threads_\(t)"])
            let pairs = text.split(separator: ",").map { $0.split(separator: ":") }
            #expect(pairs.map { Int($0[0])! } == StepTimeProbeResult.batches)
            for (pair, seconds) in zip(pairs, p.seconds[t]!) { #expect(abs(Double(pair[1])! - seconds * 1e6) <= 0.05 + 1e-9) }
        }
    }

    @Test func oneThreadProbesOnlyItself() throws {
        var one = EngineOptions()
        one.threads = 1
        let p = try #require(try ServingEngine(model: Fixtures.tiny, options: one, tracer: .disabled).probeStepTime(repetitions: 1))
        #expect(p.seconds.keys.sorted() == [1])
    }
}
