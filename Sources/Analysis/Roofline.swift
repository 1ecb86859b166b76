import TraceFormat

/// The roofline of one forward phase as measured.
public struct PhaseRoofline: Sendable, Equatable {
    public var phase: Phase
    public var steps: Int
    /// Measured span time, seconds.
    public var seconds: Double
    public var flops: Double
    public var bytes: Double
    /// Arithmetic intensity F/bytes, FLOP/byte.
    public var intensity: Double
    /// MFU = F/(t·P), MBU = bytes/(t·BW).
    public var mfu: Double
    public var mbu: Double
    /// Σ max(F/P, bytes/BW) over the phase, seconds (aggregate; exact for uniform steps).
    public var rooflineSeconds: Double
    /// Steps whose cost the trace did not give and the cost model could not supply.
    public var stepsWithoutCost: Int
    /// "trace", "cost model" or "trace+cost model".
    public var costSource: String
}

/// Roofline analysis of a trace on one hardware spec (methodology §1, F2/F3/F5).
public struct RooflineAnalysis: Sendable, Equatable {
    public var hardware: HardwareSpec
    public var dtype: String
    public var peakFLOPS: Double
    public var bandwidth: Double
    /// I* = P/BW, FLOP/byte.
    public var ridge: Double
    public var phases: [PhaseRoofline]
    /// Mean decoding batch B and mean attended context c of decode-carrying steps.
    public var meanBatch: Double?
    public var meanContext: Double?
    /// Weights-only critical batch I*·b_w/2.
    public var criticalBatchWeightsOnly: Double
    /// B_crit(c_mean); nil with `meanContext` set means "no batch reaches the compute roof".
    public var criticalBatch: Double?
    /// c*; nil means every context can become compute-bound.
    public var computeBoundContext: Double?
    /// F3 = B_mean/B_crit(c_mean) (0 when B_crit is infinite).
    public var decodeHeadroom: Double?
    /// F5 = K/(W+K) for a mean decode step.
    public var kvByteShare: Double?
    /// Weight and KV bytes of a mean decode step.
    public var decodeWeightBytes: Double?
    public var decodeKVBytes: Double?
    /// Roofline time of a mean decode step, seconds.
    public var decodeStepRoofline: Double?
    /// KV capacity in tokens: the trace's pool when known, else (0.9·memory − weights)/kv.
    public var kvCapacityTokens: Double?
    public var kvCapacitySource: String?

    public init(metrics: TraceMetrics, model: ModelDescriptor, hardware: HardwareSpec) {
        self.hardware = hardware
        let peak = hardware.peak(for: model)
        dtype = peak.dtype
        peakFLOPS = peak.flops
        bandwidth = hardware.memoryBandwidth
        ridge = peakFLOPS / bandwidth
        phases = metrics.work.filter { $0.phase.isForward && $0.seconds > 0 }.map { w in
            let roof = rooflineSeconds(flops: w.flops, bytes: w.bytes, peakFLOPS: peak.flops, bandwidth: hardware.memoryBandwidth)
            let source = w.stepsWithTraceCost == w.steps ? "trace"
                : (w.stepsWithTraceCost == 0 ? "cost model" : "trace+cost model")
            return PhaseRoofline(phase: w.phase, steps: w.steps, seconds: w.seconds, flops: w.flops, bytes: w.bytes,
                                 intensity: w.bytes > 0 ? w.flops / w.bytes : 0,
                                 mfu: w.flops / (w.seconds * peak.flops), mbu: w.bytes / (w.seconds * hardware.memoryBandwidth),
                                 rooflineSeconds: roof, stepsWithoutCost: w.stepsWithoutCost, costSource: source)
        }
        criticalBatchWeightsOnly = model.criticalBatchWeightsOnly(ridge: ridge)
        computeBoundContext = model.computeBoundContextLimit(ridge: ridge)
        if let b = metrics.batch.timeWeightedMean, let c = metrics.batch.meanContext {
            setDecodeOperatingPoint(batch: b, context: c, model: model)
        }
        if let pool = metrics.mainKVPool {
            kvCapacityTokens = Double(pool.blocksTotal * pool.blockSize)
            kvCapacitySource = "trace KV pool '\(pool.pool)' (\(pool.blocksTotal) blocks × \(pool.blockSize))"
        } else if let mem = hardware.memoryBytes {
            let free = 0.9 * mem - model.weightBytes
            if free > 0 {
                kvCapacityTokens = free / model.kvBytesPerToken
                kvCapacitySource = "(0.9 × memory − weights)/kv_bytes_per_token, activations ignored"
            }
        }
    }

    public func phase(_ p: Phase) -> PhaseRoofline? { phases.first { $0.phase == p } }

    /// Sets the mean decode batch B and context c and everything derived from them (B_crit,
    /// F3, F5, the decode step's roofline time). Used with measured steps and with estimates. O(1).
    public mutating func setDecodeOperatingPoint(batch b: Double, context c: Double, model: ModelDescriptor) {
        meanBatch = b
        meanContext = c
        criticalBatch = model.criticalBatch(ridge: ridge, context: c)
        decodeHeadroom = criticalBatch.map { b / $0 } ?? 0
        let w = model.weightBytesPerForward(tokens: clampedInt(b), logitRows: clampedInt(b))
        let k = b * c * model.kvBytesPerToken
        decodeWeightBytes = w
        decodeKVBytes = k
        kvByteShare = k / (w + k)
        let cost = model.decodeStepCost(batch: b, context: c)
        decodeStepRoofline = rooflineSeconds(flops: cost.flops, bytes: cost.bytes, peakFLOPS: peakFLOPS, bandwidth: bandwidth)
    }

    /// The decode-carrying phases combined (decode, mixed, verify), for the decode verdict.
    public var decodeLike: PhaseRoofline? {
        let parts = phases.filter { $0.phase == .decode || $0.phase == .verify }
        let use = parts.isEmpty ? phases.filter { $0.phase == .mixed } : parts
        guard !use.isEmpty else { return nil }
        return Self.combine(use, as: use.count == 1 ? use[0].phase : .decode, peak: peakFLOPS, bandwidth: bandwidth)
    }

    static func combine(_ parts: [PhaseRoofline], as phase: Phase, peak: Double, bandwidth: Double) -> PhaseRoofline {
        let s = parts.reduce(0) { $0 + $1.seconds }, f = parts.reduce(0) { $0 + $1.flops }
        let b = parts.reduce(0) { $0 + $1.bytes }
        return PhaseRoofline(phase: phase, steps: parts.reduce(0) { $0 + $1.steps }, seconds: s, flops: f, bytes: b,
                             intensity: b > 0 ? f / b : 0, mfu: f / (s * peak), mbu: b / (s * bandwidth),
                             rooflineSeconds: parts.reduce(0) { $0 + $1.rooflineSeconds },
                             stepsWithoutCost: parts.reduce(0) { $0 + $1.stepsWithoutCost },
                             costSource: Set(parts.map(\.costSource)).sorted().joined(separator: "+"))
    }
}
