import Kernels
import LlamaModel

/// `inferscope model export --preset NAME --type f32|f16|q8_0|q4_0 [--seed S] -o FILE.gguf`:
/// writes a built-in preset (seeded random weights and its synthetic vocabulary) as a GGUF v3
/// file that llama.cpp loads, so the identical model can be run in a peer engine.
struct ModelExportCommand: Command {
    let spec = CommandSpec(
        name: "model export",
        abstract: "Write a built-in model preset as a GGUF file (loadable by llama.cpp).",
        discussion: """
            Presets: \(ModelPreset.all.map(\.name).joined(separator: ", ")). The weights are generated \
            from --seed exactly as the runtime generates them, quantized to --type with ggml's \
            reference quantizers, and written with a llama-style SentencePiece vocabulary. \
            Reading the file back gives bit-identical weights. See docs/model-formats.md.
            """,
        options: [
            .value("--preset", "NAME", help: "The preset to export."),
            .value("--type", "TYPE", help: "Weight type: f32, f16, q8_0 or q4_0.", default: "f32"),
            .value("--seed", "S", help: "Seed of the random weights.", default: "0"),
            .value("--output", short: "-o", "FILE", help: "The GGUF file to write."),
        ])

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        guard let presetName = arguments.value("--preset") else { throw UsageError("missing option --preset NAME") }
        guard let preset = ModelPreset.named(presetName) else {
            throw UsageError("unknown preset '\(presetName)'; expected one of \(ModelPreset.all.map(\.name).joined(separator: ", "))")
        }
        let type = try Self.weightType(arguments)
        guard let output = arguments.value("--output") else { throw UsageError("missing option -o FILE") }
        let seed = try Self.seed(arguments)
        if let message = CPUFeatures.unsupportedBuildMessage() { throw CommandFailure(message) }

        let weights = preset.makeWeights(type: type, seed: seed)
        let path = context.resolve(output)
        do {
            try weights.writeGGUF(to: path, name: preset.name, vocabulary: .synthetic(size: preset.config.vocabSize))
        } catch {
            throw CommandFailure(error.description)
        }
        let bytes = weights.namedTensors.reduce(0) { $0 + $1.data.count }
        context.stdout.write("wrote \(output): preset \(preset.name), \(type), seed \(seed), "
                             + "\(weights.namedTensors.count) tensors, \(bytes) bytes of weights\n")
        return .success
    }

    /// `--type` parsed, with a usage error listing the valid names.
    static func weightType(_ arguments: ParsedArguments) throws(UsageError) -> TensorType {
        let name = arguments.value("--type") ?? "f32"
        guard let type = TensorType(name: name) else {
            throw UsageError("option '--type' expects one of \(TensorType.allCases.map(\.description).joined(separator: ", ")), found '\(name)'")
        }
        return type
    }

    /// `--seed` parsed as a non-negative 64-bit integer.
    static func seed(_ arguments: ParsedArguments) throws(UsageError) -> UInt64 {
        let text = arguments.value("--seed") ?? "0"
        guard let seed = UInt64(text) else { throw UsageError("option '--seed' expects a non-negative integer, found '\(text)'") }
        return seed
    }
}
