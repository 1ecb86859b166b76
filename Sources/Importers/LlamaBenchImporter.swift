import TraceFormat

/// llama.cpp `llama-bench -o json` (an array of test records) or `-o jsonl` (one per line). Each
/// record is one test repeated `samples_ns.count` times: `n_prompt` > 0 and `n_gen` = 0 is a
/// prompt-processing test (prefill), `n_prompt` = 0 and `n_gen` > 0 a generation test (decode at
/// context `n_depth`). Times are ns.
///
/// Mapping: step spans on lane 1, laid end to end. A pp sample → one `prefill` span of
/// `n_prompt` tokens at context `n_depth`. A tg sample → one step-run record (``StepRun``) of
/// `n_gen` `decode` steps of one token each at contexts `n_depth`, `n_depth`+1, …; the file gives
/// only the sample's total, so each step gets an equal share (the mean step time is exact, the
/// per-step spread is not measured). One event per sample, whatever `n_gen` is.
/// Combined pp+tg tests cannot be split and are skipped (counted in `import.skipped`). No
/// request events: llama-bench measures the engine, not serving. Model from `model_filename`
/// (catalog match) with bytes per weight = `model_size`/`model_n_params`; hardware from
/// `gpu_info` (or `cpu_info` on the CPU backend) when it names a catalog entry.
public struct LlamaBenchImporter: TraceImporter {
    public var format: ImportFormat { .llamaBench }
    public init() {}

    public func detect(firstBytes: [UInt8]) -> Double {
        ImportDetection.score(firstBytes, keys: ["build_commit", "model_type", "n_prompt", "n_gen", "avg_ns",
                                                 "samples_ns", "avg_ts", "model_n_params"])
    }

    public func importTrace(_ bytes: [UInt8], file: String, options: ImportOptions,
                            emit: (TraceEvent) -> Void) throws(ImportError) {
        var reader = JSONReader(bytes: bytes, file: file)
        var records: [(line: Int, value: JSON)] = []
        let topIsArray = reader.peek() == UInt8(ascii: "[")
        if topIsArray { try reader.beginArray(nil) }
        while topIsArray ? try reader.nextElement(nil) : !reader.atEnd() {
            let line = reader.line(at: reader.position)
            records.append((line, try reader.readValue(topIsArray ? "[\(records.count)]" : nil)))
        }
        guard let first = records.first?.value else {
            throw ImportError(file: file, message: "no llama-bench record in the file (expected -o json or -o jsonl output)")
        }
        var h = ImportHeader(tool: "llama-bench")
        if let commit = first["build_commit"]?.string {
            h.toolVersion = commit + (first["build_number"]?.double.map { " (\(parameterText($0)))" } ?? "")
        }
        h.modelID = first["model_filename"]?.string ?? first["model_type"]?.string
        let backends = first["backends"]?.string ?? ""
        let cpuOnly = backends.isEmpty ? (first["n_gpu_layers"]?.double ?? 0) == 0 : backends.uppercased() == "CPU"
        h.hardwareName = cpuOnly ? first["cpu_info"]?.string : (first["gpu_info"]?.string ?? first["cpu_info"]?.string)
        if let size = first["model_size"]?.double, let params = first["model_n_params"]?.double, params > 0 {
            h.bytesPerWeight = size / params
            // "llama 8B Q4_K - Medium": the third word is the storage type.
            let words = first["model_type"]?.string?.split(separator: " ") ?? []
            h.weightType = words.count >= 3 ? words[2].lowercased() : "unknown"
        }
        h.clock = "synthesized"
        h.workloadName = "llama-bench"
        // One sequence per test, never batched: not static batching.
        h.runtimeOptions["scheduler"] = "none (llama-bench: one sequence per test)"
        h.notes["steps"] = "each tg sample is one step-run record of n_gen equal decode steps (the file gives each sample's total only); spans laid end to end"
        for key in ["model_type", "model_filename", "backends", "cpu_info", "gpu_info", "type_k", "type_v", "test_time"] {
            if let s = first[key]?.string { h.parameters[key] = s }
        }
        for key in ["n_threads", "n_batch", "n_ubatch", "n_gpu_layers", "model_size", "model_n_params"] {
            if let x = first[key]?.double { h.parameters[key] = parameterText(x) }
        }

        var events: [TraceEvent] = []
        var clock: TraceTime = 0
        var step: Int64 = 0
        var sequence: RequestID = 0
        var skipped = 0
        for (index, rec) in records.enumerated() {
            let (line, value) = rec
            let base = topIsArray ? "[\(index)]." : ""
            func fail(_ key: String, _ message: String) -> ImportError {
                ImportError(file: file, line: line, field: base + key, message: message)
            }
            guard case .object = value else { throw ImportError(file: file, line: line, field: topIsArray ? "[\(index)]" : nil, message: "expected a llama-bench record object, found \(value.kind)") }
            func int(_ key: String, default d: Int? = nil) throws(ImportError) -> Int {
                guard let v = value[key], !v.isNull else {
                    if let d { return d }
                    throw fail(key, "expected a non-negative integer, found nothing")
                }
                guard let x = v.double, x >= 0, x.isFinite, x <= maxFileCount else {
                    throw fail(key, "expected a non-negative integer (at most 2^53), found \(v.double.map { "\($0)" } ?? v.kind)")
                }
                return Int(x)
            }
            let nPrompt = try int("n_prompt"), nGen = try int("n_gen"), depth = try int("n_depth", default: 0)
            var samples: [Double] = []
            if let list = value["samples_ns"]?.array {
                for (i, s) in list.enumerated() {
                    // At most 1e15 ns (11.6 days) each: TraceDuration(x) of a larger value trapped.
                    guard let x = s.double, x > 0, x <= 1e15 else {
                        throw fail("samples_ns[\(i)]", "expected a positive duration in ns up to 1e15, found \(s.double.map { "\($0)" } ?? s.kind)")
                    }
                    samples.append(x)
                }
            } else if let avg = value["avg_ns"]?.double, avg > 0, avg <= 1e15 {
                samples = [avg]
            } else {
                throw fail("samples_ns", "expected the per-repetition times in ns (or avg_ns), found nothing")
            }
            if nPrompt > 0 && nGen > 0 || nPrompt == 0 && nGen == 0 { skipped += 1; continue }
            for ns in samples {
                defer { sequence += 1 }
                // The synthesized clock stays below 4e18 ns so that adding a sample cannot overflow.
                guard clock <= 4_000_000_000_000_000_000 else {
                    throw fail("samples_ns", "the samples add up to more than 4e18 ns; expected per-repetition times in ns")
                }
                if nPrompt > 0 {
                    let d = nanoseconds(ns * 1e-9)
                    events.append(.step(StepEvent(step: step, phase: .prefill, start: clock, duration: d,
                                                  batch: [BatchEntry(request: sequence, prefillTokens: clamp32(nPrompt),
                                                                     decodeTokens: 0, contextLength: clamp32(depth))])))
                    step += 1
                    clock = clock.addingReportingOverflow(d).overflow ? .max : clock + d
                } else {
                    // One step-run record for the sample's n_gen decode steps (cost O(1), not O(n_gen)).
                    let d = nanoseconds(ns * 1e-9)
                    let run = nGen > 1 ? StepRun(count: Int64(nGen), contextIncrement: 1) : nil
                    events.append(.step(StepEvent(step: step, phase: .decode, start: clock, duration: d,
                                                  batch: [BatchEntry(request: sequence, prefillTokens: 0, decodeTokens: 1,
                                                                     contextLength: clamp32(depth))], run: run)))
                    step = step.addingReportingOverflow(Int64(nGen)).overflow ? .max : step + Int64(nGen)
                    clock = clock.addingReportingOverflow(d).overflow ? .max : clock + d
                }
            }
        }
        if skipped > 0 { h.notes["skipped"] = "\(skipped) records (pp+tg tests cannot be split into phases, or empty tests)" }
        h.requests = 0
        emit(.header(try h.build(options, file: file)))
        for e in events { emit(e) }
    }
}
