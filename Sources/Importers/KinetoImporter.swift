import Analysis
import TraceFormat

/// PyTorch profiler / Kineto Chrome traces (`export_chrome_trace`, `tensorboard_trace_handler`:
/// `*.pt.trace.json`, or the same gzip-compressed, `.json.gz`, decompressed with the system zlib —
/// see ``Gzip``). An object `{traceEvents: [...], deviceProperties, distributedInfo, …}` or a bare
/// event array. Events used: `ph: "X"` with `ts`/`dur` in µs (numbers or strings, integer or
/// fractional; relative or epoch — only differences are used);
/// - steps: `ProfilerStep#N` ranges (`user_annotation` on the host; `gpu_user_annotation` ranges
///   are not steps);
/// - GPU work: categories `kernel`, `gpu_memcpy`, `gpu_memset` (any case), each assigned to the
///   step whose host range holds the runtime call (`cuda_runtime`/`cuda_driver`/`Runtime`) with
///   the same `args.correlation`, else the step whose range holds the kernel's own start.
///
/// Per step: the GPU window runs from the step's first GPU event to the next step's first (the
/// last step: to its last GPU end); busy = the union of its GPU intervals (overlapping streams
/// counted once); idle = window − busy; and each kernel class's union: **GEMM** (gemm, matmul,
/// cutlass, cublas, nvjet, xmma, gemv…), **attention** (flash, attn, attention, fmha, mha, sdpa,
/// paged…), **communication** (nccl, rccl, hccl, all_reduce, all_gather, reduce_scatter,
/// all_to_all, cross_device_reduce), **other** (everything else incl. memcpy/memset; the memory
/// share is also given alone). Classes may overlap in time (communication overlapping compute),
/// so class shares can sum past busy. The split is written to the header as
/// `reported.kineto.<class>_ms` (totals over steps), `reported.kineto.<class>_share` (of the
/// summed windows) and `reported.kineto.step<N>.<class>_ms`, which `analyze` prints under "as
/// reported". GPU name and count from `deviceProperties`. Lost: kernels of CUDA graphs when the
/// trace has no per-kernel events; no request or token data, so no serving metrics.
/// O(events) time; memory O(events) (the JSON is parsed one event at a time).
public struct KinetoImporter: TraceImporter {
    public var format: ImportFormat { .kineto }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        if Gzip.isGzip(firstBytes) { return 0.5 }  // the only compressed format we read
        return ImportDetection.contains(firstBytes, "\"traceEvents\"")
            && (ImportDetection.contains(firstBytes, "\"deviceProperties\"") || ImportDetection.contains(firstBytes, "\"schemaVersion\"")
                || ImportDetection.contains(firstBytes, "ProfilerStep") || ImportDetection.contains(firstBytes, "\"cuda_runtime\"")
                || ImportDetection.contains(firstBytes, "\"kernel\"")) ? 0.85 : 0
    }

    /// The kernel classes, in report order.
    enum KernelClass: String, CaseIterable {
        case gemm, attention, communication, other
    }

    static func classify(_ name: String) -> KernelClass {
        let n = name.lowercased()
        func any(_ words: [String]) -> Bool { words.contains { n.contains($0) } }
        if any(["nccl", "rccl", "hccl", "allreduce", "all_reduce", "allgather", "all_gather", "reducescatter",
                "reduce_scatter", "alltoall", "all_to_all", "cross_device_reduce"]) { return .communication }
        if any(["flash", "attn", "attention", "fmha", "mha_", "sdpa", "paged", "xformers"]) { return .attention }
        if any(["gemm", "matmul", "cutlass", "cublas", "nvjet", "xmma", "gemv", "s16816", "s1688", "h16816", "h1688",
                "splitk", "bmm"]) { return .gemm }
        return .other
    }

    struct GPUEvent { var name: String; var start: Double; var end: Double; var correlation: Int64?; var memory: Bool }
    struct Range { var number: Int; var start: Double; var end: Double }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        let data = Gzip.isGzip(bytes) ? try Gzip.decompress(bytes, file: file) : bytes
        var reader = JSONReader(bytes: data, file: file)
        var steps: [Range] = []
        var launches: [Int64: Double] = [:]
        var gpu: [GPUEvent] = []
        var devices: [JSON] = []
        var sawEvents = false

        func take(_ e: JSON) {
            guard e["ph"]?.string == "X", let ts = e["ts"]?.double, ts.isFinite else { return }
            let dur = max(0, e["dur"]?.double ?? 0)
            let cat = (e["cat"]?.string ?? "").lowercased()
            let name = e["name"]?.string ?? ""
            if name.hasPrefix("ProfilerStep#"), cat != "gpu_user_annotation" {
                if let n = Int(name.dropFirst("ProfilerStep#".count).trimmingSpaces()) { steps.append(Range(number: n, start: ts, end: ts + dur)) }
                return
            }
            switch cat {
            case "cuda_runtime", "cuda_driver", "runtime":
                if let c = e["args"]?["correlation"]?.int64 { launches[c] = ts }
            case "kernel", "gpu_memcpy", "gpu_memset":
                gpu.append(GPUEvent(name: name, start: ts, end: ts + dur, correlation: e["args"]?["correlation"]?.int64,
                                    memory: cat != "kernel"))
            default: break
            }
        }

        if reader.peek() == UInt8(ascii: "[") {
            try reader.beginArray(nil)
            var i = 0
            while try reader.nextElement(nil) { take(try reader.readValue("[\(i)]")); i += 1; sawEvents = true }
        } else {
            try reader.beginObject(nil)
            while let key = try reader.nextKey(nil) {
                switch key {
                case "traceEvents":
                    try reader.beginArray(key)
                    var i = 0
                    while try reader.nextElement(key) { take(try reader.readValue("traceEvents[\(i)]")); i += 1 }
                    sawEvents = true
                case "deviceProperties":
                    devices = try reader.readValue(key).array ?? []
                default:
                    try reader.skipValue(key)
                }
            }
        }
        guard sawEvents else {
            throw ImportError(file: file, message: "no traceEvents found (expected a PyTorch profiler / Kineto Chrome trace: {\"traceEvents\": [...]})")
        }
        guard !gpu.isEmpty else {
            throw ImportError(file: file, message: "no GPU kernel events (cat 'kernel', 'gpu_memcpy', 'gpu_memset') in the trace: profile with ProfilerActivity.CUDA to get the GPU time split")
        }
        steps.sort { $0.start < $1.start }
        // Assign each GPU event to a step (index into `steps`), or -1 when outside every step.
        func stepOf(_ t: Double) -> Int {
            var lo = 0, hi = steps.count - 1, found = -1
            while lo <= hi {
                let mid = (lo + hi) / 2
                if steps[mid].start <= t { found = mid; lo = mid + 1 } else { hi = mid - 1 }
            }
            return found >= 0 && t <= steps[found].end ? found : -1
        }
        var perStep: [Int: [GPUEvent]] = [:]
        for g in gpu {
            let anchor = g.correlation.flatMap { launches[$0] } ?? g.start
            let s = steps.isEmpty ? -1 : stepOf(anchor)
            perStep[s == -1 && !steps.isEmpty ? stepOf(g.start) : s, default: []].append(g)
        }
        var h = ImportHeader(tool: "pytorch profiler (kineto)")
        if let name = devices.first?["name"]?.string { h.hardwareName = name }
        if !devices.isEmpty { h.devices = devices.count }
        h.clock = "kineto"
        h.workloadName = "profiler trace"
        h.notes["requests"] = "none: a profiler trace has kernels, not requests or tokens"
        h.notes["kernel_classes"] = "GEMM / attention / communication / other by kernel name; class times are unions and may overlap"

        let keys = perStep.keys.sorted { a, b in a == -1 ? false : b == -1 ? true : a < b }
        let firstStarts = keys.map { k in perStep[k]!.map(\.start).min()! }
        var totals = [String: Double]()
        var windowTotal = 0.0
        for (i, key) in keys.enumerated() {
            let events = perStep[key]!
            let start = firstStarts[i]
            let lastEnd = events.map(\.end).max()!
            let end = key != -1 && i + 1 < keys.count && keys[i + 1] != -1 ? max(lastEnd, firstStarts[i + 1]) : lastEnd
            let window = max(0, end - start)
            let busy = Self.union(events.map { ($0.start, $0.end) })
            var split: [String: Double] = ["busy": busy, "idle": max(0, window - busy), "window": window]
            for c in KernelClass.allCases {
                split[c.rawValue] = Self.union(events.filter { Self.classify($0.name) == c }.map { ($0.start, $0.end) })
            }
            split["memory"] = Self.union(events.filter(\.memory).map { ($0.start, $0.end) })
            let label = key == -1 ? "outside_steps" : "step\(steps[key].number)"
            for (k, us) in split {
                h.parameters["reported.kineto.\(label).\(k)_ms"] = parameterText(Self.round(us * 1e-3))
                totals[k, default: 0] += us
            }
            h.parameters["reported.kineto.\(label).kernels"] = String(events.count)
            windowTotal += window
        }
        for (k, us) in totals where k != "window" {
            h.parameters["reported.kineto.\(k)_ms"] = parameterText(Self.round(us * 1e-3))
            if windowTotal > 0 { h.parameters["reported.kineto.\(k)_share"] = parameterText(Self.round(us / windowTotal)) }
        }
        var summary = AggregateSummary()
        summary.gpuWindowSeconds = windowTotal * 1e-6
        summary.gpuBusySeconds = totals["busy"].map { $0 * 1e-6 }
        summary.gpuGEMMSeconds = totals["gemm"].map { $0 * 1e-6 }
        summary.gpuAttentionSeconds = totals["attention"].map { $0 * 1e-6 }
        summary.gpuCommunicationSeconds = totals["communication"].map { $0 * 1e-6 }
        summary.gpuMemorySeconds = totals["memory"].map { $0 * 1e-6 }
        summary.gpuOtherSeconds = totals["other"].map { $0 * 1e-6 }
        summary.gpuSteps = keys.filter { $0 != -1 }.count
        summary.write(into: &h.parameters)
        h.parameters["reported.kineto.window_ms"] = parameterText(Self.round(windowTotal * 1e-3))
        h.parameters["reported.kineto.steps"] = String(keys.filter { $0 != -1 }.count)
        h.parameters["reported.kineto.kernels"] = String(gpu.count)
        emit(.header(try h.build(options, file: file)))
    }

    /// Length of the union of intervals (µs). O(n log n).
    static func union(_ intervals: [(Double, Double)]) -> Double {
        var total = 0.0
        var current: (Double, Double)?
        for (a, b) in intervals.sorted(by: { $0.0 < $1.0 }) {
            if let c = current, a <= c.1 {
                current = (c.0, max(c.1, b))
            } else {
                if let c = current { total += c.1 - c.0 }
                current = (a, b)
            }
        }
        if let c = current { total += c.1 - c.0 }
        return total
    }

    /// Six significant decimals for display (the µs inputs carry no more).
    static func round(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }
}
