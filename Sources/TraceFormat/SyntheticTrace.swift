/// Seeded random events of every kind, for round-trip tests, benchmarks and sample traces.
///
/// `adversarial` values stress the codec (any finite `Double` bit pattern, strings with quotes,
/// backslashes, control characters and non-ASCII, extreme integers); otherwise values look like
/// a real run (monotonic time, plausible counts). Every generated event is valid, so a reader
/// must return it unchanged.
public struct SyntheticTrace: Sendable {
    public var rng: SplitMix64
    public var adversarial: Bool
    private var clock: TraceTime = 0
    private var step: Int64 = 0

    public init(seed: UInt64, adversarial: Bool = false) {
        rng = SplitMix64(seed: seed)
        self.adversarial = adversarial
    }

    /// A plausible header for a small Llama model on this kind of machine.
    public mutating func header() -> RunHeader {
        RunHeader(
            producer: adversarial ? text() : "inferscope 0.1.0",
            model: ModelDescriptor(
                name: adversarial ? text() : "stories15M", source: "preset:stories15m", dim: 288, layers: 6,
                heads: 6, kvHeads: 6, headDim: 48, ffnDim: 768, vocabSize: 32000, maxContext: 256,
                tiedEmbeddings: true, weightType: "f32", bytesPerWeight: adversarial ? finiteDouble() : 4,
                kvType: "f32", bytesPerKVElement: 4),
            hardware: HardwareDescriptor(
                name: adversarial ? text() : "x86-64 (2 threads)", source: "measured", threads: 2,
                memoryBandwidth: Bool.random(using: &rng) ? 1.9e10 : nil,
                peakFLOPS: Bool.random(using: &rng) ? finiteDouble() : nil,
                memoryBytes: Bool.random(using: &rng) ? 25_769_803_776 : nil),
            options: adversarial ? [text(): text(), "scheduler": "fcfs"] : ["scheduler": "fcfs", "block_size": "16"],
            workload: WorkloadDescriptor(name: "mixed", requests: Int.random(in: 0...1000, using: &rng),
                                         parameters: adversarial ? [text(): text()] : ["seed": "42", "rate": "4.0"]),
            clock: "CLOCK_MONOTONIC",
            startedAt: Bool.random(using: &rng) ? "2026-11-27T12:00:00Z" : nil)
    }

    /// The next random event (never a header), times increasing.
    public mutating func event() -> TraceEvent {
        clock += Int64.random(in: 0...2_000_000, using: &rng)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0, 1: return .step(stepEvent())
        case 2: return .request(requestEvent())
        case 3: return .kvCache(kvCache())
        case 4: return .speculation(speculation())
        default: return .transfer(transfer())
        }
    }

    /// A header followed by `count` random events.
    public mutating func events(_ count: Int) -> [TraceEvent] {
        [.header(header())] + (0..<count).map { _ in event() }
    }

    public mutating func stepEvent() -> StepEvent {
        step += 1
        let n = Int.random(in: 0...(adversarial ? 40 : 8), using: &rng)
        return StepEvent(
            step: adversarial ? Int64.random(in: Int64.min...Int64.max, using: &rng) : step,
            phase: Phase.allCases.randomElement(using: &rng)!,
            start: time(), duration: Int64.random(in: 0...50_000_000, using: &rng),
            lane: Int32.random(in: 1...(adversarial ? 120 : 2), using: &rng),
            batch: (0..<n).map { _ in
                BatchEntry(request: requestID(), prefillTokens: count32(), decodeTokens: count32(),
                           contextLength: count32())
            },
            flops: Bool.random(using: &rng) ? positiveDouble() : nil,
            bytes: Bool.random(using: &rng) ? positiveDouble() : nil)
    }

    public mutating func requestEvent() -> RequestEvent {
        func maybe<T>(_ make: () -> T) -> T? { Bool.random(using: &rng) ? make() : nil }
        return RequestEvent(
            request: requestID(), kind: RequestEvent.Kind.allCases.randomElement(using: &rng)!, time: time(),
            promptTokens: maybe { count32() }, tokens: maybe { count32() }, cachedTokens: maybe { count32() },
            reason: maybe { adversarial ? text() : "recompute" }, externalID: maybe { adversarial ? text() : "req-7" })
    }

    public mutating func kvCache() -> KVCacheCounters {
        let total = count32()
        return KVCacheCounters(
            time: time(), pool: adversarial ? text() : ["kv", "kv.prefill", "kv.decode"].randomElement(using: &rng)!,
            blocksTotal: total, blocksUsed: Int32.random(in: 0...total, using: &rng), blockSize: count32(),
            tokensStored: count64(), bytesUsed: count64(), swappedBlocks: count32(), slackTokens: count64(),
            reservedTokens: count64(), sharedBlocks: count32(), running: count32(), waiting: count32())
    }

    public mutating func speculation() -> SpeculationCounters {
        let perRequest = (0..<Int.random(in: 0...(adversarial ? 20 : 4), using: &rng)).map { _ -> SpeculationCounters.PerRequest in
            let drafted = count32()
            return .init(request: requestID(), drafted: drafted, accepted: Int32.random(in: 0...drafted, using: &rng))
        }
        let drafted = count32()
        return SpeculationCounters(time: time(), step: step, draftLength: count32(), drafted: drafted,
                                   accepted: Int32.random(in: 0...drafted, using: &rng), perRequest: perRequest)
    }

    public mutating func transfer() -> TransferEvent {
        TransferEvent(kind: TransferEvent.Kind.allCases.randomElement(using: &rng)!, start: time(),
                      duration: Int64.random(in: 0...5_000_000, using: &rng), bytes: count64(), blocks: count32(),
                      request: Bool.random(using: &rng) ? requestID() : nil,
                      destination: adversarial ? text() : "host")
    }

    // MARK: - Values

    private mutating func time() -> TraceTime {
        adversarial ? Int64.random(in: -(1 << 62)...(1 << 62), using: &rng) : clock
    }

    private mutating func requestID() -> RequestID {
        adversarial ? UInt64.random(in: 0...UInt64.max, using: &rng) : UInt64.random(in: 0..<500, using: &rng)
    }

    private mutating func count32() -> Int32 {
        adversarial ? Int32.random(in: 0...Int32.max, using: &rng) : Int32.random(in: 0...4096, using: &rng)
    }

    private mutating func count64() -> Int64 {
        adversarial ? Int64.random(in: 0...Int64.max, using: &rng) : Int64.random(in: 0...(1 << 34), using: &rng)
    }

    /// Any finite double (adversarial) — every bit pattern class: subnormal, huge, negative zero.
    private mutating func finiteDouble() -> Double {
        while true {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { return d }
        }
    }

    private mutating func positiveDouble() -> Double {
        adversarial ? finiteDouble() : Double(Int.random(in: 0...1_000_000, using: &rng)) * 1e6 + 0.5
    }

    private static let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1F}",
                                             "é", "λ", "😀", "\u{7F}", ",", "]", "}", "{"]

    private mutating func text() -> String {
        (0..<Int.random(in: 0...12, using: &rng)).map { _ in Self.alphabet.randomElement(using: &rng)! }.joined()
    }
}
