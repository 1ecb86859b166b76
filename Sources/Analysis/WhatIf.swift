import TraceFormat

/// A phase projected onto other hardware.
public struct PhaseProjection: Sendable, Equatable {
    public var phase: Phase
    /// Mean measured step, seconds.
    public var measuredStep: Double
    /// Mean projected step, seconds.
    public var projectedStep: Double
    /// projected/measured = roofline(target)/roofline(source) for the phase's FLOPs and bytes.
    public var scale: Double
}

/// Cost per token at a price per device-hour (methodology: "know your per-token economics").
/// The run's wall time is charged; it is split between input and output tokens by the prefill
/// vs decode share of busy time.
public struct CostEstimate: Sendable, Equatable {
    public var pricePerHour: Double
    public var usdPerMillionInputTokens: Double?
    public var usdPerMillionOutputTokens: Double?
    public var usdPerMillionTokens: Double?

    public init(pricePerHour: Double, wallSeconds: Double, prefillShare: Double, inputTokens: Int, outputTokens: Int) {
        self.pricePerHour = pricePerHour
        let total = pricePerHour / 3600 * wallSeconds
        usdPerMillionInputTokens = inputTokens > 0 ? total * prefillShare / Double(inputTokens) * 1e6 : nil
        usdPerMillionOutputTokens = outputTokens > 0 ? total * (1 - prefillShare) / Double(outputTokens) * 1e6 : nil
        usdPerMillionTokens = inputTokens + outputTokens > 0 ? total / Double(inputTokens + outputTokens) * 1e6 : nil
    }
}

/// The same workload projected onto another hardware spec by the roofline: every forward
/// phase's time scales by roofline(target)/roofline(source) (so the software efficiency measured
/// on the source is kept); host spans and idle time are unchanged; queueing is not re-simulated.
public struct WhatIfProjection: Sendable, Equatable {
    public var source: String
    public var target: HardwareSpec
    public var phases: [PhaseProjection]
    public var ttftMeasured: Double?
    public var ttftProjected: Double?
    public var tpotMeasured: Double?
    public var tpotProjected: Double?
    public var outputTokensPerSecondMeasured: Double
    public var outputTokensPerSecondProjected: Double
    public var cost: CostEstimate?
    public var caveats: [String]

    public init(metrics m: TraceMetrics, roofline r: RooflineAnalysis, model: ModelDescriptor, target: HardwareSpec,
                pricePerHour: Double?) {
        source = r.hardware.name
        self.target = target
        let peak = target.peak(for: model).flops
        var projections: [PhaseProjection] = []
        var scaled: [Phase: Double] = [:]
        for ph in r.phases where ph.rooflineSeconds > 0 {
            let roofTarget = rooflineSeconds(flops: ph.flops, bytes: ph.bytes, peakFLOPS: peak, bandwidth: target.memoryBandwidth)
            let scale = roofTarget / ph.rooflineSeconds
            scaled[ph.phase] = scale
            let n = Double(max(1, ph.steps))
            projections.append(PhaseProjection(phase: ph.phase, measuredStep: ph.seconds / n,
                                               projectedStep: ph.seconds * scale / n, scale: scale))
        }
        phases = projections
        let prefillScale = scaled[.prefill] ?? scaled[.mixed] ?? 1
        let decodeScale = scaled[.decode] ?? scaled[.verify] ?? scaled[.mixed] ?? 1
        ttftMeasured = m.ttft?.mean
        if let t = m.ttft?.mean { ttftProjected = (m.queue?.mean ?? 0) + (t - (m.queue?.mean ?? 0)) * prefillScale }
        tpotMeasured = m.tpot?.mean
        tpotProjected = m.tpot.map { $0.mean * decodeScale }
        var busyOld = 0.0, busyNew = 0.0
        for (phase, seconds) in m.phases.seconds where phase.isForward {
            busyOld += seconds
            busyNew += seconds * (scaled[phase] ?? 1)
        }
        let wallNew = max(1e-12, m.duration - busyOld + busyNew)
        outputTokensPerSecondMeasured = m.throughput.outputTokensPerSecond
        outputTokensPerSecondProjected = m.duration > 0 ? Double(m.requests.outputTokens) / wallNew : 0
        cost = pricePerHour.map {
            CostEstimate(pricePerHour: $0, wallSeconds: wallNew, prefillShare: m.phases.prefillShareOfBusy,
                         inputTokens: m.requests.inputTokens, outputTokens: m.requests.outputTokens)
        }
        caveats = ["queueing and batch sizes are those of the measured run (arrivals are not re-simulated)",
                   "software efficiency (fraction of roofline) is carried over from the source hardware"]
    }
}
