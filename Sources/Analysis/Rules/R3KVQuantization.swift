/// R3 — KV-cache quantization (methodology §4.3, §7.4).
/// Trigger: capacity-bound OR (decode memory-bound AND F5 ≥ 0.3).
/// Gain: step speedup (W+K)/(W+K/r), W = weight bytes, K = KV bytes of a mean decode step;
/// capacity ×r: on a capacity-bound run throughput, TTFT and TPOT follow the larger batch
/// (``CapacityProjection``).
public struct R3KVQuantization: Rule {
    public let id = "R3"
    public init() {}

    /// Compression ratio r, the target dtype and its bytes per element (with scales) for the
    /// current KV element size. InferScope's runtime: int8/int4 with one f16 scale per 16 elements
    /// (18/16 and 10/16 bytes); other engines: FP8 (1 byte) where the device has an FP8 peak.
    static func target(_ f: Features) -> (ratio: Double, dtype: String, bytes: Double) {
        let b = f.model.bytesPerKVElement
        let eight: (String, Double) = f.ownRuntime ? ("int8", 18.0 / 16) : (f.hardware?.peakFLOPS["fp8"] != nil ? ("fp8", 1) : ("int8", 1))
        if b > eight.1 * 1.01 { return (b / eight.1, eight.0, eight.1) }
        let four = f.ownRuntime ? 10.0 / 16 : 0.5625
        return (b / four, "int4", four)
    }

    public func evaluate(_ f: Features) -> Recommendation {
        let t = Self.target(f)
        var r = Recommendation(id: id, key: "kv-quantization", title: "Quantize the KV cache to \(t.dtype.uppercased())",
                               runtimeChange: ["kv_dtype": t.dtype],
                               literature: ["vLLM FP8 KV: 2x capacity (83,488 -> 166,992 tokens, Qwen3-4B on L4)", "NVFP4 KV: 3.56x vs BF16", "KIVI 2-bit: 2.35-3.47x throughput"])
        guard let k = f.decodeKVBytes, let w = f.decodeWeightBytes, let share = f.kvByteShare else {
            r.missing.append("decode steps with batch composition (to size weight vs KV bytes, F5)")
            r.decide(); return r
        }
        let cap = f.capacityBound == true
        let mem = f.decodeBound == .memoryBound
        r.conditions.append(Evidence("capacity-bound, or decode memory-bound with F5 ≥ \(fmt(f.thresholds.kvByteShare)) (1 = yes)",
                                     (cap || (mem && share >= f.thresholds.kvByteShare)) ? 1 : 0, "≥", 1, unit: .flag))
        r.evidence = ["F5 (KV share of decode bytes) = \(fmt(share))", "decode bound: \(f.decodeBound?.rawValue ?? "unknown")",
                      "capacity-bound: \(f.capacityBound.map { $0 ? "yes" : "no" } ?? "unknown")"]
        var speed = (w + k) / (w + k / t.ratio)
        var gain = Gain(speed, "(W+K)/(W+K/r)", ["W_bytes": w, "K_bytes": k, "r": t.ratio])
        if let measured = Self.measuredStepSpeed(f, target: t.dtype) {
            speed = measured.factor
            gain = measured
            r.evidence.append("decode attention per cached token, measured kernels: \(f.model.kvType) \(fmt(measured.inputs["t_current_s"]! * 1e9)) ns, \(t.dtype) \(fmt(measured.inputs["t_target_s"]! * 1e9)) ns")
        }
        r.gains[.tpot] = gain
        r.gains[.itl] = gain
        r.gains[.throughput] = f.decodeShare.map { Gain(amdahl(share: $0, factor: speed), "Amdahl(decode share, \(gain.formula))", ["decode_share": $0, "step_speedup": speed]) } ?? gain
        r.confidence = 1.0
        if cap, let p = CapacityProjection.project(f, ratio: t.ratio, label: "r·B") {
            r.evidence.append("capacity-bound: ×\(fmt(t.ratio)) tokens fit, mean decode batch \(fmt(p.batch)) → \(fmt(p.newBatch)) (offered \(fmt(p.offered)))")
            if p.throughput.factor > r.gains[.throughput]!.factor {
                r.gains[.throughput] = p.throughput
                r.confidence = 0.6
            }
            if let ttft = p.ttft { r.gains[.ttft] = ttft }
            if f.preemptions == 0 {
                // Admission-bound without preemptions: the larger batch's longer steps come with the byte saving.
                let both = Gain(speed * p.tpot.factor, "\(gain.formula)·T(B)/T(B_new)",
                                gain.inputs.merging(["B": p.batch, "B_new": p.newBatch]) { _, new in new })
                r.gains[.tpot] = both
                r.gains[.itl] = both
            }
        }
        r.gains[.cost] = r.gains[.throughput]
        r.caveats = ["accuracy must be checked (calibrated scales recommended)", "capacity ×\(fmt(t.ratio)): larger batches possible"]
        r.decide()
        return r
    }

    /// The decode step with the target KV type priced by the runtime's own attention kernels
    /// (the probe in the trace header), instead of by bytes: T/(T + B·c·(t_target − t_current)/threads),
    /// T the measured mean decode step, B its batch, c its mean context, t the probe's seconds per
    /// cached token of one sequence on one thread. On a CPU int8/int4 rows cost decoding work that
    /// can outweigh the bytes saved (methodology-notes 33). nil without the probe. O(1).
    static func measuredStepSpeed(_ f: Features, target: String) -> Gain? {
        guard let now = f.kvAttentionSecondsPerToken[f.model.kvType], let then = f.kvAttentionSecondsPerToken[target],
              let step = f.decodeStepSeconds, step > 0, let b = f.meanBatch, let c = f.meanContext else { return nil }
        let threads = Double(max(1, f.threads ?? 1))
        let delta = b * c * (then - now) / threads
        guard step + delta > 0 else { return nil }
        return Gain(step / (step + delta), "T/(T + B·c·(t_target − t_current)/threads) (measured attention kernels)",
                    ["T_s": step, "B": b, "c": c, "t_current_s": now, "t_target_s": then, "threads": threads])
    }

    public func apply(_ r: Recommendation, to f: Features) -> Features {
        var g = f
        let t = Self.target(f)
        g.model.bytesPerKVElement = t.bytes
        g.model.kvType = t.dtype
        g.kvCapacityTokens = f.kvCapacityTokens.map { $0 * t.ratio }
        if f.capacityBound == true { g.capacityBound = false }
        g.refreshDecodeDerived()
        return g
    }
}
