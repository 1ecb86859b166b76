#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Importers
import TraceFormat

/// `inferscope import FILE [--format auto|vllm|sglang|aiperf|llmperf|llama-bench|otel]
/// [--model NAME] [--hardware NAME] [--run N] -o TRACE.json`: converts what a real engine or
/// benchmark tool wrote into an InferScope trace (`validate` accepts it, Perfetto opens it).
/// The trace is written to a temporary file next to the output and renamed when complete, so a
/// bad input leaves no partial output. Exit 0 imported, 1 unreadable/invalid input, 2 usage.
struct ImportCommand: Command {
    let spec = CommandSpec(
        name: "import",
        abstract: "Convert a vLLM, SGLang, AIPerf, LLMPerf, llama-bench or OTel file into an InferScope trace.",
        discussion: """
            Formats: \(ImportFormat.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")). \
            --format auto detects the format from the file's keys. The model comes from the file \
            (matched to the catalog by name) unless --model is given; hardware is recorded only \
            when the file names it or --hardware is given. What each format maps to and what \
            cannot be concluded from it: docs/importers.md. 'inferscope analyze FILE' accepts \
            these files directly.
            """,
        arguments: [ArgumentSpec("FILE", help: "The file the engine or benchmark tool wrote.")],
        options: [
            .value("--format", "FORMAT", help: "auto, \(ImportFormat.namesList).", default: "auto"),
            .value("--model", "NAME|FILE", help: "Model name (catalog name or engine id such as meta-llama/Llama-3.1-8B-Instruct), a Hugging Face config.json or a GGUF file."),
            .value("--hardware", "NAME", help: "Hardware catalog name or alias the run used (H100-SXM, A100-80GB…)."),
            .value("--run", "N", help: "For files holding several runs (vLLM --append-result, SGLang JSONL): which one (default: the last)."),
            .value("--metrics", "FILE", help: "vLLM /metrics snapshots of the same run (AIPerf server_metrics_export.jsonl): adds KV usage and queue samples, aligned on the epoch clock."),
            .value("--output", short: "-o", "TRACE", help: "The InferScope trace to write."),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        let path = try arguments.argument("FILE")
        guard let output = arguments.value("--output") else {
            throw UsageError("missing option '-o TRACE': where to write the InferScope trace")
        }
        let options = try Self.importOptions(arguments, hardware: arguments.value("--hardware"), context: context)
        let bytes = try Self.readFile(path, context)
        let format = try Self.format(arguments.value("--format") ?? "auto", bytes: bytes, path: path)
        let target = context.resolve(output)
        try OutputFile.checkReplaceable(target, as: .trace, shownAs: output)
        let partial = target + ".partial"
        let writer: TraceWriter
        do { writer = try TraceWriter(path: partial) } catch { throw CommandFailure(error.description) }
        var writeError: TraceWriteError?
        var requests = 0, steps = 0
        let metrics = try arguments.value("--metrics").map { (file: $0, bytes: try Self.readFile($0, context)) }
        do throws(ImportError) {
            try Self.importTrace(bytes, file: path, format: format, metrics: metrics, options: options) { event in
                guard writeError == nil else { return }
                switch event {
                case .request(let r) where r.kind == .arrival: requests += 1
                case .step: steps += 1
                default: break
                }
                do throws(TraceWriteError) { try writer.write(event) } catch { writeError = error }
            }
        } catch {
            try? writer.close()
            unlink(partial)
            throw CommandFailure(error.description)
        }
        if writeError == nil {
            do throws(TraceWriteError) { try writer.close() } catch { writeError = error }
        }
        if let writeError {
            unlink(partial)
            throw CommandFailure(writeError.description)
        }
        guard rename(partial, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw CommandFailure("cannot write '\(output)': \(reason)")
        }
        context.stdout.write("imported \(path) (\(format.rawValue)): \(requests) requests, \(steps) step spans -> \(output)\n")
        return .success
    }

    /// The import, plus the metrics file's samples when one is given (``CombinedImport``).
    static func importTrace(_ bytes: [UInt8], file: String, format: ImportFormat, metrics: (file: String, bytes: [UInt8])?,
                            options: ImportOptions, emit: (TraceEvent) -> Void) throws(ImportError) {
        if let metrics {
            try CombinedImport.importTrace(bytes, file: file, format: format, metrics: metrics.bytes, metricsFile: metrics.file,
                                           options: options, emit: emit)
        } else {
            try format.importer.importTrace(bytes, file: file, options: options, emit: emit)
        }
    }

    /// `--model`, `--run` and the given hardware as ``ImportOptions``.
    static func importOptions(_ arguments: ParsedArguments, hardware: String?, context: CommandContext? = nil) throws -> ImportOptions {
        var run: Int?
        if arguments.value("--run") != nil {
            guard let n = try arguments.int("--run"), n >= 1 else { throw UsageError("option '--run' expects an integer ≥ 1") }
            run = n
        }
        let descriptor = try context.flatMap { c in try arguments.value("--model").flatMap { try ModelFileOption.descriptor($0, c) } }
        return ImportOptions(model: descriptor == nil ? arguments.value("--model") : nil, hardware: hardware, run: run,
                             modelDescriptor: descriptor)
    }

    /// The format `--format` names, or the detected one.
    static func format(_ name: String, bytes: [UInt8], path: String) throws -> ImportFormat {
        let requested = name.lowercased()
        if requested != "auto" {
            guard let f = ImportFormat(rawValue: requested) else {
                throw UsageError("option '--format' expects auto or one of \(ImportFormat.namesList), found '\(requested)'")
            }
            return f
        }
        do { return try ImportDetection.detect(firstBytes: Array(bytes.prefix(ImportDetection.prefixLength)), file: path) } catch {
            throw CommandFailure(error.description)
        }
    }

    /// True when `bytes` begin like an InferScope trace (a JSON array whose first event is the
    /// run header), so `analyze` reads it as a trace rather than importing it.
    /// How much of a file's head format detection looks at.
    static let detectionBytes = 4096

    static func isInferScopeTrace(_ bytes: [UInt8]) -> Bool {
        let head = String(decoding: bytes.prefix(detectionBytes), as: UTF8.self)
        return head.hasPrefix("[") && (head.contains("\"run_header\"") || head.contains(RunHeader.schemaName))
    }

    /// The whole file, decompressed when it is gzip (`results.json.gz`). O(size).
    static func readFile(_ path: String, _ context: CommandContext) throws -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try FileBytes.load(context.resolve(path)) } catch {
            throw CommandFailure("\(path): cannot \(error.operation == "open" ? "open the file" : "read"): \(error.reason)")
        }
        do { return try Gzip.inflatedIfCompressed(bytes, file: path) } catch { throw CommandFailure(error.description) }
    }
}
