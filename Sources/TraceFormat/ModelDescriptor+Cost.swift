/// The analytic cost model of a Llama-style decoder (methodology §1.1–1.3).
///
/// Both sides of the trace use it: the runtime fills each step's `flops` and `bytes` with it,
/// and the analyzer recomputes them for traces that lack them (imported traces) and for
/// what-if projections. Keeping one implementation here is what makes the runtime's numbers
/// and the analyzer's agree by construction. A multiply-accumulate counts as 2 FLOPs.
extension ModelDescriptor {
    /// Weight parameters in all linear layers of the decoder stack (attention projections and
    /// SwiGLU MLP), excluding embeddings and LM head: `L·(2·d·h·d_h + 2·d·h_kv·d_h + 3·d·d_ff)`.
    public var linearParameters: Double {
        let d = Double(dim), dh = Double(headDim)
        let attn = 2 * d * Double(heads) * dh + 2 * d * Double(kvHeads) * dh
        let mlp = 3 * d * Double(ffnDim)
        return Double(layers) * (attn + mlp)
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
    /// (when any logits are computed) plus the gathered embedding rows. O(1).
    public func weightBytesPerForward(tokens: Int, logitRows: Int) -> Double {
        var p = linearParameters
        if logitRows > 0 { p += embeddingParameters }
        return p * bytesPerWeight + Double(tokens) * Double(dim) * bytesPerWeight
    }

    /// FLOPs of one sequence's share of a forward pass: `s` new tokens after `c` cached tokens,
    /// `logitRows` positions through the LM head. Causal attention:
    /// `2·N_lin·s + 4·L·h·d_h·Σ_{i=1..s}(c+i) + 2·V·d·logitRows`. O(1).
    public func forwardFLOPs(newTokens s: Int, cachedTokens c: Int, logitRows: Int) -> Double {
        let sD = Double(s), cD = Double(c)
        let linear = 2 * linearParameters * sD
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
