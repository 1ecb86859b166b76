import Kernels
import LlamaModel

extension ServingEngine {
    /// Gives a colocated worker its speculation hook when `options.speculation` is set: builds
    /// the drafter for the model (draft KV slots for `maxNumSeqs` sequences) on the worker's
    /// thread count.
    func attachSpeculation(to worker: EngineWorker) throws(EngineError) {
        guard let spec = options.speculation, !options.disaggregated else { return }
        let drafter: any Drafter
        do {
            drafter = try spec.strategy.makeDrafter(target: model.weights, seed: options.seed, maxSequences: options.maxNumSeqs,
                                                    pool: worker.transformer.pool)
        } catch {
            throw EngineError("\(error)")
        }
        let hook = SpeculationHook(drafter: drafter, draftLength: spec.draftLength, maxSeqLen: model.weights.config.maxSeqLen,
                                   vocabSize: model.weights.config.vocabSize, tracer: tracer, lane: worker.lane, seed: options.seed)
        hook.currentSampling = worker.sampling
        worker.speculation = hook
    }
}
