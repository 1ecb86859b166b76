/// The first event of every trace: what ran, where, how, on what workload, with which clock.
///
/// For traces recorded by InferScope's own runtime the header holds everything needed to run
/// the same workload again (`analyze --verify`): the model reference, every runtime option and
/// the workload specification with its seed.
public struct RunHeader: Sendable, Equatable {
    /// Always ``RunHeader/schemaName``.
    public var schema: String
    /// Format version, "MAJOR.MINOR". Readers accept any minor of their major.
    public var version: TraceVersion
    /// The producing tool and its version, e.g. "inferscope 0.1.0" or "inferscope-import vllm".
    public var producer: String
    public var model: ModelDescriptor
    public var hardware: HardwareDescriptor
    /// Runtime options as strings (see `docs/trace-format.md` for the known keys:
    /// scheduler, kv_layout, kv_dtype, block_size, kv_blocks, preempt, prefix_cache,
    /// disaggregated, threads, seed, token_budget, max_num_seqs, spec, gamma…).
    public var options: [String: String]
    public var workload: WorkloadDescriptor
    /// The clock the timestamps come from, e.g. "CLOCK_MONOTONIC" or "client-wall".
    public var clock: String
    /// Wall-clock time at the trace origin, ISO 8601 UTC, if known.
    public var startedAt: String?

    public static let schemaName = "inferscope.trace"

    public init(schema: String = RunHeader.schemaName, version: TraceVersion = .current, producer: String,
                model: ModelDescriptor, hardware: HardwareDescriptor, options: [String: String] = [:],
                workload: WorkloadDescriptor, clock: String, startedAt: String? = nil) {
        self.schema = schema
        self.version = version
        self.producer = producer
        self.model = model
        self.hardware = hardware
        self.options = options
        self.workload = workload
        self.clock = clock
        self.startedAt = startedAt
    }
}

/// A format version. The major changes only for incompatible structure; a reader rejects an
/// unknown major and accepts unknown fields of a known one.
public struct TraceVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public static let current = TraceVersion(major: 1, minor: 0)
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    /// Parses "MAJOR.MINOR"; nil if malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 0, b >= 0 else { return nil }
        major = a
        minor = b
    }
    public var description: String { "\(major).\(minor)" }
    public static func < (l: TraceVersion, r: TraceVersion) -> Bool { (l.major, l.minor) < (r.major, r.minor) }
}

/// The model architecture, enough to compute FLOPs, bytes and KV size (methodology §1).
public struct ModelDescriptor: Sendable, Equatable {
    /// A display name: preset name, file name, or catalog name ("Llama 3.1 8B").
    public var name: String
    /// Where the weights came from: "preset:stories15m", a file path, or "external".
    public var source: String
    /// "llama".
    public var architecture: String
    /// Hidden size d.
    public var dim: Int
    /// Decoder layers L.
    public var layers: Int
    /// Query heads h.
    public var heads: Int
    /// Key/value heads h_kv.
    public var kvHeads: Int
    /// Head dimension d_h.
    public var headDim: Int
    /// SwiGLU intermediate size d_ff.
    public var ffnDim: Int
    /// Vocabulary size V.
    public var vocabSize: Int
    /// Maximum context length.
    public var maxContext: Int
    public var tiedEmbeddings: Bool
    /// Weight storage type name: "f32", "f16", "bf16", "q8_0", "q4_0", "fp8"…
    public var weightType: String
    /// Average bytes per weight parameter including block scales (q8_0: 34/32 = 1.0625).
    public var bytesPerWeight: Double
    /// KV element type: "f32", "f16", "bf16", "int8", "int4", "fp8".
    public var kvType: String
    /// Average bytes per KV element including scales.
    public var bytesPerKVElement: Double
    /// Mixture of experts (all 0 for a dense model): routed experts E per MoE layer, experts
    /// each token is routed to k, one expert's SwiGLU intermediate size, the summed intermediate
    /// size of always-active shared experts, and the number of leading layers that keep the dense
    /// `ffnDim` MLP (the other `layers − denseLayers` are MoE layers).
    public var experts = 0
    public var expertsPerToken = 0
    public var expertFFNDim = 0
    public var sharedExpertFFNDim = 0
    public var denseLayers = 0

    public init(name: String, source: String = "external", architecture: String = "llama", dim: Int, layers: Int,
                heads: Int, kvHeads: Int, headDim: Int, ffnDim: Int, vocabSize: Int, maxContext: Int,
                tiedEmbeddings: Bool = false, weightType: String, bytesPerWeight: Double, kvType: String,
                bytesPerKVElement: Double) {
        self.name = name
        self.source = source
        self.architecture = architecture
        self.dim = dim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ffnDim = ffnDim
        self.vocabSize = vocabSize
        self.maxContext = maxContext
        self.tiedEmbeddings = tiedEmbeddings
        self.weightType = weightType
        self.bytesPerWeight = bytesPerWeight
        self.kvType = kvType
        self.bytesPerKVElement = bytesPerKVElement
    }
}

/// The machine the trace was recorded on (or a catalog entry, for imported traces).
public struct HardwareDescriptor: Sendable, Equatable {
    /// Display name: catalog name ("NVIDIA H100 SXM5 80GB") or the host's CPU model.
    public var name: String
    /// "measured" (built-in probes), "catalog", "user", or "unknown".
    public var source: String
    /// Threads the run used (CPU runtime) or devices (imported GPU traces).
    public var threads: Int
    /// Peak (or measured) memory read bandwidth, bytes per second; nil if unknown.
    public var memoryBandwidth: Double?
    /// Peak (or measured) dense FLOP/s for the math type the run used; nil if unknown.
    public var peakFLOPS: Double?
    /// Memory capacity in bytes, if known.
    public var memoryBytes: Int64?

    public init(name: String, source: String, threads: Int, memoryBandwidth: Double? = nil,
                peakFLOPS: Double? = nil, memoryBytes: Int64? = nil) {
        self.name = name
        self.source = source
        self.threads = threads
        self.memoryBandwidth = memoryBandwidth
        self.peakFLOPS = peakFLOPS
        self.memoryBytes = memoryBytes
    }
}

/// What workload ran. For our runtime: the name (built-in or file) plus all generator
/// parameters and the seed, so it can be regenerated exactly.
public struct WorkloadDescriptor: Sendable, Equatable {
    /// "mixed", "chat", a file path, or "external".
    public var name: String
    public var requests: Int
    /// Generator parameters as strings (rate, concurrency, arrival, seed, file digest…).
    public var parameters: [String: String]

    public init(name: String, requests: Int, parameters: [String: String] = [:]) {
        self.name = name
        self.requests = requests
        self.parameters = parameters
    }
}
