import Kernels
import LlamaModel

/// Why a drafter could not be built for a target.
public struct DrafterSetupError: Error, CustomStringConvertible {
    /// The `--spec` value.
    public var strategy: String
    /// What failed and how to fix it.
    public var detail: String

    public var description: String { "--spec \(strategy): \(detail)" }
}

extension DraftStrategy {
    /// Builds the drafter for `target`.
    /// - `draft:MODEL` loads MODEL with ``ModelLoader`` (a preset is generated from `seed + 1`,
    ///   so `draft:SAME-PRESET` is a different random model, not a copy of the target) and
    ///   checks that its vocabulary size equals the target's;
    /// - `quant` re-quantizes the target to q4_0; `early-exit:K` takes its first K layers;
    /// - `ngram[:N]` needs no model.
    /// - Parameter maxSequences: sequences drafted for at once (draft KV slots).
    public func makeDrafter(target: ModelWeights, seed: UInt64, maxSequences: Int, maxBatchTokens: Int = 512,
                            pool: ThreadPool) throws(DrafterSetupError) -> any Drafter {
        let weights: ModelWeights
        do {
            switch self {
            case .ngram(let n):
                return NGramDrafter(maxMatch: n)
            case .quantized:
                weights = try target.requantized(to: .q4_0)
            case .earlyExit(let k):
                weights = try target.earlyExit(layers: k)
            case .draftModel(let reference):
                let loaded = try ModelLoader.load(reference, type: target.weightType, seed: seed &+ 1)
                guard loaded.weights.config.vocabSize == target.config.vocabSize else {
                    throw DrafterSetupError(strategy: description,
                                            detail: "the draft model has a vocabulary of \(loaded.weights.config.vocabSize) tokens but the target has \(target.config.vocabSize); a draft model must share the target's vocabulary")
                }
                weights = loaded.weights
            }
            return try ModelDrafter(name: description, weights: weights, maxSequences: maxSequences,
                                    maxBatchTokens: maxBatchTokens, pool: pool)
        } catch let error as DrafterSetupError {
            throw error
        } catch {
            throw DrafterSetupError(strategy: description, detail: "\(error)")
        }
    }
}
