import TraceFormat

extension RunResult {
    /// The one-screen summary `inferscope profile` prints, from what the engine measured (the
    /// analyzer reads the trace separately). Fixed formatting: the same result gives the same text.
    ///
    /// Throughput is output tokens over the run's wall time (first arrival to last completion);
    /// TTFT is measured from each request's arrival instant; TPOT = (finish − first token) /
    /// (tokens − 1) per request (vLLM's definition); ITL pools every gap between a request's
    /// consecutive tokens; phase shares are fractions of the wall time.
    public func summary(engine: ServingEngine, workload: Workload, tracePath: String?) -> String {
        let o = engine.options
        let seconds = Double(duration) / 1e9
        var lines: [String] = []
        lines.append("inferscope profile: \(engine.model.name) (\(engine.model.source)) on \(workload.name), \(workload.requests.count) requests, \(workload.arrival)")
        let layout = "\(o.layout.rawValue) \(o.dtype.rawValue) KV, \(engine.kvBlocks) blocks x \(o.blockSize) tokens (\(mib(engine.kvBlocks * engine.bytesPerBlock)))"
        let scheduler = o.policy == .chunked ? "chunked (budget \(o.tokenBudget))" : o.policy.rawValue
        lines.append("config      \(scheduler), \(layout), preempt \(o.preemption.rawValue), prefix cache \(o.prefixCaching ? "on" : "off"), \(o.disaggregated ? "disaggregated" : "colocated"), threads \(o.threads), seed \(o.seed)")
        lines.append("")
        let aborted = requests.count - completed.count
        lines.append("requests    \(completed.count) completed, \(aborted) aborted in \(fixed(seconds, 3)) s")
        let inputTokens = completed.reduce(0) { $0 + $1.promptTokens }
        lines.append("throughput  \(fixed(outputThroughput, 1)) output tok/s, \(fixed(seconds > 0 ? Double(completed.count) / seconds : 0, 2)) req/s, \(fixed(seconds > 0 ? Double(inputTokens + outputTokens) / seconds : 0, 1)) total tok/s")
        func ms(_ values: [Double]) -> String {
            guard let p50 = percentile(values, 50), let p99 = percentile(values, 99) else { return "n/a" }
            return "p50 \(fixed(p50 / 1e6, 2)) ms  p99 \(fixed(p99 / 1e6, 2)) ms  (n=\(values.count))"
        }
        lines.append("TTFT        " + ms(ttft.map(Double.init)))
        lines.append("TPOT        " + ms(tpot))
        lines.append("ITL         " + ms(interTokenGaps.map(Double.init)))
        var order: [Phase] = [.prefill, .decode, .mixed, .sample, .schedule, .kvTransfer, .idle]
        if (phaseTime[.draft] ?? 0) + (phaseTime[.verify] ?? 0) > 0 { order.insert(contentsOf: [.draft, .verify], at: 3) }  // --spec
        let shares = order.map { p in "\(p.rawValue) \(percent(Double(phaseTime[p] ?? 0), Double(duration)))" }
        lines.append("phases      " + shares.joined(separator: ", "))
        for pool in peakBlocksUsed.keys.sorted() {
            let used = peakBlocksUsed[pool] ?? 0, total = blocksTotal[pool] ?? 0
            lines.append("KV peak     \(pool): \(used) / \(total) blocks (\(percent(Double(used), Double(total)))), \(mib(Int(peakBytesUsed[pool] ?? 0))), \(peakRunning) running at most")
        }
        let transfers = TransferEvent.Kind.allCases.compactMap { k -> String? in
            guard let b = transferBytes[k], b > 0 else { return nil }
            return "\(k.rawValue) \(mib(Int(b))) in \(fixed(Double(transferTime[k] ?? 0) / 1e6, 2)) ms"
        }
        lines.append("preemption  \(preemptions["recompute"] ?? 0) recompute, \(preemptions["swap"] ?? 0) swap; prefix cache \(prefixHitTokens) / \(prefixQueriedTokens) prompt tokens hit")
        if !transfers.isEmpty { lines.append("transfers   " + transfers.joined(separator: ", ")) }
        if let tracePath { lines.append("trace       \(tracePath)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `x` with exactly `digits` decimals (no locale).
func fixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = x < 0
    let n = Int64((abs(x) * scale).rounded())
    let whole = n / Int64(scale)
    var text = "\(negative && n != 0 ? "-" : "")\(whole)"
    if digits > 0 {
        let frac = String(n % Int64(scale))
        text += "." + String(repeating: "0", count: digits - frac.count) + frac
    }
    return text
}

func percent(_ part: Double, _ whole: Double) -> String { whole > 0 ? fixed(100 * part / whole, 1) + "%" : "0.0%" }

/// Bytes in KiB, MiB or GiB (one decimal), whichever keeps the number ≥ 1.
func mib(_ bytes: Int) -> String {
    let b = Double(bytes)
    if b >= 1_073_741_824 { return fixed(b / 1_073_741_824, 1) + " GiB" }
    if b >= 1_048_576 { return fixed(b / 1_048_576, 1) + " MiB" }
    return fixed(b / 1024, 1) + " KiB"
}
