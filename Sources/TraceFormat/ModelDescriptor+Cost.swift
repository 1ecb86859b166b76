#if canImport(Glibc)
import Glibc
#endif

/// The analytic cost model of a Llama-style decoder (methodology §1.1–1.3).
///
/// Both sides of the trace use it: the runtime fills each step's `flops` and `bytes` with it,
/// and the analyzer recomputes them for traces that lack them (imported traces) and for
/// what-if projections. Keeping one implementation here is what makes the runtime's numbers
/// and the analyzer's agree by construction. A multiply-accumulate counts as 2 FLOPs.
extension ModelDescriptor {
    /// True for a mixture-of-experts model (E > 0 and k > 0).
    public var isMoE: Bool { experts > 0 && expertsPerToken > 0 }

    /// MoE layers: `L − denseLayers` (0 for a dense model).
    public var moeLayers: Int { isMoE ? max(0, layers - denseLayers) : 0 }

    /// Parameters of one routed expert's SwiGLU MLP, `3·d·d_e`.
    public var expertParameters: Double { 3 * Double(dim) * Double(expertFFNDim) }

    /// Linear parameters every token uses: attention in all layers, the dense MLP in dense layers,
    /// the router (`d·E`) and shared experts in MoE layers. Dense model: all linear parameters.
    public var alwaysActiveLinearParameters: Double {
        let d = Double(dim), dh = Double(headDim)
        let attn = 2 * d * Double(heads) * dh + 2 * d * Double(kvHeads) * dh
        let dense = 3 * d * Double(ffnDim)
        guard isMoE else { return Double(layers) * (attn + dense) }
        let moe = Double(moeLayers)
        return Double(layers) * attn + Double(layers - moeLayers) * dense
            + moe * (d * Double(experts) + 3 * d * Double(sharedExpertFFNDim))
    }

    /// Weight parameters in all linear layers of the decoder stack (attention projections and
    /// SwiGLU MLP, every expert), excluding embeddings and LM head. Dense:
    /// `L·(2·d·h·d_h + 2·d·h_kv·d_h + 3·d·d_ff)`; MoE adds `(L − L_dense)·E·3·d·d_e`.
    public var linearParameters: Double {
        alwaysActiveLinearParameters + Double(moeLayers) * Double(experts) * expertParameters
    }

    /// Linear parameters one token multiplies by (the active parameters): MoE routes each token
    /// to k experts, `always-active + (L − L_dense)·k·3·d·d_e`. Dense: ``linearParameters``.
    public var activeLinearParameters: Double {
        alwaysActiveLinearParameters + Double(moeLayers) * Double(expertsPerToken) * expertParameters
    }

    /// Expected distinct experts per MoE layer that `tokens` routed tokens touch, under uniform
    /// independent routing: `E·(1 − (1 − k/E)^T)` (docs/methodology-notes.md). 0 for dense. O(1).
    public func expectedDistinctExperts(tokens t: Double) -> Double {
        guard isMoE, t > 0 else { return 0 }
        let e = Double(experts), k = Double(min(expertsPerToken, experts))
        return e * (1 - pow(1 - k / e, t))
    }

    /// Bytes of routed-expert weights a forward pass over `tokens` tokens streams. 0 for dense.
    public func expertWeightBytes(tokens: Double) -> Double {
        Double(moeLayers) * expectedDistinctExperts(tokens: tokens) * expertParameters * bytesPerWeight
    }

    /// Parameters of the embedding table (and of the LM head when untied): `V·d` each.
    public var embeddingParameters: Double { Double(vocabSize) * Double(dim) }

    /// All weight parameters N (norms excluded): linear + embedding (+ LM head if untied).
    public var parameterCount: Double {
        linearParameters + embeddingParameters * (tiedEmbeddings ? 1 : 2)
    }

    /// Bytes of all weights as stored.
    public var weightBytes: Double { parameterCount * bytesPerWeight }

    /// KV bytes per cached token over all layers: `2·L·h_kv·d_h·b_kv`.
    public var kvBytesPerToken: Double {
        2 * Double(layers) * Double(kvHeads) * Double(headDim) * bytesPerKVElement
    }

    /// Bytes of weights streamed by one forward pass: every linear layer plus the LM head
    /// (when any logits are computed) plus the gathered embedding rows. MoE: the always-active
    /// layers plus the expected distinct experts `tokens` tokens touch. O(1).
    public func weightBytesPerForward(tokens: Int, logitRows: Int) -> Double {
        var p = isMoE ? alwaysActiveLinearParameters : linearParameters
        if logitRows > 0 { p += embeddingParameters }
        return p * bytesPerWeight + Double(tokens) * Double(dim) * bytesPerWeight + expertWeightBytes(tokens: Double(tokens))
    }

    /// FLOPs of one sequence's share of a forward pass: `s` new tokens after `c` cached tokens,
    /// `logitRows` positions through the LM head. Causal attention:
    /// `2·N_act·s + 4·L·h·d_h·Σ_{i=1..s}(c+i) + 2·V·d·logitRows` (N_act: active linear parameters). O(1).
    public func forwardFLOPs(newTokens s: Int, cachedTokens c: Int, logitRows: Int) -> Double {
        let sD = Double(s), cD = Double(c)
        let linear = 2 * activeLinearParameters * sD
        let attended = sD * cD + sD * (sD + 1) / 2
        let attention = 4 * Double(layers) * Double(heads) * Double(headDim) * attended
        let head = 2 * embeddingParameters * Double(logitRows)
        return linear + attention + head
    }

    /// FLOPs and bytes of one forward pass over `batch` (methodology §1.2–1.3). Weights are
    /// streamed once for the whole batch; each sequence reads its cached KV once and writes
    /// its new tokens' KV. `logitRows` is the number of positions through the LM head over the
    /// whole batch. Activation traffic is ignored. O(batch.count).
    public func forwardCost(batch: [BatchEntry], logitRows: Int) -> (flops: Double, bytes: Double) {
        var flops = 0.0
        var tokens = 0
        var kvRead = 0.0
        for e in batch {
            let s = Int(e.prefillTokens) + Int(e.decodeTokens)
            tokens += s
            flops += forwardFLOPs(newTokens: s, cachedTokens: Int(e.contextLength), logitRows: 0)
            kvRead += Double(e.contextLength)
        }
        flops += 2 * embeddingParameters * Double(logitRows)
        let bytes = weightBytesPerForward(tokens: tokens, logitRows: logitRows)
            + kvRead * kvBytesPerToken + Double(tokens) * kvBytesPerToken
        return (flops, bytes)
    }
}
