import TraceFormat

/// The peaks the roofline needs for one device: memory bandwidth, dense FLOP/s per math type,
/// memory capacity. Units: bytes/s, FLOP/s, bytes.
public struct HardwareSpec: Sendable, Equatable {
    public var name: String
    /// "catalog", "user" (spec file / flags), "measured" (the trace header's probes), "trace".
    public var origin: String
    public var memoryBandwidth: Double
    /// Dense peak FLOP/s keyed by math type: "bf16", "fp8", "fp4" (catalog) or "trace" (header).
    public var peakFLOPS: [String: Double]
    public var memoryBytes: Double?
    /// Where the numbers come from (catalog source column, spec file path, probe).
    public var source: String

    public init(name: String, origin: String, memoryBandwidth: Double, peakFLOPS: [String: Double],
                memoryBytes: Double? = nil, source: String) {
        self.name = name
        self.origin = origin
        self.memoryBandwidth = memoryBandwidth
        self.peakFLOPS = peakFLOPS
        self.memoryBytes = memoryBytes
        self.source = source
    }

    /// The peak for the math the model runs: FP8 when weights and KV are both ≤ 8-bit floats and
    /// the device has an FP8 peak (LLM-Viewer's rule, methodology §1.3), else BF16; the header's
    /// single measured peak when that is all there is. Returns the dtype key used.
    public func peak(for model: ModelDescriptor) -> (flops: Double, dtype: String) {
        let eightBit = ["fp8", "int8", "q8_0"]
        if eightBit.contains(model.weightType.lowercased()), eightBit.contains(model.kvType.lowercased()),
           let f = peakFLOPS["fp8"] {
            return (f, "fp8")
        }
        if let f = peakFLOPS["bf16"] { return (f, "bf16") }
        if let f = peakFLOPS["trace"] { return (f, "trace") }
        let first = peakFLOPS.sorted { $0.key < $1.key }.first!
        return (first.value, first.key)
    }

    /// Machine balance I* = P/BW (FLOP/byte) for `model`'s math type.
    public func ridge(for model: ModelDescriptor) -> Double { peak(for: model).flops / memoryBandwidth }

    /// The spec from a trace header's measured or declared peaks (`--hardware host`).
    public static func fromHeader(_ h: HardwareDescriptor) throws(AnalysisError) -> HardwareSpec {
        guard let bw = h.memoryBandwidth, bw > 0 else { throw .hostPeaksMissing(field: "memoryBandwidth") }
        guard let p = h.peakFLOPS, p > 0 else { throw .hostPeaksMissing(field: "peakFLOPS") }
        return HardwareSpec(name: h.name, origin: h.source == "measured" ? "measured" : "trace",
                            memoryBandwidth: bw, peakFLOPS: ["trace": p],
                            memoryBytes: h.memoryBytes.map(Double.init),
                            source: "trace header (\(h.source), \(h.threads) threads)")
    }
}
