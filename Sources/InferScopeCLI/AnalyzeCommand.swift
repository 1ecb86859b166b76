#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Analysis
import Importers
import Kernels
import Reporting
import TraceFormat

/// `inferscope analyze TRACE [--hardware NAME|host|FILE.json] [--objective …] [--slo …] [--on HW]
/// [--price X] [--json]`: one streaming pass over the trace, then the verdict, the evidence and
/// the ranked recommendations (methodology §7). Exit 0 analysed, 1 unreadable/invalid trace or
/// unknown hardware, 2 usage. Nothing is printed to stdout unless the whole analysis succeeded.
struct AnalyzeCommand: Command {
    let spec = CommandSpec(
        name: "analyze",
        abstract: "Find where inference time goes, which wall the run hits, and which optimization pays.",
        discussion: """
            Prints the verdict (prefill-/decode-/load-bound; each phase compute-/memory-/overhead-bound; \
            capacity-bound) with the numbers and thresholds that decided it, the evidence (latency \
            percentiles, throughput, phase shares, KV occupancy, interference, roofline), and rules \
            R1-R11 ranked by predicted gain x confidence for the objective. Percentiles use linear \
            interpolation as numpy. --hardware defaults to the trace header's peaks or its catalog \
            name; an unknown name is an error listing close catalog entries. JSON schema: \
            docs/analysis-json.md. A file written by vLLM, SGLang, AIPerf, LLMPerf, llama-bench or \
            an OTel collector is imported on the fly (auto-detected; --from to force; see \
            'inferscope import').
            """,
        arguments: [ArgumentSpec("TRACE", help: "The trace file, or a vLLM/SGLang/AIPerf/LLMPerf/llama-bench/OTel file (not needed with --hardware list or --model list).", optional: true)],
        options: [
            .value("--hardware", "NAME|host|FILE.json",
                   help: "Catalog name or alias (H100-SXM, A100-80GB…), 'host' (the trace's measured peaks), or a JSON spec file."),
            .value("--objective", "OBJECTIVE", help: "Rank for throughput, ttft, tpot, itl or cost.", default: "throughput"),
            .value("--slo", "SPEC", help: "Targets, e.g. ttft=200ms,tpot=50ms,e2e=2s,itl=100ms (bare numbers are ms)."),
            .value("--on", "HW", help: "Project the workload onto another catalog hardware by the roofline."),
            .value("--price", "USD_PER_HOUR", help: "Device price; adds cost per 1M input and output tokens."),
            .value("--prefix-potential", "H", help: "Potential prefix-cache hit rate h_pot (0-1), e.g. from an offline replay."),
            .value("--prefill-share", "X", help: "Workload is prefill-bound at this prefill share of busy time.", default: "0.5"),
            .value("--idle-share", "X", help: "Workload is load/overhead-bound at this idle share.", default: "0.3"),
            .value("--overhead-util", "X", help: "A phase is overhead-bound when max(MFU, MBU) is below this.", default: "0.3"),
            .value("--kv-high", "X", help: "KV usage counted as high.", default: "0.9"),
            .value("--capacity-share", "X", help: "Capacity-bound at this share of time at high KV usage.", default: "0.2"),
            .value("--alpha", "X", help: "Assumed draft acceptance for R4 when the trace has none.", default: "0.7"),
            .value("--gamma", "N", help: "Assumed draft length for R4.", default: "3"),
            .value("--draft-cost", "X", help: "Assumed draft/target step-time ratio c for R4.", default: "0.05"),
            .flag("--json", help: "Print the JSON document instead of the text report."),
            .flag("--verify", help: "Re-run the trace's workload on InferScope's runtime with each top recommendation applied; print predicted vs measured gain."),
            .value("--verify-top", "N", help: "How many recommendations --verify re-runs.", default: "5"),
            .value("--verify-dir", "DIR", help: "Where --verify writes its re-run traces (created if missing; default: a new directory under $TMPDIR or /tmp)."),
            .value("--from", "FORMAT", help: "The input's format: trace (InferScope), auto, \(ImportFormat.namesList).", default: "auto"),
            .value("--format", "FORMAT", help: "Output: text or json (same as --json).", default: "text"),
            .value("--model", "NAME|FILE", help: "For an imported file: the model (catalog name or engine id, a Hugging Face config.json or a GGUF file) when the file does not name it; 'list' prints the catalog."),
            .value("--prefill-workers", "N", help: "Disaggregated run: prefill workers (R12), when the file does not say."),
            .value("--decode-workers", "N", help: "Disaggregated run: decode workers (R12), when the file does not say."),
            .value("--run", "N", help: "For an imported file holding several runs: which one (default: the last)."),
            .value("--metrics", "FILE", help: "For an imported file: vLLM /metrics snapshots of the same run (AIPerf server_metrics_export.jsonl), for KV usage and queue evidence."),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        if arguments.value("--hardware")?.lowercased() == "list" { context.stdout.write(HardwareCatalog.listing()); return .success }
        if arguments.value("--model")?.lowercased() == "list" { context.stdout.write(ModelCatalog.listing()); return .success }
        let path = try arguments.argument("TRACE")
        var options = try Self.options(arguments, context)
        for (flag, keyPath) in [("--prefill-workers", \AnalysisOptions.prefillWorkers), ("--decode-workers", \AnalysisOptions.decodeWorkers)] {
            guard arguments.value(flag) != nil else { continue }
            guard let n = try arguments.int(flag), n >= 1 else { throw UsageError("option '\(flag)' expects an integer ≥ 1") }
            options[keyPath: keyPath] = n
        }
        let importing = ImportRequest(format: (arguments.value("--from") ?? "auto").lowercased(),
                                      options: try ImportCommand.importOptions(arguments, hardware: nil, context: context),
                                      metrics: arguments.value("--metrics"))
        let analyzed = try Self.analyzeTrace(path, options: options, context: context, importing: importing)
        let result = analyzed.result
        let json = try Self.wantsJSON(arguments)
        let first = analyzed.completeness.isComplete || json ? "" : analyzed.completeness.headline(path) + "\n"
        if arguments.flag("--verify"), result.header.options["import.source_file"] != nil {
            throw UsageError("--verify re-runs InferScope traces only; an imported file has no runtime workload to re-run")
        }
        guard arguments.flag("--verify") else {
            context.stdout.write(json ? Self.json(analyzed)
                                 : first + TextReport.render(result) + ImportedRunsReport.render(result.header, slo: options.slo))
            return .success
        }
        if json { throw UsageError("--verify prints a text table; drop --json") }
        guard let top = try arguments.int("--verify-top"), top >= 1 else {
            throw UsageError("option '--verify-top' expects an integer ≥ 1")
        }
        let verification = try Self.verify(result, top: top, options: options, context: context,
                                           directory: arguments.value("--verify-dir").map(context.resolve))
        context.stdout.write(first + TextReport.render(result) + verification)
        return .success
    }

    /// `--json` or `--format json`; `--format` names the output only (the input's is `--from`).
    static func wantsJSON(_ a: ParsedArguments) throws -> Bool {
        let format = (a.value("--format") ?? "text").lowercased()
        switch format {
        case "text": return a.flag("--json")
        case "json": return true
        default:
            let isInput = format == "trace" || format == "auto" || ImportFormat(rawValue: format) != nil
            throw UsageError("option '--format' expects text or json (the output), found '\(format)'",
                             hint: isInput ? "the input's format is given with --from \(format)" : nil)
        }
    }

    /// The `--json` document: schema "inferscope.analysis" (docs/analysis-json.md) with the run's
    /// completeness: `"complete"` and `"incomplete"` (the problems, empty when complete).
    static func json(_ analyzed: AnalyzedTrace) -> String {
        guard case .object(var fields) = AnalysisJSON.document(analyzed.result) else { return AnalysisJSON.render(analyzed.result) }
        fields["complete"] = .bool(analyzed.completeness.isComplete)
        fields["incomplete"] = .array(analyzed.completeness.problems.map { .string($0) })
        if let runs = ImportedRunsReport.json(analyzed.result.header, slo: analyzed.result.options.slo) { fields["runs_in_file"] = runs }
        return JSONValue.object(fields).serialized()
    }

    /// One streaming pass over the trace at `path` (resolved against the working directory):
    /// the whole analysis, or a ``CommandFailure`` naming the file and the first problems. Shared
    /// by every command that judges a trace (`analyze`, `gate`, `report`). `--hardware host` on a
    /// trace whose header has no measured peaks probes this machine with the runtime's own kernels.
    /// A file that is not an InferScope trace is imported on the fly (``ImportCommand``): auto-detected
    /// unless `importing` forces a format; "trace" reads it as a trace only. `observe` sees every
    /// event the analyzer sees, in order (the report's timeline).
    static func analyze(_ path: String, options: AnalysisOptions, context: CommandContext,
                        importing: ImportRequest = ImportRequest(),
                        observe: ((TraceEvent) -> Void)? = nil) throws -> AnalysisResult {
        try analyzeTrace(path, options: options, context: context, importing: importing, observe: observe).result
    }

    /// ``analyze(_:options:context:importing:observe:)`` with the trace's ``RunCompleteness``
    /// (an imported file counts as complete: it is a finished tool's output, checked by its importer).
    static func analyzeTrace(_ path: String, options: AnalysisOptions, context: CommandContext,
                             importing: ImportRequest = ImportRequest(),
                             observe: ((TraceEvent) -> Void)? = nil) throws -> AnalyzedTrace {
        var analyzer: Analyzer
        do { analyzer = try Analyzer(options: options) } catch { throw CommandFailure(error.description) }
        // Auto-detection needs only the head of the file: an InferScope trace (any size) is then
        // streamed by TraceReader, never loaded whole; only a foreign file is read into memory.
        let head = importing.format == "auto" ? FileBytes.prefix(of: context.resolve(path), count: ImportCommand.detectionBytes) : nil
        if importing.format != "trace" && !(head.map(ImportCommand.isInferScopeTrace) ?? false) {
            let bytes = try ImportCommand.readFile(path, context)  // also the error for a missing file
            let metrics = try importing.metrics.map { (file: $0, bytes: try ImportCommand.readFile($0, context)) }
            let result = try Self.analyzeForeign(bytes, path: path, importing: importing, metrics: metrics, analyzer: analyzer,
                                                 observe: observe)
            return AnalyzedTrace(result: result, completeness: .complete)
        }
        if importing.metrics != nil {
            throw UsageError("--metrics adds server samples to an imported file; \(path) is already an InferScope trace")
        }
        let reader: TraceReader
        do {
            reader = try TraceReader(path: context.resolve(path))
        } catch {
            throw CommandFailure(error.diagnostics.map { "\(path): \($0.message)" }.joined(separator: "\n"))
        }
        if options.hardware?.lowercased() == "host", let first = reader.next() {
            if case .header(let h) = first, h.hardware.memoryBandwidth == nil || h.hardware.peakFLOPS == nil {
                if let message = CPUFeatures.unsupportedBuildMessage() { throw CommandFailure(message) }
                var o = options
                o.hardwareSpec = HostPeaks.spec(threads: max(1, h.hardware.threads), recordedOn: h.hardware.name)
                do { analyzer = try Analyzer(options: o) } catch { throw CommandFailure(error.description) }
            }
            observe?(first)
            do { try analyzer.consume(first) } catch { throw CommandFailure("\(path): \(error.description)") }
        }
        do {
            while let event = reader.next() {
                observe?(event)
                try analyzer.consume(event)
            }
        } catch {
            throw CommandFailure("\(path): \(error.description)")
        }
        if reader.hasErrors {
            let lines = reader.diagnostics.prefix(5).map { ValidateCommand.format($0, path) }
            throw CommandFailure((lines + ["\(path): invalid trace (\(reader.errorCount) errors); run 'inferscope validate \(path)'"])
                .joined(separator: "\n"))
        }
        let result: AnalysisResult
        do { result = try analyzer.finish() } catch { throw CommandFailure("\(path): \(error.description)") }
        return AnalyzedTrace(result: result,
                             completeness: RunCompleteness(readerWarnings: reader.diagnostics, requests: result.metrics.requests))
    }

    /// How to read a file that may not be an InferScope trace.
    struct ImportRequest {
        /// "auto" (detect), "trace" (InferScope traces only) or an ``ImportFormat`` name.
        var format = "auto"
        var options = ImportOptions()
        /// A vLLM metrics file of the same run to merge in (``CombinedImport``).
        var metrics: String?
    }

    /// Imports a foreign file straight into the analyzer (no trace file written).
    static func analyzeForeign(_ bytes: [UInt8], path: String, importing: ImportRequest,
                               metrics: (file: String, bytes: [UInt8])? = nil, analyzer start: Analyzer,
                               observe: ((TraceEvent) -> Void)? = nil) throws -> AnalysisResult {
        let format = try ImportCommand.format(importing.format, bytes: bytes, path: path)
        var analyzer = start
        var failure: AnalysisError?
        do throws(ImportError) {
            try ImportCommand.importTrace(bytes, file: path, format: format, metrics: metrics, options: importing.options) { event in
                guard failure == nil else { return }
                observe?(event)
                do throws(AnalysisError) { try analyzer.consume(event) } catch { failure = error }
            }
        } catch {
            // A bad command-line value (--model, --run) is a usage error (exit 2), as everywhere.
            if let field = error.field, field.hasPrefix("--") { throw UsageError("option '\(field)': \(error.message)") }
            throw CommandFailure(error.description)
        }
        if let failure { throw CommandFailure("\(path): \(failure.description)") }
        do { return try analyzer.finish() } catch { throw CommandFailure("\(path): \(error.description)") }
    }

    /// Runs ``AdviceVerifier`` for the top recommendations; the re-run traces go to `directory`
    /// (created if missing) or to a fresh temporary directory, named on stderr either way. An
    /// existing file there that InferScope did not write is never overwritten (that re-run fails).
    /// Returns the rendered table.
    static func verify(_ result: AnalysisResult, top: Int, options: AnalysisOptions,
                       context: CommandContext, directory requested: String? = nil) throws -> String {
        let baseArguments: [String]
        do { baseArguments = try AdviceVerifier.profileArguments(result.header) } catch {
            throw CommandFailure("\(error)")
        }
        let directory: String
        if let requested {
            var status = stat()
            if stat(requested, &status) == 0 {
                guard status.st_mode & S_IFMT == S_IFDIR else {
                    throw UsageError("option '--verify-dir' expects a directory; \(requested) is a file")
                }
            } else if mkdir(requested, 0o755) != 0 {
                throw CommandFailure("--verify-dir: cannot create \(requested): \(String(cString: strerror(errno)))")
            }
            directory = requested
        } else {
            let base = context.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array("\(base)/inferscope-verify-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else {
                throw CommandFailure("--verify: cannot create a temporary directory under \(base): \(String(cString: strerror(errno)))")
            }
            directory = String(cString: made)
        }
        context.stderr.write("verify: re-run traces go to \(directory)\n")
        var o = options
        if o.hardwareSpec == nil, o.hardware == nil, let spec = result.hardware { o.hardwareSpec = spec }
        let verifier = AdviceVerifier(header: result.header, analysisOptions: o, context: context, directory: directory)
        let rows: [AdviceVerifier.Row]
        do {
            rows = try verifier.verify(AdviceVerifier.candidates(result, limit: top)) { context.stderr.write($0 + "\n") }
        } catch {
            throw CommandFailure("\(error)")
        }
        return AdviceVerifier.render(rows, baselineArguments: baseArguments)
    }

    /// The options every trace-judging command shares, those its spec declares: `--hardware`,
    /// `--objective`, `--slo`. Bad values are usage errors naming the option.
    static func commonOptions(_ a: ParsedArguments, _ context: CommandContext) throws -> AnalysisOptions {
        var o = AnalysisOptions()
        let declared = Set(a.spec.options.map(\.name))
        if declared.contains("--hardware"), let h = a.value("--hardware") {
            o.hardware = h.lowercased().hasSuffix(".json") ? context.resolve(h) : h
        }
        if declared.contains("--objective"), let objective = a.value("--objective") {
            guard let obj = Objective(rawValue: objective.lowercased()) else {
                throw UsageError("option '--objective' expects one of \(Objective.allCases.map(\.rawValue).joined(separator: ", ")), found '\(objective)'")
            }
            o.objective = obj
        }
        if declared.contains("--slo"), let s = a.value("--slo") {
            do { o.slo = try ServiceLevelObjectives(parsing: s) } catch { throw UsageError(error.description) }
        }
        return o
    }

    /// Parses the options into ``AnalysisOptions``; bad values are usage errors naming the option.
    static func options(_ a: ParsedArguments, _ context: CommandContext) throws -> AnalysisOptions {
        var o = try commonOptions(a, context)
        o.whatIf = a.value("--on")
        if let p = try a.double("--price") {
            guard p > 0 else { throw UsageError("option '--price' expects a positive number of USD per hour, found '\(p)'") }
            o.pricePerHour = p
        }
        if let h = try a.double("--prefix-potential") {
            guard (0...1).contains(h) else { throw UsageError("option '--prefix-potential' expects a number in 0…1, found '\(h)'") }
            o.potentialPrefixHitRate = h
        }
        func share(_ name: String) throws -> Double {
            let v = try a.double(name)!
            guard v >= 0 else { throw UsageError("option '\(name)' expects a non-negative number, found '\(v)'") }
            return v
        }
        o.thresholds.prefillShare = try share("--prefill-share")
        o.thresholds.idleShare = try share("--idle-share")
        o.thresholds.overheadUtilisation = try share("--overhead-util")
        o.thresholds.highKVUsage = try share("--kv-high")
        o.thresholds.capacityTimeShare = try share("--capacity-share")
        o.assumptions.alpha = try share("--alpha")
        o.assumptions.draftCostRatio = try share("--draft-cost")
        guard let gamma = try a.int("--gamma"), gamma >= 1 else { throw UsageError("option '--gamma' expects an integer ≥ 1") }
        o.assumptions.gamma = gamma
        return o
    }
}

/// This machine's roofs, measured the same way wherever the CLI needs them: ``Kernels/HostProbe``'s
/// STREAM-like read bandwidth and FP32 FMA peak over a 128 MiB buffer, best of 3, on `threads`
/// threads. `profile` records them in the trace header; `analyze --hardware host` probes when the
/// header has none. Other load on the machine lowers them. ≈ 1 s.
enum HostPeaks {
    static func measure(threads: Int) -> HostMeasurement {
        HostProbe.measure(pool: ThreadPool(threadCount: threads), bufferBytes: 128 << 20, repetitions: 3)
    }

    /// The measurement as the analyzer's hardware spec, for a trace recorded on `recordedOn`.
    static func spec(threads: Int, recordedOn: String) -> HardwareSpec {
        let m = measure(threads: threads)
        #if DEBUG
        let debug = "; DEBUG BUILD: probes run slower than release, rebuild with -c release"
        #else
        let debug = ""
        #endif
        return HardwareSpec(name: "host (probed: \(threads) threads)", origin: "measured", memoryBandwidth: m.readBandwidth,
                            peakFLOPS: ["f32": m.fmaPeak], memoryBytes: nil,
                            source: "probed at analysis time (read bandwidth, FP32 FMA peak) on this machine; the trace was recorded on '\(recordedOn)'\(debug)")
    }
}
