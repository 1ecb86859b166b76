/// Decoding of the run header (`ph:"i"`, `cat:"header"`), including the version check.
extension TraceDecoder {
    static func decodeHeader(_ m: Members, _ base: UnsafePointer<UInt8>) throws(DecodeFailure) -> RunHeader {
        try checkPid(m, base)
        var schema: String?, version: TraceVersion?, producer: String?, clock: String?, startedAt: String?
        var model: ModelDescriptor?, hardware: HardwareDescriptor?, options: [String: String] = [:]
        var workload: WorkloadDescriptor?
        try forEachArg(m, base) { (key, s: inout JSONScanner) throws(DecodeFailure) in
            if s.span(key, equals: "schema") {
                schema = try field("schema") { () throws(DecodeFailure) in try s.readString() }
            } else if s.span(key, equals: "version") {
                version = try field("version") { () throws(DecodeFailure) in
                    let text = try s.readString()
                    guard let v = TraceVersion(text) else {
                        throw DecodeFailure("expected \"MAJOR.MINOR\" (e.g. \"\(TraceVersion.current)\"), found \"\(text)\"", fatal: true)
                    }
                    return v
                }
            } else if s.span(key, equals: "producer") {
                producer = try field("producer") { () throws(DecodeFailure) in try s.readString() }
            } else if s.span(key, equals: "clock") {
                clock = try field("clock") { () throws(DecodeFailure) in try s.readString() }
            } else if s.span(key, equals: "started_at") {
                startedAt = try field("started_at") { () throws(DecodeFailure) in try s.readString() }
            } else if s.span(key, equals: "model") {
                model = try field("model") { () throws(DecodeFailure) in try decodeModel(&s) }
            } else if s.span(key, equals: "hardware") {
                hardware = try field("hardware") { () throws(DecodeFailure) in try decodeHardware(&s) }
            } else if s.span(key, equals: "options") {
                options = try field("options") { () throws(DecodeFailure) in try decodeStringMap(&s) }
            } else if s.span(key, equals: "workload") {
                workload = try field("workload") { () throws(DecodeFailure) in try decodeWorkload(&s) }
            } else {
                try s.skipValue()
            }
        }
        // Identity and version first: a file that is not ours, or too new, fails on that alone.
        guard let schema else { throw missing("args.schema", "\"\(RunHeader.schemaName)\"") }
        guard schema == RunHeader.schemaName else {
            throw DecodeFailure(field: "args.schema",
                                "expected \"\(RunHeader.schemaName)\", found \"\(schema)\": not an InferScope trace",
                                fatal: true)
        }
        guard let version else { throw missing("args.version", "\"MAJOR.MINOR\"") }
        guard version.major == TraceVersion.current.major else {
            throw DecodeFailure(field: "args.version",
                                "trace format version \(version) is not supported: this reader reads version "
                                + "\(TraceVersion.current.major).x (\(TraceVersion.current)); "
                                + (version.major > TraceVersion.current.major
                                    ? "use a newer InferScope to read it"
                                    : "convert it with the InferScope release that wrote it"),
                                fatal: true)
        }
        guard let producer else { throw missing("args.producer", "a string") }
        guard let clock else { throw missing("args.clock", "a string") }
        guard let model else { throw missing("args.model", "an object") }
        guard let hardware else { throw missing("args.hardware", "an object") }
        guard let workload else { throw missing("args.workload", "an object") }
        return RunHeader(schema: schema, version: version, producer: producer, model: model, hardware: hardware,
                         options: options, workload: workload, clock: clock, startedAt: startedAt)
    }

    private static func decodeStringMap(_ s: inout JSONScanner) throws(DecodeFailure) -> [String: String] {
        var map: [String: String] = [:]
        try s.forEachMember { (key, s: inout JSONScanner) throws(DecodeFailure) in
            let name = try s.string(key)
            map[name] = try field(name) { () throws(DecodeFailure) in try s.readString() }
        }
        return map
    }

    private static func decodeModel(_ s: inout JSONScanner) throws(DecodeFailure) -> ModelDescriptor {
        var strings: [String: String] = [:]
        var ints: [String: Int] = [:]
        var doubles: [String: Double] = [:]
        var tied = false
        try s.forEachMember { (key, s: inout JSONScanner) throws(DecodeFailure) in
            let name = try s.string(key)
            try field(name) { () throws(DecodeFailure) in
                switch name {
                case "name", "source", "architecture", "weight_type", "kv_type":
                    strings[name] = try s.readString()
                case "dim", "layers", "heads", "kv_heads", "head_dim", "ffn_dim", "vocab_size", "max_context",
                     "experts", "experts_per_token", "expert_ffn_dim", "shared_expert_ffn_dim", "dense_layers":
                    ints[name] = try s.readInt()
                case "bytes_per_weight", "bytes_per_kv_element":
                    guard let value = try s.readDouble() else { throw DecodeFailure("expected a number, found null") }
                    doubles[name] = value
                case "tied_embeddings":
                    tied = try s.readBool()
                default:
                    try s.skipValue()
                }
            }
        }
        func string(_ key: String) throws(DecodeFailure) -> String {
            guard let v = strings[key] else { throw missing(key, "a string") }
            return v
        }
        func int(_ key: String) throws(DecodeFailure) -> Int {
            guard let v = ints[key] else { throw missing(key, "an integer") }
            return v
        }
        func double(_ key: String) throws(DecodeFailure) -> Double {
            guard let v = doubles[key] else { throw missing(key, "a number") }
            return v
        }
        var model = ModelDescriptor(
            name: try string("name"), source: try string("source"), architecture: try string("architecture"),
            dim: try int("dim"), layers: try int("layers"), heads: try int("heads"), kvHeads: try int("kv_heads"),
            headDim: try int("head_dim"), ffnDim: try int("ffn_dim"), vocabSize: try int("vocab_size"),
            maxContext: try int("max_context"), tiedEmbeddings: tied, weightType: try string("weight_type"),
            bytesPerWeight: try double("bytes_per_weight"), kvType: try string("kv_type"),
            bytesPerKVElement: try double("bytes_per_kv_element"))
        // Mixture-of-experts fields are optional (absent: a dense model, as in every trace before them).
        model.experts = ints["experts"] ?? 0
        model.expertsPerToken = ints["experts_per_token"] ?? 0
        model.expertFFNDim = ints["expert_ffn_dim"] ?? 0
        model.sharedExpertFFNDim = ints["shared_expert_ffn_dim"] ?? 0
        model.denseLayers = ints["dense_layers"] ?? 0
        return model
    }

    private static func decodeHardware(_ s: inout JSONScanner) throws(DecodeFailure) -> HardwareDescriptor {
        var name: String?, source: String?, threads: Int?, bandwidth: Double?, flops: Double?, memory: Int64?
        try s.forEachMember { (key, s: inout JSONScanner) throws(DecodeFailure) in
            let key = try s.string(key)
            try field(key) { () throws(DecodeFailure) in
                switch key {
                case "name": name = try s.readString()
                case "source": source = try s.readString()
                case "threads": threads = try s.readInt()
                case "memory_bandwidth": bandwidth = try s.readDouble()
                case "peak_flops": flops = try s.readDouble()
                case "memory_bytes": memory = s.readNull() ? nil : try s.readInt64()
                default: try s.skipValue()
                }
            }
        }
        guard let name else { throw missing("name", "a string") }
        guard let source else { throw missing("source", "a string") }
        guard let threads else { throw missing("threads", "an integer") }
        return HardwareDescriptor(name: name, source: source, threads: threads, memoryBandwidth: bandwidth,
                                  peakFLOPS: flops, memoryBytes: memory)
    }

    private static func decodeWorkload(_ s: inout JSONScanner) throws(DecodeFailure) -> WorkloadDescriptor {
        var name: String?, requests: Int?, parameters: [String: String] = [:]
        try s.forEachMember { (key, s: inout JSONScanner) throws(DecodeFailure) in
            let key = try s.string(key)
            try field(key) { () throws(DecodeFailure) in
                switch key {
                case "name": name = try s.readString()
                case "requests": requests = try s.readInt()
                case "parameters": parameters = try decodeStringMap(&s)
                default: try s.skipValue()
                }
            }
        }
        guard let name else { throw missing("name", "a string") }
        guard let requests else { throw missing("requests", "an integer") }
        return WorkloadDescriptor(name: name, requests: requests, parameters: parameters)
    }
}
