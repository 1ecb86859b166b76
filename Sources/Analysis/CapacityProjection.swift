/// What admitting more sequences at once buys a run whose concurrency is held below the offered
/// load — by KV memory (R2 paged KV, R3 KV quantization) or by the sequence cap (R10, R13). One
/// model for all four rules, so their predictions are comparable (issue #14: the advice matrix
/// found R2 and R3 predicting nothing for throughput or TTFT on runs where the KV pool was the
/// limit, while they measured ×1.9–2.0 throughput and ×9–17 TTFT).
///
/// Inputs are the run's own figures: B the time-weighted mean decode batch, c the mean context,
/// N the offered concurrency (closed-loop clients from the header, else the sampled mean of
/// running + waiting), S = E2E − queue the per-request service time, R the requests.
/// - The new batch: B_new = min(B·ratio (or the new cap), N·d) with d = (E2E − TTFT)/S the share of
///   service a request spends decoding (not every request in flight is in a decode step), never
///   below B.
/// - Step times T(b): the runtime's probed step curve plus measured attention when the trace carries
///   them (`probe.step_us.*`; a CPU step grows with b), else the roofline of the run's hardware
///   (memory-bound decode: nearly flat in b).
/// - Throughput: the decode part speeds up by g = (B_new/B)·T(B)/T(B_new); Amdahl over the decode
///   share of busy time.
/// - TTFT: the slot wait of Little's law, W(K) = max(0, N/K − 1)·S_K·max(0, R − K)/R (the same form
///   as R1's), scaled so that W(B) is the run's measured mean queueing delay q:
///   TTFT_new = (TTFT − q) + q·W(B_new)/W(B), S_K = S·T(K)/T(B).
/// - TPOT: T(B)/T(B_new) (≤ 1: larger batches take longer steps).
/// Not for static batching (nil). O(1).
public struct CapacityProjection: Sendable, Equatable {
    public var batch: Double
    public var newBatch: Double
    public var offered: Double
    public var throughput: Gain
    public var ttft: Gain?
    public var tpot: Gain

    /// nil without a decode batch, context and hardware (roofline step times), or when the
    /// change cannot raise the batch (the offered load is already in flight).
    /// - Parameters:
    ///   - ratio: how many times more sequences fit (KV capacity ×ratio), or nil with `cap`.
    ///   - cap: the new sequence cap, or nil with `ratio`.
    ///   - label: how B_new is bounded, in words (for the formula).
    public static func project(_ f: Features, ratio: Double? = nil, cap: Double? = nil, label: String) -> CapacityProjection? {
        // Static batching sets its batch when it forms one, not by what fits: the slot-wait model
        // is continuous admission's (a stories110m static run with a full pool measured ×0.84
        // for int8 KV where this projection said ×1.74). R1 speaks for such runs.
        guard !f.staticBatching else { return nil }
        guard let b = f.meanBatch, b > 0, let c = f.meanContext else { return nil }
        let offered = f.closedLoopClients.map(Double.init) ?? f.admission.map(\.meanInSystem)
        var bNew = ratio.map { b * $0 } ?? cap ?? b
        var decodeShare = 1.0
        if let n = offered {
            if let e2e = f.meanE2E, let ttft = f.meanTTFT, let q = f.meanQueue, e2e - q > 0, e2e >= ttft {
                decodeShare = min(1, max(0, (e2e - ttft) / (e2e - q)))
            }
            bNew = min(bNew, max(b, n * decodeShare))
        }
        guard bNew > b * 1.0001,
              let s0 = f.decodeStep(batch: b, context: c), let s1 = f.decodeStep(batch: bNew, context: c),
              s0.seconds > 0, s1.seconds > 0 else { return nil }
        let t0 = s0.seconds, t1 = s1.seconds, steps = s0.source
        var inputs: [String: Double] = ["B": b, "B_new": bNew, "c": c, "T(B)_s": t0, "T(B_new)_s": t1]
        if let n = offered { inputs["N_offered"] = n; inputs["decode_share_of_service"] = decodeShare }
        let g = bNew / b * t0 / t1
        let throughput: Gain
        if let d = f.decodeShare {
            var i = inputs
            i["decode_share_of_busy"] = d
            throughput = Gain(amdahl(share: d, factor: g),
                              "Amdahl(decode share, (B_new/B)·T(B)/T(B_new)), B_new = min(\(label), N·decode share) (\(steps))", i)
        } else {
            throughput = Gain(g, "(B_new/B)·T(B)/T(B_new), B_new = min(\(label), N·decode share) (\(steps))", inputs)
        }
        let tpot = Gain(t0 / t1, "T(B)/T(B_new) (< 1: larger batches take longer steps)", ["T(B)_s": t0, "T(B_new)_s": t1])
        var ttftGain: Gain?
        if let n = offered, let ttft = f.meanTTFT, let q = f.meanQueue, q > 0, ttft > q, let e2e = f.meanE2E, e2e > q,
           f.requestsArrived > 0 {
            let s = e2e - q, r = Double(f.requestsArrived)
            func wait(_ k: Double, _ t: Double) -> Double { max(0, n / k - 1) * s * (t / t0) * max(0, r - k) / r }
            let w0 = wait(b, t0), w1 = wait(bNew, t1)
            if w0 > 0 {
                let qNew = q * w1 / w0
                var i = inputs
                i["TTFT_mean_s"] = ttft; i["queue_mean_s"] = q; i["S_service_s"] = s; i["R_requests"] = r
                i["queue_new_s"] = qNew
                ttftGain = Gain(ttft / (ttft - q + qNew),
                                "TTFT/(TTFT − q + q·W(B_new)/W(B)), W(K) = max(0, N/K − 1)·S·T(K)/T(B)·(R − K)/R (slot wait, Little's law)", i)
            }
        }
        return CapacityProjection(batch: b, newBatch: bNew, offered: offered ?? bNew, throughput: throughput, ttft: ttftGain, tpot: tpot)
    }
}
