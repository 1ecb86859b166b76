#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels
import LlamaModel

/// `inferscope generate --model PRESET|PATH [--prompt TEXT] …`: runs one prompt through the
/// runtime and prints the continuation as it is generated, then a tokens/s line on stderr.
struct GenerateCommand: Command {
    let spec = CommandSpec(
        name: "generate",
        abstract: "Generate text with a preset, a llama GGUF or a llama2.c checkpoint.",
        discussion: """
            --model takes a preset name (\(ModelPreset.all.map(\.name).joined(separator: ", "))), a .gguf file \
            (F32/F16/Q8_0/Q4_0 tensors, llama architecture) or a llama2.c checkpoint (its tokenizer.bin \
            is taken from --tokenizer or from the checkpoint's directory). The prompt and the continuation \
            are printed on stdout as tokens arrive; prefill and decode speed go to stderr. \
            --temperature 0 is greedy; the same --seed and model give the same text.
            """,
        options: [
            .value("--model", "MODEL", help: "Preset name, .gguf file or llama2.c checkpoint."),
            .value("--tokenizer", "FILE", help: "llama2.c tokenizer.bin (for checkpoints, or to override)."),
            .value("--prompt", "TEXT", help: "The prompt.", default: ""),
            .value("--prompt-tokens", "IDS", help: "The prompt as comma-separated token ids (models without a tokenizer)."),
            .value("--steps", "N", help: "Tokens to generate (stops earlier at end of sequence or context).", default: "128"),
            .value("--temperature", "T", help: "Sampling temperature; 0 = greedy.", default: "1.0"),
            .value("--top-k", "K", help: "Sample among the K most likely tokens; 0 = all.", default: "0"),
            .value("--top-p", "P", help: "Nucleus sampling threshold in (0, 1]; 1 = off.", default: "0.9"),
            .value("--seed", "S", help: "Seed of the sampler (and of preset weights).", default: "0"),
            .value("--threads", "N", help: "Worker threads; default: all online cores."),
            .value("--type", "TYPE", help: "Weight type for presets: f32, f16, q8_0 or q4_0.", default: "f32"),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        guard let modelReference = arguments.value("--model") else { throw UsageError("missing option --model MODEL") }
        let steps = try arguments.int("--steps") ?? 128
        let temperature = try arguments.double("--temperature") ?? 1
        let topK = try arguments.int("--top-k") ?? 0
        let topP = try arguments.double("--top-p") ?? 0.9
        let threads = try arguments.int("--threads") ?? ThreadPool.onlineCores
        let seed = try ModelExportCommand.seed(arguments)
        let type = try ModelExportCommand.weightType(arguments)
        guard steps >= 0 else { throw UsageError("option '--steps' must be ≥ 0, found \(steps)") }
        guard temperature >= 0, temperature.isFinite else { throw UsageError("option '--temperature' must be ≥ 0, found \(temperature)") }
        guard topK >= 0 else { throw UsageError("option '--top-k' must be ≥ 0, found \(topK)") }
        guard topP > 0, topP <= 1 else { throw UsageError("option '--top-p' must be in (0, 1], found \(topP)") }
        guard threads >= 1, threads <= 1024 else { throw UsageError("option '--threads' must be in 1…1024, found \(threads)") }
        if let message = CPUFeatures.unsupportedBuildMessage() { throw CommandFailure(message) }

        let isPreset = ModelPreset.named(modelReference) != nil
        let model: LoadedModel
        do {
            model = try ModelLoader.load(isPreset ? modelReference : context.resolve(modelReference), type: type, seed: seed,
                                         tokenizerPath: arguments.value("--tokenizer").map(context.resolve))
        } catch {
            throw CommandFailure(error.description)
        }
        let config = model.weights.config
        let prompt = try promptTokens(arguments, model)
        guard prompt.count < config.maxSeqLen else {
            throw UsageError("the prompt has \(prompt.count) tokens but the model's context is \(config.maxSeqLen)")
        }

        let generator: TextGenerator
        do {
            generator = try TextGenerator(weights: model.weights, threads: threads, clock: Self.monotonicSeconds)
        } catch {
            throw CommandFailure("cannot allocate the KV cache: \(error)")
        }
        var sampler = Sampler(parameters: SamplingParameters(temperature: Float(temperature), topK: topK, topP: Float(topP)),
                              vocabularySize: config.vocabSize, rng: Xoshiro256(seed: seed))
        var printer = Utf8Printer(output: context.stdout)
        var previous: Int?
        if let tokenizer = model.tokenizer {
            for token in prompt {
                printer.write(tokenizer.pieceBytes(token, after: previous))
                previous = token
            }
        }
        let stats = generator.generate(prompt: prompt, steps: steps, sampler: &sampler,
                                       stopAtEOS: model.tokenizer?.vocabulary.eos) { token in
            if let tokenizer = model.tokenizer {
                printer.write(tokenizer.pieceBytes(token, after: previous))
            } else {
                printer.write(Array("\(token) ".utf8))
            }
            previous = token
        }
        printer.write([UInt8(ascii: "\n")])
        printer.flush()
        context.stderr.write("\(model.name) (\(model.weights.weightType), \(threads) threads): prompt \(stats.promptTokens) tokens "
                             + "\(Self.rate(stats.prefillTokensPerSecond)) tok/s, generated \(stats.generatedTokens) tokens "
                             + "\(Self.rate(stats.decodeTokensPerSecond)) tok/s\n")
        return .success
    }

    /// The prompt's token ids: `--prompt-tokens`, or `--prompt` through the model's tokenizer
    /// (BOS alone when the prompt is empty).
    private func promptTokens(_ arguments: ParsedArguments, _ model: LoadedModel) throws -> [Int] {
        let vocab = model.weights.config.vocabSize
        if let ids = arguments.value("--prompt-tokens") {
            var tokens: [Int] = []
            for part in ids.split(separator: ",") {
                guard let t = Int(part.trimmingWhitespace()), t >= 0, t < vocab else {
                    throw UsageError("option '--prompt-tokens' expects token ids in 0..<\(vocab) separated by commas, found '\(part)'")
                }
                tokens.append(t)
            }
            guard !tokens.isEmpty else { throw UsageError("option '--prompt-tokens' is empty") }
            return tokens
        }
        guard let tokenizer = model.tokenizer else {
            throw UsageError("\(model.name) has no usable tokenizer",
                             hint: "pass --tokenizer tokenizer.bin, or the prompt as ids with --prompt-tokens 1,2,3")
        }
        let tokens = tokenizer.encode(arguments.value("--prompt") ?? "")
        return tokens.isEmpty ? [tokenizer.vocabulary.bos] : tokens
    }

    private static func rate(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    @Sendable private static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// Writes bytes as text, holding back an incomplete UTF-8 sequence at the end until the rest
/// of it arrives (byte-fallback tokens spell a character over several tokens).
private struct Utf8Printer {
    let output: any TextOutput
    var pending: [UInt8] = []

    mutating func write(_ bytes: [UInt8]) {
        pending += bytes
        var cut = pending.count
        // Find the start of a trailing sequence that is still missing continuation bytes.
        var i = pending.count - 1
        var continuation = 0
        while i >= 0, continuation < 3, pending[i] & 0xC0 == 0x80 {
            continuation += 1
            i -= 1
        }
        if i >= 0 {
            let lead = pending[i]
            let needed = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0
            if needed > continuation { cut = i }
        }
        guard cut > 0 else { return }
        output.write(String(decoding: pending[..<cut], as: UTF8.self))
        pending.removeFirst(cut)
    }

    mutating func flush() {
        if !pending.isEmpty { output.write(String(decoding: pending, as: UTF8.self)) }
        pending.removeAll()
    }
}

private extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}
