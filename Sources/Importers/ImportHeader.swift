import Analysis
import TraceFormat

/// Builds the run header of an imported trace: the producer names the engine/tool, the model is
/// matched to the catalog when its name is known, hardware is set only when the file says it or
/// the user passes `--hardware`.
struct ImportHeader {
    /// "vllm bench serve", "sglang bench_serving"…
    var tool: String
    /// The tool's version when the file states it.
    var toolVersion: String?
    /// The model id as the file writes it ("meta-llama/Llama-3.1-8B-Instruct").
    var modelID: String?
    /// A hardware name from the file (vLLM `--metadata hardware=…`, llama-bench `gpu_info`).
    var hardwareName: String?
    /// Devices the file says the run used (1 when unknown).
    var devices = 1
    var workloadName = "external"
    var requests = 0
    /// Run metadata as strings (the file's own aggregates are stored under "reported.<key>").
    var parameters: [String: String] = [:]
    /// Importer notes: "arrivals", "token_counts", "itl_definition"… (header options "import.<key>").
    var notes: [String: String] = [:]
    /// Runtime options the analyzer reads (e.g. "scheduler").
    var runtimeOptions: [String: String] = [:]
    var clock = "client-monotonic"
    var startedAt: String?
    /// Bytes per weight when the file gives them (llama-bench model_size / model_n_params).
    var bytesPerWeight: Double?
    var weightType: String?

    func build(_ options: ImportOptions, file: String) throws(ImportError) -> RunHeader {
        let model = try resolveModel(options, file: file)
        let hardware = try resolveHardware(options, file: file)
        var opts = runtimeOptions
        for (k, v) in notes { opts["import.\(k)"] = v }
        opts["import.source_file"] = Self.basename(file)
        return RunHeader(producer: "inferscope-import \(tool)" + (toolVersion.map { " \($0)" } ?? ""),
                         model: model, hardware: hardware, options: opts,
                         workload: WorkloadDescriptor(name: workloadName, requests: requests, parameters: parameters),
                         clock: clock, startedAt: startedAt)
    }

    /// The model: `--model` (catalog name or id) or the file's id, matched to the catalog; an
    /// unknown name keeps the name with zero dimensions (`source` "unknown"), which the analyzer
    /// reads as "no cost model".
    func resolveModel(_ options: ImportOptions, file: String) throws(ImportError) -> ModelDescriptor {
        if let d = options.modelDescriptor { return d }
        let name = options.model ?? modelID
        if let name, let row = Self.catalogModel(name) {
            var d = row.descriptor()
            if let b = bytesPerWeight, let w = weightType {
                d.bytesPerWeight = b
                d.weightType = w
                d.source = "catalog (matched from '\(name)'; \(d.weightType) weights, \(d.kvType) KV assumed unless stated)"
            } else if let q = ModelCatalog.quantization(inID: name) {
                d.bytesPerWeight = q.bytesPerWeight
                d.weightType = q.type
                d.source = "catalog (matched from '\(name)'; \(q.type) weights assumed from the id's '\(q.token)', \(d.kvType) KV assumed)"
            } else {
                d.source = "catalog (matched from '\(name)'; \(d.weightType) weights, \(d.kvType) KV assumed unless stated)"
            }
            return d
        }
        if let given = options.model {
            let suggestions = ModelCatalog.all.map(\.name).joined(separator: ", ")
            throw ImportError(file: file, field: "--model",
                              message: "unknown model '\(given)': expected a catalog model (\(suggestions)) or an engine id containing one, e.g. meta-llama/Llama-3.1-8B-Instruct")
        }
        return ModelDescriptor(name: name ?? "unknown model", source: "unknown", dim: 0, layers: 0, heads: 0, kvHeads: 0,
                               headDim: 0, ffnDim: 0, vocabSize: 0, maxContext: 0,
                               weightType: weightType ?? "unknown", bytesPerWeight: bytesPerWeight ?? 0,
                               kvType: "unknown", bytesPerKVElement: 0)
    }

    func resolveHardware(_ options: ImportOptions, file: String) throws(ImportError) -> HardwareDescriptor {
        if let h = options.hardware {
            do {
                let row = try HardwareCatalog.lookup(h)
                return HardwareDescriptor(name: row.name, source: "user", threads: devices)
            } catch {
                throw ImportError(file: file, field: "--hardware", message: error.description)
            }
        }
        if let h = hardwareName, !h.isEmpty {
            if let row = Self.catalogHardware(h) {
                return HardwareDescriptor(name: row.name, source: "catalog", threads: devices)
            }
            return HardwareDescriptor(name: h, source: "unknown", threads: devices)
        }
        return HardwareDescriptor(name: "unknown", source: "unknown", threads: devices)
    }

    /// The catalog model an engine id names: the longest catalog name whose letters and digits
    /// start the id's last path component (after an optional "meta-" prefix), so
    /// "meta-llama/Meta-Llama-3.1-8B-Instruct" → "Llama 3.1 8B". nil when none matches.
    static func catalogModel(_ id: String) -> ModelCatalogRow? {
        if let row = try? ModelCatalog.lookup(id) { return row }
        let last = id.split(separator: "/").last.map(String.init) ?? id
        var key = normalize(last)
        if key.hasPrefix("meta") { key.removeFirst(4) }
        var best: ModelCatalogRow?
        for row in ModelCatalog.all {
            var name = normalize(row.name)
            if let paren = row.name.firstIndex(of: "(") { name = normalize(String(row.name[..<paren])) }
            guard !name.isEmpty, key.hasPrefix(name) else { continue }
            // The next character must not continue a number ("qwen257b" must not match "qwen2572b").
            let rest = key.dropFirst(name.count)
            if let next = rest.first, next.isNumber, name.last?.isNumber == true { continue }
            if best.map({ normalize($0.name).count < name.count }) ?? true { best = row }
        }
        return best
    }

    /// The catalog hardware a free-text name names ("NVIDIA H100 80GB HBM3" → H100 SXM): an exact
    /// name/alias first, else the longest alias contained in the text. nil when none.
    static func catalogHardware(_ text: String) -> HardwareCatalogRow? {
        if let row = try? HardwareCatalog.lookup(text) { return row }
        let key = normalize(text)
        var best: (HardwareCatalogRow, Int)?
        for row in HardwareCatalog.all {
            for alias in row.aliases {
                let a = normalize(alias)
                if a.count >= 3, key.contains(a), a.count > (best?.1 ?? 0) { best = (row, a.count) }
            }
        }
        return best?.0
    }

    static func normalize(_ s: String) -> String { String(s.lowercased().filter { $0.isLetter || $0.isNumber }) }

    static func basename(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
}

/// Deterministic text for a number stored in header parameters: integers without a fraction,
/// others with Swift's shortest round-trip form.
func parameterText(_ x: Double) -> String {
    if x.isFinite, x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    return "\(x)"
}
