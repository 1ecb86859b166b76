/// One event of an InferScope trace (format v1).
///
/// A trace is a stream of these values. On disk each one becomes one line of a Chrome Trace
/// Event Format JSON array (see `docs/trace-format.md` for the mapping to `ph` types and to
/// Perfetto tracks). The model is deliberately small and typed: producers (our runtime, the
/// importers) build these values, consumers (the analyzer, `validate`, `summary`) read them.
///
/// Timestamps are ``TraceTime`` values: nanoseconds since the trace's time origin, written to
/// disk as microseconds with a three-digit fraction (the Chrome format's unit).
public enum TraceEvent: Sendable, Equatable {
    /// The run header. Exactly one per trace, and it is the first event. Stored out of line
    /// (`indirect`): it is large and rare, and keeps every other event small to copy.
    indirect case header(RunHeader)
    /// A span of engine work on one lane: a forward pass (prefill/decode/mixed/draft/verify),
    /// host overhead (schedule/sample), a KV transfer, or explicit idle time.
    case step(StepEvent)
    /// A point in one request's lifecycle (arrival … finished).
    case request(RequestEvent)
    /// A sample of a KV-cache pool's occupancy counters.
    case kvCache(KVCacheCounters)
    /// A sample of speculative-decoding counters for one engine step.
    case speculation(SpeculationCounters)
    /// A KV-cache data movement: swap out/in, offload/reload, disaggregated hand-off.
    case transfer(TransferEvent)
}

/// A point in time, in nanoseconds since the trace's origin (the header's `clock` says which
/// clock). Written as microseconds (`ts`) with a fraction of three digits.
public typealias TraceTime = Int64

/// A length of time in nanoseconds.
public typealias TraceDuration = Int64

/// A request's identity within one trace. Importers map foreign ids (strings, UUIDs) onto
/// dense integers and keep the original in ``RequestEvent/externalID``.
public typealias RequestID = UInt64

// MARK: - Steps

/// What an engine span is doing.
public enum Phase: String, Sendable, CaseIterable, Hashable, Codable {
    /// A forward pass that only processes prompt tokens.
    case prefill
    /// A forward pass that only generates tokens (one per sequence).
    case decode
    /// A forward pass carrying both prompt chunks and decode tokens.
    case mixed
    /// Speculative decoding: a forward pass of the draft (or a non-model draft, e.g. n-gram).
    case draft
    /// Speculative decoding: the target scoring γ+1 positions per speculating sequence.
    case verify
    /// Sampling from logits (host work after a forward pass).
    case sample
    /// Scheduling (host work before a forward pass).
    case schedule
    /// Moving KV-cache data (swap, offload, disaggregated hand-off).
    case kvTransfer = "kv-transfer"
    /// The engine had nothing to run (waiting for arrivals).
    case idle

    /// Phases that are model forward passes (count toward FLOPs and bytes).
    public var isForward: Bool {
        switch self {
        case .prefill, .decode, .mixed, .draft, .verify: return true
        case .sample, .schedule, .kvTransfer, .idle: return false
        }
    }
}

/// One sequence's share of a step.
public struct BatchEntry: Sendable, Equatable, Hashable {
    /// The request this sequence belongs to.
    public var request: RequestID
    /// Prompt tokens processed in this step (a prefill chunk), 0 for a pure decode.
    public var prefillTokens: Int32
    /// Tokens generated or verified in this step: 1 for a decode, γ+1 for a verify, 0 for prefill.
    public var decodeTokens: Int32
    /// Tokens already in this sequence's KV cache before the step (the attended context).
    public var contextLength: Int32

    public init(request: RequestID, prefillTokens: Int32, decodeTokens: Int32, contextLength: Int32) {
        self.request = request
        self.prefillTokens = prefillTokens
        self.decodeTokens = decodeTokens
        self.contextLength = contextLength
    }
}

/// A span of engine work (Chrome `ph: "X"`).
public struct StepEvent: Sendable, Equatable {
    /// Engine iteration index. Spans of one iteration (schedule, draft, verify, sample) share it.
    public var step: Int64
    public var phase: Phase
    /// Start, nanoseconds since origin.
    public var start: TraceTime
    /// Duration, nanoseconds.
    public var duration: TraceDuration
    /// Which engine lane ran it (Chrome `tid`): 1 = the engine (colocated) or the prefill
    /// worker, 2 = the decode worker in disaggregated mode.
    public var lane: Int32
    /// Per-sequence composition; empty for host-only spans (schedule, sample, idle).
    public var batch: [BatchEntry]
    /// Useful FLOPs of the span, computed from the model shape (methodology §1.2), if known.
    public var flops: Double?
    /// Bytes moved to or from memory (weights + KV read + KV written, methodology §1.3), if known.
    public var bytes: Double?
    /// Non-nil for a step-run record: this span stands for `run.count` identical steps laid end
    /// to end (see ``StepRun``). nil: one step.
    public var run: StepRun?

    public init(step: Int64, phase: Phase, start: TraceTime, duration: TraceDuration, lane: Int32 = 1,
                batch: [BatchEntry] = [], flops: Double? = nil, bytes: Double? = nil, run: StepRun? = nil) {
        self.step = step
        self.phase = phase
        self.start = start
        self.duration = duration
        self.lane = lane
        self.batch = batch
        self.flops = flops
        self.bytes = bytes
        self.run = run
    }

    /// How many engine steps the span stands for: `run.count`, or 1.
    public var stepCount: Int64 { run?.count ?? 1 }

    /// Prompt tokens in the span.
    public var prefillTokens: Int { batch.reduce(0) { $0 + Int($1.prefillTokens) } }
    /// Generated/verified tokens in the span.
    public var decodeTokens: Int { batch.reduce(0) { $0 + Int($1.decodeTokens) } }
}

/// A step-run record: `count` identical steps laid end to end, stored as one span so that a
/// source that reports only a total (llama-bench: "128 tokens generated in 2.1 s") costs one
/// event instead of one per token.
///
/// The span's fields then describe the whole run: `start` is the first step's start, `duration`,
/// `flops` and `bytes` are totals over the run (the mean step is each divided by `count`), `batch`
/// is the first step's composition and `step` its index. Expanded, step k (0 ≤ k < count) has
/// index `step + k`, starts at `start + round(k · duration / count)`, ends where step k + 1
/// starts (the last at `start + duration`), and its batch is `batch` with every entry's
/// `contextLength` increased by `k · contextIncrement` (1 for a decode run: each step adds one
/// token to every sequence's context; 0 for repeated identical steps). Per-step durations are
/// not measured: the expansion gives every step the mean.
public struct StepRun: Sendable, Equatable, Hashable {
    /// Steps in the run, ≥ 1.
    public var count: Int64
    /// Context tokens each batch entry gains per step (≥ 0).
    public var contextIncrement: Int32

    public init(count: Int64, contextIncrement: Int32 = 0) {
        self.count = count
        self.contextIncrement = contextIncrement
    }
}

// MARK: - Requests

/// A request lifecycle point (Chrome async events keyed by request id: `b` at arrival, `e` at
/// finish/abort, `n` for the points between), so each request is its own Perfetto lane.
public struct RequestEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// The request reached the server/engine queue (TTFT starts here).
        case arrival
        /// First scheduled into a batch (queueing delay ends here).
        case scheduled
        /// The first output token was produced.
        case firstToken = "first_token"
        /// One further output token, or one chunk of several tokens (`tokens` > 1).
        case token
        /// Evicted from the running batch (KV freed or swapped).
        case preempted
        /// Back in the running batch after a preemption.
        case resumed
        /// Completed normally.
        case finished
        /// Stopped without completing.
        case aborted
    }

    public var request: RequestID
    public var kind: Kind
    public var time: TraceTime
    /// Prompt length; set on `arrival` (and `finished`).
    public var promptTokens: Int32?
    /// For `token`/`first_token`: tokens delivered at this point (1 unless several arrive at once,
    /// e.g. an accepted speculative run). For `finished`/`aborted`: total output tokens.
    public var tokens: Int32?
    /// Prompt tokens served from the prefix cache; set on `scheduled` when known.
    public var cachedTokens: Int32?
    /// Free-form reason (`preempted`: "recompute" / "swap"; `aborted`: why).
    public var reason: String?
    /// The producer's own id for this request (importers), if different from `request`.
    public var externalID: String?

    public init(request: RequestID, kind: Kind, time: TraceTime, promptTokens: Int32? = nil,
                tokens: Int32? = nil, cachedTokens: Int32? = nil, reason: String? = nil,
                externalID: String? = nil) {
        self.request = request
        self.kind = kind
        self.time = time
        self.promptTokens = promptTokens
        self.tokens = tokens
        self.cachedTokens = cachedTokens
        self.reason = reason
        self.externalID = externalID
    }
}

// MARK: - Counters

/// A KV-cache pool occupancy sample (Chrome `ph: "C"`; each field is one Perfetto counter track).
/// Sampled once per engine step, after the step's allocations.
public struct KVCacheCounters: Sendable, Equatable {
    public var time: TraceTime
    /// Pool name: "kv" (colocated), "kv.prefill" / "kv.decode" (disaggregated).
    public var pool: String
    public var blocksTotal: Int32
    public var blocksUsed: Int32
    /// Tokens per block.
    public var blockSize: Int32
    /// Token states held (unique: a shared prefix block counts once).
    public var tokensStored: Int64
    /// Bytes of KV memory in use (blocksUsed × bytes per block).
    public var bytesUsed: Int64
    /// Blocks currently held in the second tier (swapped or offloaded).
    public var swappedBlocks: Int32
    /// Slots allocated but unused in each sequence's last block, summed (internal fragmentation).
    public var slackTokens: Int64
    /// Slots reserved for future tokens beyond the last block in use (contiguous layout, lookahead).
    public var reservedTokens: Int64
    /// Blocks referenced by more than one sequence (prefix sharing).
    public var sharedBlocks: Int32
    /// Running and waiting sequences at this instant.
    public var running: Int32
    public var waiting: Int32

    public init(time: TraceTime, pool: String = "kv", blocksTotal: Int32, blocksUsed: Int32, blockSize: Int32,
                tokensStored: Int64, bytesUsed: Int64, swappedBlocks: Int32 = 0, slackTokens: Int64 = 0,
                reservedTokens: Int64 = 0, sharedBlocks: Int32 = 0, running: Int32 = 0, waiting: Int32 = 0) {
        self.time = time
        self.pool = pool
        self.blocksTotal = blocksTotal
        self.blocksUsed = blocksUsed
        self.blockSize = blockSize
        self.tokensStored = tokensStored
        self.bytesUsed = bytesUsed
        self.swappedBlocks = swappedBlocks
        self.slackTokens = slackTokens
        self.reservedTokens = reservedTokens
        self.sharedBlocks = sharedBlocks
        self.running = running
        self.waiting = waiting
    }

    public var blocksFree: Int32 { blocksTotal - blocksUsed }
}

/// Speculative decoding counters of one engine step (Chrome `ph: "C"`), plus the per-request
/// detail (one entry per speculating sequence).
public struct SpeculationCounters: Sendable, Equatable {
    public struct PerRequest: Sendable, Equatable {
        public var request: RequestID
        /// Draft tokens proposed (γ for this sequence this step).
        public var drafted: Int32
        /// Leading draft tokens accepted by the target (0…drafted).
        public var accepted: Int32
        public init(request: RequestID, drafted: Int32, accepted: Int32) {
            self.request = request
            self.drafted = drafted
            self.accepted = accepted
        }
    }
    public var time: TraceTime
    public var step: Int64
    /// Draft length γ in force this step (the maximum over sequences when adaptive).
    public var draftLength: Int32
    public var drafted: Int32
    public var accepted: Int32
    public var perRequest: [PerRequest]

    public init(time: TraceTime, step: Int64, draftLength: Int32, drafted: Int32, accepted: Int32,
                perRequest: [PerRequest] = []) {
        self.time = time
        self.step = step
        self.draftLength = draftLength
        self.drafted = drafted
        self.accepted = accepted
        self.perRequest = perRequest
    }
}

/// A KV data movement (Chrome `ph: "X"` on the transfer lane).
public struct TransferEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case swapOut = "swap_out"
        case swapIn = "swap_in"
        case offload
        case reload
        /// Disaggregated prefill → decode hand-off.
        case handoff
    }
    public var kind: Kind
    public var start: TraceTime
    public var duration: TraceDuration
    public var bytes: Int64
    public var blocks: Int32
    public var request: RequestID?
    /// "host", "disk", "decode-worker"…
    public var destination: String

    public init(kind: Kind, start: TraceTime, duration: TraceDuration, bytes: Int64, blocks: Int32,
                request: RequestID? = nil, destination: String) {
        self.kind = kind
        self.start = start
        self.duration = duration
        self.bytes = bytes
        self.blocks = blocks
        self.request = request
        self.destination = destination
    }
}
