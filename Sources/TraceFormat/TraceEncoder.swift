/// Turns ``TraceEvent`` values into the lines of a v1 trace file (see `docs/trace-format.md`).
///
/// The file is a Chrome Trace Event Format JSON array with one event per line:
///
///     [
///     {"ph":"i","cat":"header",...},
///     {"ph":"M","name":"process_name",...},
///     {"ph":"X","cat":"step",...}
///     ]
///
/// Each event is preceded by its separator (`\n` for the first, `,\n` after that) and is not
/// followed by anything, so every prefix of the output that ends after an event is a valid
/// JSON array missing only its closing `]` — which the Chrome format (and our reader) accepts.
///
/// The encoder is a value with a little state (whether an event was written; which lanes have
/// been named). It is not thread-safe; the file recorder runs it on its writer thread.
public struct TraceEncoder {
    var out = JSONOutput(capacity: 1 << 16)
    private var eventsWritten = 0
    /// Lanes 0…63 whose `thread_name` line was written, as bits; others in `namedLanesAbove`.
    private var namedLanes: UInt64 = 0
    private var namedLanesAbove: Set<Int32> = []

    public init() {}

    /// The bytes produced since the last ``removeAll()`` (a copy).
    public var bytes: [UInt8] { out.bytes }

    /// How many bytes were produced since the last ``removeAll()``.
    public var byteCount: Int { out.count }

    /// Calls `body` with the produced bytes, without copying them.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try out.withUnsafeBytes(body)
    }

    /// Forgets the produced bytes (keeps the capacity and the encoder's state).
    public mutating func removeAll() { out.removeAll() }

    /// Appends the opening `[` of the array. Call once, first.
    public mutating func appendOpening() { out.raw("[") }

    /// Appends the closing `]` (and a final newline). Call once, last, on a clean close.
    public mutating func appendClosing() { out.raw("\n]\n") }

    /// Appends one event: its separator and its line(s). The header adds a `process_name`
    /// metadata line; the first event on each lane adds that lane's `thread_name` line. O(size
    /// of the event).
    public mutating func append(_ event: TraceEvent) {
        switch event {
        case .header(let header):
            appendHeader(header)
        case .step(let step):
            nameLaneIfNeeded(step.lane)
            appendStep(step)
        case .transfer(let transfer):
            nameLaneIfNeeded(TraceLayout.transferLane)
            appendTransfer(transfer)
        case .request(let request):
            appendRequest(request)
        case .kvCache(let counters):
            appendKVCache(counters)
        case .speculation(let counters):
            appendSpeculation(counters)
        }
    }

    /// Encodes a whole trace in memory: opening, every event, closing.
    public static func encode(_ events: some Sequence<TraceEvent>, closed: Bool = true) -> [UInt8] {
        var encoder = TraceEncoder()
        encoder.appendOpening()
        for event in events { encoder.append(event) }
        if closed { encoder.appendClosing() }
        return encoder.bytes
    }

    // MARK: - Framing

    private mutating func beginLine(ph: StaticString, cat: StaticString?) {
        out.raw(eventsWritten == 0 ? "\n" : ",\n")
        eventsWritten += 1
        out.raw("{\"ph\":\"")
        out.raw(ph)
        out.raw("\"")
        if let cat {
            out.nextKey("cat")
            out.raw("\"")
            out.raw(cat)
            out.raw("\"")
        }
    }

    private mutating func pidTid(_ tid: Int32?) {
        out.nextKey("pid")
        out.int(TraceLayout.pid)
        if let tid {
            out.nextKey("tid")
            out.int(tid)
        }
    }

    private mutating func metadata(name: StaticString, tid: Int32?, value: String) {
        beginLine(ph: "M", cat: nil)
        out.nextKey("name")
        out.raw("\"")
        out.raw(name)
        out.raw("\"")
        pidTid(tid)
        out.nextKey("args")
        out.raw("{")
        out.key("name")
        out.string(value)
        out.raw("}}")
    }

    private mutating func nameLaneIfNeeded(_ lane: Int32) {
        if lane >= 0 && lane < 64 {
            let bit: UInt64 = 1 << UInt64(lane)
            if namedLanes & bit != 0 { return }
            namedLanes |= bit
        } else if !namedLanesAbove.insert(lane).inserted {
            return
        }
        metadata(name: "thread_name", tid: lane, value: TraceLayout.laneName(lane))
    }

    // MARK: - Events

    private mutating func appendHeader(_ h: RunHeader) {
        beginLine(ph: "i", cat: TraceLayout.Category.header)
        out.nextKey("name")
        out.raw("\"")
        out.raw(TraceLayout.headerName)
        out.raw("\"")
        out.nextKey("s")
        out.raw("\"g\"")
        pidTid(TraceLayout.runLane)
        out.nextKey("ts")
        out.microseconds(0)
        out.nextKey("args")
        out.raw("{")
        out.key("schema"); out.string(h.schema)
        out.nextKey("version"); out.string(h.version.description)
        out.nextKey("producer"); out.string(h.producer)
        out.nextKey("clock"); out.string(h.clock)
        if let startedAt = h.startedAt { out.nextKey("started_at"); out.string(startedAt) }
        out.nextKey("model"); appendModel(h.model)
        out.nextKey("hardware"); appendHardware(h.hardware)
        out.nextKey("options"); out.sortedStringMap(h.options)
        out.nextKey("workload")
        out.raw("{")
        out.key("name"); out.string(h.workload.name)
        out.nextKey("requests"); out.int(h.workload.requests)
        out.nextKey("parameters"); out.sortedStringMap(h.workload.parameters)
        out.raw("}}}")
        metadata(name: "process_name", tid: nil, value: "inferscope: \(h.model.name)")
    }

    private mutating func appendModel(_ m: ModelDescriptor) {
        out.raw("{")
        out.key("name"); out.string(m.name)
        out.nextKey("source"); out.string(m.source)
        out.nextKey("architecture"); out.string(m.architecture)
        out.nextKey("dim"); out.int(m.dim)
        out.nextKey("layers"); out.int(m.layers)
        out.nextKey("heads"); out.int(m.heads)
        out.nextKey("kv_heads"); out.int(m.kvHeads)
        out.nextKey("head_dim"); out.int(m.headDim)
        out.nextKey("ffn_dim"); out.int(m.ffnDim)
        out.nextKey("vocab_size"); out.int(m.vocabSize)
        out.nextKey("max_context"); out.int(m.maxContext)
        out.nextKey("tied_embeddings"); out.bool(m.tiedEmbeddings)
        out.nextKey("weight_type"); out.string(m.weightType)
        out.nextKey("bytes_per_weight"); out.double(m.bytesPerWeight)
        out.nextKey("kv_type"); out.string(m.kvType)
        out.nextKey("bytes_per_kv_element"); out.double(m.bytesPerKVElement)
        if m.isMoE {
            out.nextKey("experts"); out.int(m.experts)
            out.nextKey("experts_per_token"); out.int(m.expertsPerToken)
            out.nextKey("expert_ffn_dim"); out.int(m.expertFFNDim)
            out.nextKey("shared_expert_ffn_dim"); out.int(m.sharedExpertFFNDim)
            out.nextKey("dense_layers"); out.int(m.denseLayers)
        }
        out.raw("}")
    }

    private mutating func appendHardware(_ hw: HardwareDescriptor) {
        out.raw("{")
        out.key("name"); out.string(hw.name)
        out.nextKey("source"); out.string(hw.source)
        out.nextKey("threads"); out.int(hw.threads)
        if let v = hw.memoryBandwidth { out.nextKey("memory_bandwidth"); out.double(v) }
        if let v = hw.peakFLOPS { out.nextKey("peak_flops"); out.double(v) }
        if let v = hw.memoryBytes { out.nextKey("memory_bytes"); out.int(v) }
        out.raw("}")
    }

    private mutating func appendStep(_ s: StepEvent) {
        beginLine(ph: "X", cat: TraceLayout.Category.step)
        out.nextKey("name"); out.raw("\""); out.raw(s.phase.staticName); out.raw("\"")
        pidTid(s.lane)
        out.nextKey("ts"); out.microseconds(s.start)
        out.nextKey("dur"); out.microseconds(s.duration)
        out.nextKey("args")
        out.raw("{")
        out.key("step"); out.int(s.step)
        out.nextKey("phase"); out.raw("\""); out.raw(s.phase.staticName); out.raw("\"")
        out.nextKey("batch")
        out.raw("[")
        for (i, entry) in s.batch.enumerated() {
            out.raw(i == 0 ? "[" : ",[")
            out.unsigned(entry.request)
            out.raw(",")
            out.int(entry.prefillTokens)
            out.raw(",")
            out.int(entry.decodeTokens)
            out.raw(",")
            out.int(entry.contextLength)
            out.raw("]")
        }
        out.raw("]")
        if let flops = s.flops { out.nextKey("flops"); out.double(flops) }
        if let bytes = s.bytes { out.nextKey("bytes"); out.double(bytes) }
        if let run = s.run {
            out.nextKey("run_count"); out.int(run.count)
            out.nextKey("run_context_increment"); out.int(run.contextIncrement)
        }
        out.raw("}}")
    }

    private mutating func appendTransfer(_ t: TransferEvent) {
        beginLine(ph: "X", cat: TraceLayout.Category.transfer)
        out.nextKey("name"); out.raw("\""); out.raw(t.kind.staticName); out.raw("\"")
        pidTid(TraceLayout.transferLane)
        out.nextKey("ts"); out.microseconds(t.start)
        out.nextKey("dur"); out.microseconds(t.duration)
        out.nextKey("args")
        out.raw("{")
        out.key("kind"); out.raw("\""); out.raw(t.kind.staticName); out.raw("\"")
        out.nextKey("bytes"); out.int(t.bytes)
        out.nextKey("blocks"); out.int(t.blocks)
        if let request = t.request { out.nextKey("request"); out.unsigned(request) }
        out.nextKey("destination"); out.string(t.destination)
        out.raw("}}")
    }

    private mutating func appendRequest(_ r: RequestEvent) {
        let ph: StaticString
        switch r.kind {
        case .arrival: ph = "b"
        case .finished, .aborted: ph = "e"
        default: ph = "n"
        }
        beginLine(ph: ph, cat: TraceLayout.Category.request)
        out.nextKey("name")
        if ph.utf8Start.pointee == UInt8(ascii: "n") {
            out.raw("\""); out.raw(r.kind.staticName); out.raw("\"")
        } else {
            out.raw("\"request ")
            out.unsigned(r.request)
            out.raw("\"")
        }
        out.nextKey("id"); out.unsigned(r.request)
        pidTid(TraceLayout.runLane)
        out.nextKey("ts"); out.microseconds(r.time)
        out.nextKey("args")
        out.raw("{")
        out.key("kind"); out.raw("\""); out.raw(r.kind.staticName); out.raw("\"")
        if let v = r.promptTokens { out.nextKey("prompt_tokens"); out.int(v) }
        if let v = r.tokens { out.nextKey("tokens"); out.int(v) }
        if let v = r.cachedTokens { out.nextKey("cached_tokens"); out.int(v) }
        if let v = r.reason { out.nextKey("reason"); out.string(v) }
        if let v = r.externalID { out.nextKey("external_id"); out.string(v) }
        out.raw("}}")
    }

    private mutating func appendKVCache(_ c: KVCacheCounters) {
        beginLine(ph: "C", cat: TraceLayout.Category.kvCache)
        out.nextKey("name"); out.string(c.pool)
        pidTid(nil)
        out.nextKey("ts"); out.microseconds(c.time)
        out.nextKey("args")
        out.raw("{")
        out.key("blocks_total"); out.int(c.blocksTotal)
        out.nextKey("blocks_used"); out.int(c.blocksUsed)
        out.nextKey("blocks_free"); out.int(Int64(c.blocksTotal) - Int64(c.blocksUsed))
        out.nextKey("block_size"); out.int(c.blockSize)
        out.nextKey("tokens_stored"); out.int(c.tokensStored)
        out.nextKey("bytes_used"); out.int(c.bytesUsed)
        out.nextKey("swapped_blocks"); out.int(c.swappedBlocks)
        out.nextKey("slack_tokens"); out.int(c.slackTokens)
        out.nextKey("reserved_tokens"); out.int(c.reservedTokens)
        out.nextKey("shared_blocks"); out.int(c.sharedBlocks)
        out.nextKey("running"); out.int(c.running)
        out.nextKey("waiting"); out.int(c.waiting)
        out.raw("}}")
    }

    private mutating func appendSpeculation(_ c: SpeculationCounters) {
        beginLine(ph: "C", cat: TraceLayout.Category.speculation)
        out.nextKey("name"); out.raw("\""); out.raw(TraceLayout.speculationName); out.raw("\"")
        pidTid(nil)
        out.nextKey("ts"); out.microseconds(c.time)
        // Not counter series (args must be numbers, one graph each): top-level extension keys,
        // which viewers ignore.
        out.nextKey("step"); out.int(c.step)
        out.nextKey("per_request")
        out.raw("[")
        for (i, entry) in c.perRequest.enumerated() {
            out.raw(i == 0 ? "[" : ",[")
            out.unsigned(entry.request)
            out.raw(",")
            out.int(entry.drafted)
            out.raw(",")
            out.int(entry.accepted)
            out.raw("]")
        }
        out.raw("]")
        out.nextKey("args")
        out.raw("{")
        out.key("draft_length"); out.int(c.draftLength)
        out.nextKey("drafted"); out.int(c.drafted)
        out.nextKey("accepted"); out.int(c.accepted)
        out.raw("}}")
    }
}

extension Phase {
    /// The raw value as a static string (no allocation when writing).
    var staticName: StaticString {
        switch self {
        case .prefill: return "prefill"
        case .decode: return "decode"
        case .mixed: return "mixed"
        case .draft: return "draft"
        case .verify: return "verify"
        case .sample: return "sample"
        case .schedule: return "schedule"
        case .kvTransfer: return "kv-transfer"
        case .idle: return "idle"
        }
    }
}

extension RequestEvent.Kind {
    var staticName: StaticString {
        switch self {
        case .arrival: return "arrival"
        case .scheduled: return "scheduled"
        case .firstToken: return "first_token"
        case .token: return "token"
        case .preempted: return "preempted"
        case .resumed: return "resumed"
        case .finished: return "finished"
        case .aborted: return "aborted"
        }
    }
}

extension TransferEvent.Kind {
    var staticName: StaticString {
        switch self {
        case .swapOut: return "swap_out"
        case .swapIn: return "swap_in"
        case .offload: return "offload"
        case .reload: return "reload"
        case .handoff: return "handoff"
        }
    }
}
