/// Where a GPU's time goes in a kernel profile (PyTorch profiler / Kineto), by kernel class:
/// the verdict a file without requests or tokens can still give.
///
/// Shares are of the profiled window (summed over profiler steps); class times are unions of
/// kernel intervals, so concurrent streams can make them sum past the busy time. The reading:
/// idle ≥ `idleShare` (the workload threshold, default 30%) says the GPU waits for the host
/// (launch/scheduling overhead); otherwise the largest busy class leads — GEMM (weight matmuls:
/// compute- or weight-bandwidth-bound depending on batch), attention (long contexts or an
/// unfused kernel), communication (tensor-parallel collectives), memory (copies and fills).
/// Communication ≥ 20% of the window is called out whichever class leads. O(1).
public struct KernelTimeSplit: Sendable, Equatable {
    public enum Lead: String, Sendable, Equatable {
        case hostBound = "GPU idle-dominated (host-bound)"
        case gemm = "GEMM-dominated"
        case attention = "attention-dominated"
        case communication = "communication-dominated"
        case memory = "memory-copy-dominated"
        case other = "other-kernel-dominated"
    }

    /// Summed profiled window, seconds.
    public var windowSeconds: Double
    public struct Share: Sendable, Equatable {
        public var name: String
        /// Of the profiled window, 0…1.
        public var share: Double
    }

    /// Each class's share in a fixed order: GEMM, attention, communication, memory, other, idle.
    public var shares: [Share]
    public var lead: Lead
    public var steps: Int?
    public var evidence: [Evidence]
    /// One sentence: what the lead means and where to look.
    public var reading: String

    /// nil unless the aggregates carry a positive GPU window and a busy time.
    public init?(aggregates a: AggregateSummary, thresholds t: Thresholds) {
        guard let window = a.gpuWindowSeconds, window > 0, window.isFinite, let busy = a.gpuBusySeconds else { return nil }
        func share(_ x: Double?) -> Double { min(1, max(0, (x ?? 0) / window)) }
        let idle = max(0, 1 - share(busy))
        let classes: [(String, Double, Lead)] = [
            ("GEMM", share(a.gpuGEMMSeconds), .gemm), ("attention", share(a.gpuAttentionSeconds), .attention),
            ("communication", share(a.gpuCommunicationSeconds), .communication),
            ("memory", share(a.gpuMemorySeconds), .memory), ("other", share(a.gpuOtherSeconds), .other),
        ]
        windowSeconds = window
        steps = a.gpuSteps
        shares = classes.map { Share(name: $0.0, share: $0.1) } + [Share(name: "idle", share: idle)]
        let idleEvidence = Evidence("GPU idle share of the profiled window", idle, "≥", t.idleShare, unit: .share)
        let top = classes.max { $0.1 < $1.1 }!
        var ev = [idleEvidence]
        if idleEvidence.holds {
            lead = .hostBound
        } else {
            lead = top.2
            ev.append(Evidence("largest kernel class (\(top.0)) share of the window", top.1, "≥",
                               classes.filter { $0.0 != top.0 }.map(\.1).max() ?? 0, unit: .share))
        }
        let comm = Evidence("communication share of the window", share(a.gpuCommunicationSeconds), "≥", 0.2, unit: .share)
        if comm.holds && lead != .communication { ev.append(comm) }
        evidence = ev
        var r: String
        switch lead {
        case .hostBound: r = "the GPU waits for the host between kernels: launch and scheduling overhead (CUDA graphs, larger batches, less Python per step) before faster kernels"
        case .gemm: r = "weight matmuls lead: at small batch they stream weights (memory-bound; quantize weights, batch more), at large batch they are compute-bound"
        case .attention: r = "attention kernels lead: long contexts or an unfused attention backend (FlashAttention/FlashInfer, KV quantization, shorter prompts via prefix caching)"
        case .communication: r = "collectives lead: tensor parallelism costs more than it brings here (fewer GPUs per replica, more replicas, or a faster interconnect)"
        case .memory: r = "copies and fills lead: host-device transfers or KV swapping (pin memory, avoid offload, check preemption)"
        case .other: r = "kernels outside GEMM/attention/communication lead (norms, activations, sampling): fused kernels or torch.compile"
        }
        if comm.holds && lead != .communication { r += "; collectives take \(NumberFormat.percent(comm.value)) of the window" }
        reading = r
    }
}
