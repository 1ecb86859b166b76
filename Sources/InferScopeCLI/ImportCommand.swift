#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Importers
import Reporting
import TraceFormat

/// `inferscope import FILE [--from auto|vllm|sglang|aiperf|llmperf|llama-bench|otel]
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
            --from auto detects the format from the file's keys. The model comes from the file \
            (matched to the catalog by name) unless --model is given; hardware is recorded only \
            when the file names it or --hardware is given. What each format maps to and what \
            cannot be concluded from it: docs/importers.md. 'inferscope analyze FILE' accepts \
            these files directly.
            """,
        arguments: [ArgumentSpec("FILE", help: "The file the engine or benchmark tool wrote.")],
        options: [
            .value("--from", "FORMAT", help: "The input's format: auto, \(ImportFormat.namesList).", default: "auto"),
            .flag("--json", help: "Print what was imported as JSON (schema inferscope.import/1, docs/json-output.md)."),
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
        if Self.isInferScopeTrace(bytes) {
            throw CommandFailure("\(path) is already an InferScope trace: nothing to import; give it to 'inferscope analyze' or 'report' as it is")
        }
        let format = try Self.format(arguments.value("--from") ?? "auto", bytes: bytes, path: path)
        let staged = try StagedOutputFile(target: context.resolve(output), shownAs: output)
        let partial = staged.partial
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
            if let field = error.field, field.hasPrefix("--") { throw UsageError("option '\(field)': \(error.message)") }
            throw CommandFailure(error.description)
        }
        if writeError == nil {
            do throws(TraceWriteError) { try writer.close() } catch { writeError = error }
        }
        if let writeError {
            unlink(partial)
            throw CommandFailure(writeError.description)
        }
        do { try staged.commit() } catch {
            staged.discard()
            throw error
        }
        if arguments.flag("--json") {
            context.stdout.write(JSONValue.object([
                "schema": .string("inferscope.import/1"), "source": .string(path), "format": .string(format.rawValue),
                "output": .string(output), "requests": .int(requests), "step_spans": .int(steps),
            ]).serialized())
        } else {
            context.stdout.write("imported \(path) (\(format.rawValue)): \(Plural.count(requests, "request")), "
                                 + "\(Plural.count(steps, "step span")) -> \(output)\n")
        }
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

    /// The format `--from` names, or the detected one.
    static func format(_ name: String, bytes: [UInt8], path: String) throws -> ImportFormat {
        let requested = name.lowercased()
        if requested != "auto" {
            guard let f = ImportFormat(rawValue: requested) else {
                throw UsageError("option '--from' expects auto or one of \(ImportFormat.namesList), found '\(requested)'")
            }
            return f
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw CommandFailure("\(path): empty file\(bytes.isEmpty ? "" : " (only whitespace)"): nothing to read; was it written completely?")
        }
        if let offset = bytes.prefix(ImportDetection.prefixLength).firstIndex(where: { $0 == 0 || ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) }) {
            throw CommandFailure("\(path): binary data (byte 0x\(String(bytes[offset], radix: 16)) at offset \(offset)): "
                + "InferScope traces and the files it imports are text (JSON, JSONL, CSV, Prometheus text)")
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
