import Kernels
import KVCache

// The forward pass of a Llama-architecture decoder over one batched step, top to bottom.
//
// Notation: T new tokens in the step (all sequences back to back), d model width, h query
// heads, h_kv KV heads, g = h / h_kv, d_h head width, d_ff MLP width, V vocabulary, R logit
// rows. Every buffer was allocated by `init`; nothing here allocates.

extension Transformer {
    /// Runs one step: appends the K/V of every new token to `kv` (at the positions and
    /// blocks the batch names) and returns the logits the batch asked for.
    ///
    /// Each weight matrix is read once for the whole batch: the projections are
    /// matrix–matrix products over all T tokens, whichever sequence they belong to.
    ///
    /// - Precondition: `batch.tokens.count ≤ maxBatchTokens`, `batch.logitRows ≤ maxLogitRows`,
    ///   every position < `config.maxSeqLen`, every block table covers its sequence's
    ///   positions, `kv` was made for this model's shape.
    /// - Returns: logits valid until the next call.
    /// - Complexity: O(N·T + h·d_h·Σ context) FLOPs (`ModelDescriptor.forwardCost`).
    public func forward(_ batch: ForwardBatch, kv: KVCacheStorage) -> Logits {
        let c = config
        let tokenCount = batch.tokens.count
        let dim = c.dim, qDim = c.heads * c.headDim, kvDim = c.kvDim, headDim = c.headDim
        let group = c.heads / c.kvHeads
        precondition(tokenCount <= maxBatchTokens, "Transformer.forward: \(tokenCount) tokens > maxBatchTokens \(maxBatchTokens)")
        precondition(kv.layers == c.layers && kv.kvDim == kvDim && kv.headDim == headDim,
                     "Transformer.forward: KV storage shape (\(kv.layers) layers, kvDim \(kv.kvDim)) does not match the model")

        // 1. Per-token bookkeeping: position, owning sequence, RoPE table; logit rows.
        var logitRowCount = 0
        for (s, sequence) in batch.sequences.enumerated() {
            let end = sequence.startPosition + sequence.tokenRange.count
            precondition(end <= c.maxSeqLen, "Transformer.forward: sequence \(s) reaches position \(end) > maxSeqLen \(c.maxSeqLen)")
            precondition(sequence.blockRange.count * kv.blockSize >= end,
                         "Transformer.forward: sequence \(s) has \(sequence.blockRange.count) blocks of \(kv.blockSize) for \(end) positions")
            logitOffsets[s] = Int32(logitRowCount)
            for (i, t) in sequence.tokenRange.enumerated() {
                positions[t] = Int32(sequence.startPosition + i)
                sequenceOf[t] = Int32(s)
                let wantsLogits = sequence.logits == .all || (sequence.logits == .last && t == sequence.tokenRange.upperBound - 1)
                if wantsLogits {
                    precondition(logitRowCount < maxLogitRows, "Transformer.forward: more than maxLogitRows \(maxLogitRows) logit rows")
                    logitTokens[logitRowCount] = Int32(t)
                    logitRowCount += 1
                }
            }
        }
        logitOffsets[batch.sequences.count] = Int32(logitRowCount)

        // 2. Token embeddings → x [T × d]; RoPE angles → rope [T × d_h].
        pool.parallelFor(tokenCount) { range in
            for t in range {
                let token = Int(batch.tokens[t])
                precondition(token >= 0 && token < c.vocabSize, "Transformer.forward: token id \(token) outside 0..<\(c.vocabSize)")
                WeightDecoding.decodeRow(weights.tokenEmbedding.type, weights.tokenEmbedding.row(token), start: 0, count: dim,
                                         into: x + t * dim)
                RotaryEmbedding.fillTable(position: Int(positions[t]), headDim: headDim, theta: c.ropeTheta,
                                          into: rope + t * headDim)
            }
        }

        batch.blockIds.withUnsafeBufferPointer { blockIds in
            for (l, layer) in weights.layers.enumerated() {
                // 3. Attention RMSNorm: xb [T × d] = rmsnorm(x) ⊙ attentionNorm.
                pool.parallelFor(tokenCount) { range in
                    for t in range {
                        RMSNorm.apply(x + t * dim, weight: layer.attentionNorm, epsilon: c.normEpsilon, count: dim, into: xb + t * dim)
                    }
                }

                // 4. Projections: q [T × h·d_h], k [T × kvDim], v [T × kvDim] = xb · W{q,k,v}ᵀ.
                matmul.multiply(xb, rows: tokenCount, MatmulTarget(layer.wq, q), MatmulTarget(layer.wk, k), MatmulTarget(layer.wv, v))

                // 5. RoPE on q and k at each token's position; append k, v to the cache.
                pool.parallelFor(tokenCount) { range in
                    for t in range {
                        let table = UnsafePointer(rope + t * headDim)
                        RotaryEmbedding.apply(q + t * qDim, heads: c.heads, headDim: headDim, table: table)
                        RotaryEmbedding.apply(k + t * kvDim, heads: c.kvHeads, headDim: headDim, table: table)
                        let sequence = batch.sequences[Int(sequenceOf[t])]
                        let position = Int(positions[t])
                        let block = Int(blockIds[sequence.blockRange.lowerBound + position / kv.blockSize])
                        kv.store(layer: l, block: block, slot: position % kv.blockSize, key: k + t * kvDim, value: v + t * kvDim)
                    }
                }

                // 6. Causal grouped-query attention through the block table, one work item per
                //    (token, KV head): scores [g × (pos+1)] = q·Kᵀ/√d_h, softmax,
                //    attention[t, heads of the group] = scores · V.
                let scale = 1 / Float(headDim).squareRoot()
                pool.parallelFor(tokenCount * c.kvHeads, grain: 1) { range, worker in
                    let scoreRows = scores + worker * group * c.maxSeqLen
                    for item in range {
                        let t = item / c.kvHeads, kvHead = item % c.kvHeads
                        let sequence = batch.sequences[Int(sequenceOf[t])]
                        let table = UnsafeBufferPointer(rebasing: blockIds[sequence.blockRange])
                        let length = Int(positions[t]) + 1
                        let firstHead = kvHead * group
                        kv.attentionScores(layer: l, kvHead: kvHead, queries: q + t * qDim + firstHead * headDim, queryCount: group,
                                           scale: scale, blockTable: table, length: length, scores: scoreRows, scoreStride: c.maxSeqLen)
                        for g in 0..<group { Softmax.apply(scoreRows + g * c.maxSeqLen, count: length) }
                        let out = attention + t * qDim + firstHead * headDim
                        out.update(repeating: 0, count: group * headDim)
                        kv.accumulateValues(layer: l, kvHead: kvHead, weights: scoreRows, weightStride: c.maxSeqLen, queryCount: group,
                                            blockTable: table, length: length, out: out)
                    }
                }

                // 7. Output projection xb2 [T × d] = attention · Woᵀ; residual x += xb2; then the
                //    MLP RMSNorm xb = rmsnorm(x) ⊙ ffnNorm.
                matmul.multiply(attention, rows: tokenCount, MatmulTarget(layer.wo, xb2))
                addResidualAndNormalize(tokenCount, norm: layer.ffnNorm)

                // 8. SwiGLU MLP: gate, up [T × d_ff] = xb · W{1,3}ᵀ; gate = silu(gate) ⊙ up;
                //    xb2 [T × d] = gate · W2ᵀ; residual x += xb2.
                matmul.multiply(xb, rows: tokenCount, MatmulTarget(layer.gate, gate), MatmulTarget(layer.up, up))
                pool.parallelFor(tokenCount) { range in
                    SwiGLU.apply(gate: gate + range.lowerBound * c.hiddenDim, up: up + range.lowerBound * c.hiddenDim,
                                 count: range.count * c.hiddenDim)
                }
                matmul.multiply(gate, rows: tokenCount, MatmulTarget(layer.down, xb2))
                addResidualAndNormalize(tokenCount, norm: nil)
            }
        }

        // 9. Final RMSNorm of the rows that want logits → logitInput [R × d];
        //    logits [R × V] = logitInput · outputᵀ.
        pool.parallelFor(logitRowCount) { range in
            for r in range {
                RMSNorm.apply(x + Int(logitTokens[r]) * dim, weight: weights.finalNorm, epsilon: c.normEpsilon, count: dim,
                              into: logitInput + r * dim)
            }
        }
        matmul.multiply(logitInput, rows: logitRowCount, MatmulTarget(weights.output, logits))
        return Logits(vocabSize: c.vocabSize, rowCount: logitRowCount, sequenceCount: batch.sequences.count,
                      base: logits, offsets: logitOffsets)
    }

    /// x += xb2 for every token; then, if `norm` is given, xb = rmsnorm(x) ⊙ norm.
    private func addResidualAndNormalize(_ tokenCount: Int, norm: UnsafePointer<Float>?) {
        let dim = config.dim, epsilon = config.normEpsilon
        pool.parallelFor(tokenCount) { range in
            for t in range {
                VectorOps.axpy(1, xb2 + t * dim, x + t * dim, count: dim)
                if let norm { RMSNorm.apply(x + t * dim, weight: norm, epsilon: epsilon, count: dim, into: xb + t * dim) }
            }
        }
    }
}
