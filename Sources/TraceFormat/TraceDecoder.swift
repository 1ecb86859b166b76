/// Turns one line of a v1 trace file back into a ``TraceEvent`` — the inverse of
/// ``TraceEncoder`` (see `docs/trace-format.md`). Unknown fields are ignored; a missing or
/// mistyped known field fails with its JSON path and what was expected. O(length of the line).
enum TraceDecoder {
    /// What one event line holds.
    enum Line {
        case event(TraceEvent)
        /// A Chrome metadata (`M`) line: presentation only, no ``TraceEvent``.
        case metadata
        /// An event of a `ph`/`cat` this reader does not know (a newer minor version): skipped.
        case unknown(ph: String, cat: String?)
    }

    /// The top-level members of an event, as value spans (decoded on demand).
    struct Members {
        var ph: Span?, cat: Span?, name: Span?, ts: Span?, dur: Span?, pid: Span?, tid: Span?
        var id: Span?, args: Span?, step: Span?, perRequest: Span?
    }

    /// Decodes the JSON object in `line[span]` (the caller strips the separator).
    ///
    /// Fast path: our writer puts `args` last, so its value is taken to run up to the object's
    /// closing brace without scanning it twice; if that guess is wrong (or the line has any
    /// problem) the line is decoded again member by member, which also produces the errors.
    static func decode(_ base: UnsafePointer<UInt8>, _ span: Span) throws(DecodeFailure) -> Line {
        do {
            return try decode(base, span, argsLast: true)
        } catch {
            return try decode(base, span, argsLast: false)
        }
    }

    private static func decode(_ base: UnsafePointer<UInt8>, _ span: Span, argsLast: Bool) throws(DecodeFailure) -> Line {
        var scanner = JSONScanner(base, span)
        var m = Members()
        // The object's closing brace, when the line ends with one.
        let closingBrace = argsLast && span.count > 1 && base[span.end - 1] == UInt8(ascii: "}") ? span.end - 1 : nil
        // Known members are only delimited here (a fast structural skip) and parsed, checked,
        // when the event kind asks for them; unknown members are skipped with full validation.
        try scanner.forEachMember { (key, s: inout JSONScanner) throws(DecodeFailure) in
            switch key.count {
            case 2:
                if s.span(key, equals: "ph") { m.ph = try s.delimitValue() }
                else if s.span(key, equals: "ts") { m.ts = try s.delimitValue() }
                else if s.span(key, equals: "id") { m.id = try s.delimitValue() }
                else { try s.skipValue() }
            case 3:
                if s.span(key, equals: "cat") { m.cat = try s.delimitValue() }
                else if s.span(key, equals: "dur") { m.dur = try s.delimitValue() }
                else if s.span(key, equals: "pid") { m.pid = try s.delimitValue() }
                else if s.span(key, equals: "tid") { m.tid = try s.delimitValue() }
                else { try s.skipValue() }
            case 4:
                if s.span(key, equals: "args") {
                    if let closingBrace, s.position < closingBrace {
                        var end = closingBrace
                        while end > s.position, base[end - 1] == 0x20 || base[end - 1] == 0x09 { end -= 1 }
                        m.args = Span(start: s.position, end: end)
                        s.position = closingBrace
                    } else {
                        m.args = try s.delimitValue()
                    }
                }
                else if s.span(key, equals: "name") { m.name = try s.delimitValue() }
                else if s.span(key, equals: "step") { m.step = try s.delimitValue() }
                else { try s.skipValue() }
            case 11:
                if s.span(key, equals: "per_request") { m.perRequest = try s.delimitValue() }
                else { try s.skipValue() }
            default:
                try s.skipValue()
            }
        }
        guard scanner.atEnd else {
            throw DecodeFailure("expected the end of the event after its closing '}', found \(scanner.foundDescription())")
        }

        let ph = try member(m.ph, "ph", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.scanString() }
        let cat = try optionalMember(m.cat, "cat", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.scanString() }
        func catIs(_ literal: StaticString) -> Bool { cat.map { scanner.span($0, equals: literal) } ?? false }

        if ph.count == 1 && !ph.hasEscapes {
        switch base[ph.start] {
        case UInt8(ascii: "M"):
            try checkMetadata(m, base)
            return .metadata
        case UInt8(ascii: "X") where catIs(TraceLayout.Category.step):
            return .event(.step(try decodeStep(m, base)))
        case UInt8(ascii: "X") where catIs(TraceLayout.Category.transfer):
            return .event(.transfer(try decodeTransfer(m, base)))
        case UInt8(ascii: "b"), UInt8(ascii: "n"), UInt8(ascii: "e"):
            guard catIs(TraceLayout.Category.request) else { break }
            return .event(.request(try decodeRequest(m, base, ph: base[ph.start])))
        case UInt8(ascii: "C") where catIs(TraceLayout.Category.kvCache):
            return .event(.kvCache(try decodeKVCache(m, base)))
        case UInt8(ascii: "C") where catIs(TraceLayout.Category.speculation):
            return .event(.speculation(try decodeSpeculation(m, base)))
        case UInt8(ascii: "i"), UInt8(ascii: "I"):
            guard catIs(TraceLayout.Category.header) else { break }
            return .event(.header(try decodeHeader(m, base)))
        default:
            break
        }
        }
        return .unknown(ph: try scanner.string(ph), cat: try cat.map { (span: Span) throws(DecodeFailure) in try scanner.string(span) })
    }

    // MARK: - Helpers

    /// Runs `body`, prefixing any failure's field path with `name`.
    @inline(__always)
    static func field<T>(_ name: @autoclosure () -> String, _ body: () throws(DecodeFailure) -> T) throws(DecodeFailure) -> T {
        do { return try body() } catch { throw error.within(name()) }
    }

    /// Decodes a required top-level member.
    static func member<T>(_ span: Span?, _ name: String, _ base: UnsafePointer<UInt8>,
                                  _ read: (inout JSONScanner) throws(DecodeFailure) -> T) throws(DecodeFailure) -> T {
        guard let span else { throw DecodeFailure(field: name, "missing") }
        return try field(name) { () throws(DecodeFailure) in
            var s = JSONScanner(base, span)
            let value = try read(&s)
            try s.expectEnd()
            return value
        }
    }

    /// Decodes an optional top-level member.
    static func optionalMember<T>(_ span: Span?, _ name: String, _ base: UnsafePointer<UInt8>,
                                          _ read: (inout JSONScanner) throws(DecodeFailure) -> T) throws(DecodeFailure) -> T? {
        guard span != nil else { return nil }
        return try member(span, name, base, read)
    }

    static func missing(_ name: String, _ expected: String) -> DecodeFailure {
        DecodeFailure(field: name, "missing (expected \(expected))")
    }

    static func checkPid(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) {
        _ = try member(m.pid, "pid", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.readInt64() }
    }

    static func checkName(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) {
        _ = try member(m.name, "name", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.scanString() }
    }

    static func readTime(_ span: Span?, _ name: String, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) -> Int64 {
        guard let span else { throw missing(name, "microseconds, e.g. 1234.567") }
        return try member(span, name, base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.readMicroseconds() }
    }

    static func readDuration(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) -> Int64 {
        let duration = try readTime(m.dur, "dur", base)
        guard duration >= 0 else { throw DecodeFailure(field: "dur", "expected a non-negative duration") }
        return duration
    }

    static func nonNegative<T: BinaryInteger>(_ value: T) throws(DecodeFailure) -> T {
        guard value >= 0 else { throw DecodeFailure("expected a non-negative count, found \(value)") }
        return value
    }

    /// Iterates `args`, which must be present and an object.
    static func forEachArg(_ m: Members, _ base: UnsafePointer<UInt8>,
                                   _ body: (Span, inout JSONScanner) throws(DecodeFailure) -> Void) throws(DecodeFailure) {
        guard let args = m.args else { throw missing("args", "an object") }
        var s = JSONScanner(base, args)
        try field("args") { () throws(DecodeFailure) in
            try s.forEachMember(body)
            try s.expectEnd()
        }
    }

    // MARK: - Event kinds

    static func checkMetadata(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) {
        try checkName(m, base)
        try checkPid(m, base)
        try forEachArg(m, base) { (_, s: inout JSONScanner) throws(DecodeFailure) in try s.skipValue() }
    }

    private static let phases: [(StaticString, Phase)] = Phase.allCases.map { ($0.staticName, $0) }
    private static let requestKinds: [(StaticString, RequestEvent.Kind)] =
        RequestEvent.Kind.allCases.map { ($0.staticName, $0) }
    private static let transferKinds: [(StaticString, TransferEvent.Kind)] =
        TransferEvent.Kind.allCases.map { ($0.staticName, $0) }

    static func decodeStep(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) -> StepEvent {
        try checkName(m, base)
        try checkPid(m, base)
        let lane = try member(m.tid, "tid", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.readInt32() }
        let start = try readTime(m.ts, "ts", base)
        let duration = try readDuration(m, base)
        var step: Int64?, phase: Phase?, batch: [BatchEntry] = [], flops: Double?, bytes: Double?
        var runCount: Int64?, runIncrement: Int32?
        try forEachArg(m, base) { (key, s: inout JSONScanner) throws(DecodeFailure) in
            if s.span(key, equals: "step") {
                step = try field("step") { () throws(DecodeFailure) in try s.readInt64() }
            } else if s.span(key, equals: "phase") {
                phase = try field("phase") { () throws(DecodeFailure) in
                    try s.readEnum(phases, expected: "a phase (prefill, decode, mixed, draft, verify, sample, schedule, kv-transfer, idle)")
                }
            } else if s.span(key, equals: "batch") {
                batch = try field("batch") { () throws(DecodeFailure) in try readBatch(&s) }
            } else if s.span(key, equals: "flops") {
                flops = try field("flops") { () throws(DecodeFailure) in try s.readDouble() }
            } else if s.span(key, equals: "bytes") {
                bytes = try field("bytes") { () throws(DecodeFailure) in try s.readDouble() }
            } else if s.span(key, equals: "run_count") {
                runCount = try field("run_count") { () throws(DecodeFailure) in try s.readInt64() }
            } else if s.span(key, equals: "run_context_increment") {
                runIncrement = try field("run_context_increment") { () throws(DecodeFailure) in try s.readInt32() }
            } else {
                try s.skipValue()
            }
        }
        guard let step else { throw missing("args.step", "the engine iteration, an integer") }
        guard let phase else { throw missing("args.phase", "a phase name") }
        var run: StepRun?
        if let runCount {
            guard runCount >= 1 else { throw DecodeFailure(field: "args.run_count", "expected a step count ≥ 1, found \(runCount)") }
            let increment = runIncrement ?? 0
            guard increment >= 0 else {
                throw DecodeFailure(field: "args.run_context_increment", "expected context tokens per step ≥ 0, found \(increment)")
            }
            run = StepRun(count: runCount, contextIncrement: increment)
        } else if runIncrement != nil {
            throw DecodeFailure(field: "args.run_count", "missing (a step-run record needs its step count next to run_context_increment)")
        }
        return StepEvent(step: step, phase: phase, start: start, duration: duration, lane: lane, batch: batch,
                         flops: flops, bytes: bytes, run: run)
    }

    static func readBatch(_ s: inout JSONScanner) throws(DecodeFailure) -> [BatchEntry] {
        var batch: [BatchEntry] = []
        try s.forEachElement { (index, s: inout JSONScanner) throws(DecodeFailure) in
            let entry = try field("[\(index)]") { () throws(DecodeFailure) -> BatchEntry in
                try s.expect(UInt8(ascii: "["), "[request, prefill_tokens, decode_tokens, context_length]")
                let request = try field("[0]") { () throws(DecodeFailure) in try s.readUInt64() }
                try s.expect(UInt8(ascii: ","), "',' then prefill_tokens")
                let prefill = try field("[1]") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
                try s.expect(UInt8(ascii: ","), "',' then decode_tokens")
                let decode = try field("[2]") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
                try s.expect(UInt8(ascii: ","), "',' then context_length")
                let context = try field("[3]") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
                try s.expect(UInt8(ascii: "]"), "']' after 4 numbers [request, prefill_tokens, decode_tokens, context_length]")
                return BatchEntry(request: request, prefillTokens: prefill, decodeTokens: decode, contextLength: context)
            }
            batch.append(entry)
        }
        return batch
    }

    static func decodeTransfer(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) -> TransferEvent {
        try checkName(m, base)
        try checkPid(m, base)
        _ = try member(m.tid, "tid", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.readInt32() }
        let start = try readTime(m.ts, "ts", base)
        let duration = try readDuration(m, base)
        var kind: TransferEvent.Kind?, bytes: Int64?, blocks: Int32?, request: RequestID?, destination: String?
        try forEachArg(m, base) { (key, s: inout JSONScanner) throws(DecodeFailure) in
            if s.span(key, equals: "kind") {
                kind = try field("kind") { () throws(DecodeFailure) in
                    try s.readEnum(transferKinds, expected: "a transfer kind (swap_out, swap_in, offload, reload, handoff)")
                }
            } else if s.span(key, equals: "bytes") {
                bytes = try field("bytes") { () throws(DecodeFailure) in try nonNegative(s.readInt64()) }
            } else if s.span(key, equals: "blocks") {
                blocks = try field("blocks") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
            } else if s.span(key, equals: "request") {
                request = try field("request") { () throws(DecodeFailure) in try s.readUInt64() }
            } else if s.span(key, equals: "destination") {
                destination = try field("destination") { () throws(DecodeFailure) in try s.readString() }
            } else {
                try s.skipValue()
            }
        }
        guard let kind else { throw missing("args.kind", "a transfer kind") }
        guard let bytes else { throw missing("args.bytes", "an integer") }
        guard let blocks else { throw missing("args.blocks", "an integer") }
        guard let destination else { throw missing("args.destination", "a string") }
        return TransferEvent(kind: kind, start: start, duration: duration, bytes: bytes, blocks: blocks,
                             request: request, destination: destination)
    }

    static func decodeRequest(_ m: Members, _ base: UnsafePointer<UInt8>, ph: UInt8) throws(DecodeFailure) -> RequestEvent {
        try checkName(m, base)
        try checkPid(m, base)
        let id = try member(m.id, "id", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.readUInt64() }
        let time = try readTime(m.ts, "ts", base)
        var kind: RequestEvent.Kind?, prompt: Int32?, tokens: Int32?, cached: Int32?, reason: String?, external: String?
        try forEachArg(m, base) { (key, s: inout JSONScanner) throws(DecodeFailure) in
            if s.span(key, equals: "kind") {
                kind = try field("kind") { () throws(DecodeFailure) in
                    try s.readEnum(requestKinds, expected: "a request event kind (arrival, scheduled, first_token, token, preempted, resumed, finished, aborted)")
                }
            } else if s.span(key, equals: "prompt_tokens") {
                prompt = try field("prompt_tokens") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
            } else if s.span(key, equals: "tokens") {
                tokens = try field("tokens") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
            } else if s.span(key, equals: "cached_tokens") {
                cached = try field("cached_tokens") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
            } else if s.span(key, equals: "reason") {
                reason = try field("reason") { () throws(DecodeFailure) in try s.readString() }
            } else if s.span(key, equals: "external_id") {
                external = try field("external_id") { () throws(DecodeFailure) in try s.readString() }
            } else {
                try s.skipValue()
            }
        }
        guard let kind else { throw missing("args.kind", "a request event kind") }
        let expectedPh: UInt8
        switch kind {
        case .arrival: expectedPh = UInt8(ascii: "b")
        case .finished, .aborted: expectedPh = UInt8(ascii: "e")
        default: expectedPh = UInt8(ascii: "n")
        }
        guard ph == expectedPh else {
            throw DecodeFailure(field: "ph", "expected \"\(Character(Unicode.Scalar(expectedPh)))\" for a \(kind.rawValue) event, found \"\(Character(Unicode.Scalar(ph)))\"")
        }
        return RequestEvent(request: id, kind: kind, time: time, promptTokens: prompt, tokens: tokens,
                            cachedTokens: cached, reason: reason, externalID: external)
    }

    static func decodeKVCache(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) -> KVCacheCounters {
        try checkPid(m, base)
        let pool = try member(m.name, "name", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.readString() }
        let time = try readTime(m.ts, "ts", base)
        var total: Int32?, used: Int32?, blockSize: Int32?, tokens: Int64?, bytes: Int64?
        var swapped: Int32 = 0, slack: Int64 = 0, reserved: Int64 = 0, shared: Int32 = 0, running: Int32 = 0, waiting: Int32 = 0
        try forEachArg(m, base) { (key, s: inout JSONScanner) throws(DecodeFailure) in
            func count32(_ name: String) throws(DecodeFailure) -> Int32 {
                try field(name) { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
            }
            func count64(_ name: String) throws(DecodeFailure) -> Int64 {
                try field(name) { () throws(DecodeFailure) in try nonNegative(s.readInt64()) }
            }
            switch key.count {
            case 11 where s.span(key, equals: "blocks_used"): used = try count32("blocks_used")
            case 12 where s.span(key, equals: "blocks_total"): total = try count32("blocks_total")
            case 10 where s.span(key, equals: "block_size"): blockSize = try count32("block_size")
            case 13 where s.span(key, equals: "tokens_stored"): tokens = try count64("tokens_stored")
            case 10 where s.span(key, equals: "bytes_used"): bytes = try count64("bytes_used")
            case 14 where s.span(key, equals: "swapped_blocks"): swapped = try count32("swapped_blocks")
            case 12 where s.span(key, equals: "slack_tokens"): slack = try count64("slack_tokens")
            case 15 where s.span(key, equals: "reserved_tokens"): reserved = try count64("reserved_tokens")
            case 13 where s.span(key, equals: "shared_blocks"): shared = try count32("shared_blocks")
            case 7 where s.span(key, equals: "running"): running = try count32("running")
            case 7 where s.span(key, equals: "waiting"): waiting = try count32("waiting")
            default:
                // blocks_free is derived (total − used); unknown series are ignored. All must be numbers.
                let found = s.foundDescription()
                guard found == "a number" else {
                    throw DecodeFailure(field: String(decoding: UnsafeBufferPointer(start: base + key.start, count: key.count), as: UTF8.self),
                                        "expected a number (counter args are numbers), found \(found)")
                }
                try s.skipValue()
            }
        }
        guard let total else { throw missing("args.blocks_total", "an integer") }
        guard let used else { throw missing("args.blocks_used", "an integer") }
        guard let blockSize else { throw missing("args.block_size", "an integer") }
        guard let tokens else { throw missing("args.tokens_stored", "an integer") }
        guard let bytes else { throw missing("args.bytes_used", "an integer") }
        guard used <= total else {
            throw DecodeFailure(field: "args.blocks_used", "expected at most blocks_total (\(total)), found \(used)")
        }
        return KVCacheCounters(time: time, pool: pool, blocksTotal: total, blocksUsed: used, blockSize: blockSize,
                               tokensStored: tokens, bytesUsed: bytes, swappedBlocks: swapped, slackTokens: slack,
                               reservedTokens: reserved, sharedBlocks: shared, running: running, waiting: waiting)
    }

    static func decodeSpeculation(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) -> SpeculationCounters {
        try checkName(m, base)
        try checkPid(m, base)
        let time = try readTime(m.ts, "ts", base)
        let step = try member(m.step, "step", base) { (s: inout JSONScanner) throws(DecodeFailure) in try s.readInt64() }
        let perRequest: [SpeculationCounters.PerRequest] = try optionalMember(m.perRequest, "per_request", base) { (s: inout JSONScanner) throws(DecodeFailure) -> [SpeculationCounters.PerRequest] in
            var entries: [SpeculationCounters.PerRequest] = []
            try s.forEachElement { (index, s: inout JSONScanner) throws(DecodeFailure) in
                let entry = try field("[\(index)]") { () throws(DecodeFailure) -> SpeculationCounters.PerRequest in
                    try s.expect(UInt8(ascii: "["), "[request, drafted, accepted]")
                    let request = try field("[0]") { () throws(DecodeFailure) in try s.readUInt64() }
                    try s.expect(UInt8(ascii: ","), "',' then drafted")
                    let drafted = try field("[1]") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
                    try s.expect(UInt8(ascii: ","), "',' then accepted")
                    let accepted = try field("[2]") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
                    try s.expect(UInt8(ascii: "]"), "']' after 3 numbers [request, drafted, accepted]")
                    guard accepted <= drafted else {
                        throw DecodeFailure(field: "[2]", "expected accepted ≤ drafted (\(drafted)), found \(accepted)")
                    }
                    return .init(request: request, drafted: drafted, accepted: accepted)
                }
                entries.append(entry)
            }
            return entries
        } ?? []
        var draftLength: Int32?, drafted: Int32?, accepted: Int32?
        try forEachArg(m, base) { (key, s: inout JSONScanner) throws(DecodeFailure) in
            if s.span(key, equals: "draft_length") {
                draftLength = try field("draft_length") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
            } else if s.span(key, equals: "drafted") {
                drafted = try field("drafted") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
            } else if s.span(key, equals: "accepted") {
                accepted = try field("accepted") { () throws(DecodeFailure) in try nonNegative(s.readInt32()) }
            } else {
                try s.skipValue()
            }
        }
        guard let draftLength else { throw missing("args.draft_length", "an integer") }
        guard let drafted else { throw missing("args.drafted", "an integer") }
        guard let accepted else { throw missing("args.accepted", "an integer") }
        guard accepted <= drafted else {
            throw DecodeFailure(field: "args.accepted", "expected at most drafted (\(drafted)), found \(accepted)")
        }
        return SpeculationCounters(time: time, step: step, draftLength: draftLength, drafted: drafted,
                                   accepted: accepted, perRequest: perRequest)
    }
}
