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
    ///   every position < `maxContext`, every block table covers its sequence's
    ///   positions, `kv` was made for this model's shape.
    /// - Returns: logits valid until the next call.
    /// - Complexity: O(N·T + h·d_h·Σ context) FLOPs (`ModelDescriptor.forwardCost`).
    public func forward(_ batch: ForwardBatch, kv: KVCacheStorage) -> Logits {
        let c = config
        let tokenCount = batch.tokens.count
        let dim = c.dim, qDim = c.heads * c.headDim, kvDim = c.kvDim, headDim = c.headDim
        precondition(tokenCount <= maxBatchTokens, "Transformer.forward: \(tokenCount) tokens > maxBatchTokens \(maxBatchTokens)")
        precondition(kv.layers == c.layers && kv.kvDim == kvDim && kv.headDim == headDim,
                     "Transformer.forward: KV storage shape (\(kv.layers) layers, kvDim \(kv.kvDim)) does not match the model")

        stepCounter += 1
        // 1. Per-token bookkeeping: position, owning sequence, RoPE table; logit rows.
        if profiling { phaseStart = HostProbe.now() }
        var logitRowCount = 0
        for (s, sequence) in batch.sequences.enumerated() {
            let end = sequence.startPosition + sequence.tokenRange.count
            precondition(end <= maxContext, "Transformer.forward: sequence \(s) reaches position \(end) > maxContext \(maxContext)")
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
        mark(.embedding)

        batch.blockIds.withUnsafeBufferPointer { blockIds in
            for (l, layer) in weights.layers.enumerated() {
                // 3. Attention RMSNorm: xb [T × d] = rmsnorm(x) ⊙ attentionNorm.
                pool.parallelFor(tokenCount) { range in
                    for t in range {
                        RMSNorm.apply(x + t * dim, weight: layer.attentionNorm, epsilon: c.normEpsilon, count: dim, into: xb + t * dim)
                    }
                }
                mark(.attentionNorm)

                // 4. Projections: q [T × h·d_h], k [T × kvDim], v [T × kvDim] = xb · W{q,k,v}ᵀ.
                matmul.multiply(xb, rows: tokenCount, MatmulTarget(layer.wq, q), MatmulTarget(layer.wk, k), MatmulTarget(layer.wv, v))
                mark(.qkvProjection)

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
                mark(.ropeAndCacheWrite)

                // 6. Causal grouped-query attention through the block table:
                //    attention[t, head] = softmax(q[t, head] · K[0...pos_t]ᵀ / √d_h) · V[0...pos_t].
                attend(batch, layer: l, kv: kv, blockIds: blockIds)
                mark(.attention)

                // 7. Output projection xb2 [T × d] = attention · Woᵀ; residual x += xb2; then the
                //    MLP RMSNorm xb = rmsnorm(x) ⊙ ffnNorm.
                matmul.multiply(attention, rows: tokenCount, MatmulTarget(layer.wo, xb2))
                mark(.outputProjection)
                addResidualAndNormalize(tokenCount, norm: layer.ffnNorm)
                mark(.ffnNorm)

                // 8. SwiGLU MLP: gate, up [T × d_ff] = xb · W{1,3}ᵀ; gate = silu(gate) ⊙ up;
                //    xb2 [T × d] = gate · W2ᵀ; residual x += xb2.
                matmul.multiply(xb, rows: tokenCount, MatmulTarget(layer.gate, gate), MatmulTarget(layer.up, up))
                mark(.gateUpProjection)
                pool.parallelFor(tokenCount) { range in
                    SwiGLU.apply(gate: gate + range.lowerBound * c.hiddenDim, up: up + range.lowerBound * c.hiddenDim,
                                 count: range.count * c.hiddenDim)
                }
                mark(.swiglu)
                matmul.multiply(gate, rows: tokenCount, MatmulTarget(layer.down, xb2))
                mark(.downProjection)
                addResidualAndNormalize(tokenCount, norm: nil)
                mark(.residual)
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
        mark(.lmHead)
        return Logits(vocabSize: c.vocabSize, rowCount: logitRowCount, sequenceCount: batch.sequences.count,
                      base: logits, offsets: logitOffsets)
    }

    /// Step 6: attention of every new token's query heads over its sequence's cached
    /// positions (itself included). Work items are tiles of up to 6 query rows of one
    /// (sequence, KV head), rows ordered token-major then query head of the group; a worker
    /// packs the (sequence, KV head)'s keys and values once and reuses them for the tiles it
    /// takes next. Pure decode batches and heads whose width is not a multiple of 16 use the
    /// row-by-row readers (one item per token and KV head, the group's queries together).
    private func attend(_ batch: ForwardBatch, layer l: Int, kv: KVCacheStorage, blockIds: UnsafeBufferPointer<Int32>) {
        let c = config, headDim = c.headDim, qDim = c.heads * headDim, group = c.heads / c.kvHeads
        let scale = 1 / Float(headDim).squareRoot()
        // Row by row when heads are not a multiple of 16 wide, or when every sequence brings
        // fewer than 6 query rows per KV head (pure decode): packing a head's whole context
        // for one or two query rows costs more than reading it once.
        var decodeOnly = true
        for sequence in batch.sequences where sequence.tokenRange.count * group >= 6 { decodeOnly = false; break }
        if headDim % 16 != 0 || decodeOnly {
            let tokenCount = batch.tokens.count
            pool.parallelFor(tokenCount * c.kvHeads, grain: 1) { range, worker in
                let scoreRows = tileScores + worker * max(6, group) * scoreStride
                for item in range {
                    let t = item / c.kvHeads, kvHead = item % c.kvHeads
                    let sequence = batch.sequences[Int(sequenceOf[t])]
                    let table = UnsafeBufferPointer(rebasing: blockIds[sequence.blockRange])
                    let length = Int(positions[t]) + 1
                    let firstHead = kvHead * group
                    kv.attentionScores(layer: l, kvHead: kvHead, queries: q + t * qDim + firstHead * headDim, queryCount: group,
                                       scale: scale, blockTable: table, length: length, scores: scoreRows, scoreStride: scoreStride)
                    for g in 0..<group { Softmax.apply(scoreRows + g * scoreStride, count: length) }
                    let out = attention + t * qDim + firstHead * headDim
                    out.update(repeating: 0, count: group * headDim)
                    kv.accumulateValues(layer: l, kvHead: kvHead, weights: scoreRows, weightStride: scoreStride, queryCount: group,
                                        blockTable: table, length: length, out: out)
                }
            }
            return
        }
        // Tiles per sequence: kvHeads · ⌈tokens · g / 6⌉.
        var items = 0
        for (s, sequence) in batch.sequences.enumerated() {
            tilePrefix[s] = Int32(items)
            items += c.kvHeads * ((sequence.tokenRange.count * group + 5) / 6)
        }
        tilePrefix[batch.sequences.count] = Int32(items)
        let step = stepCounter
        let sequenceCount = batch.sequences.count
        pool.parallelFor(items, grain: 1) { range, worker in
            let state = workerState + worker * Transformer.workerStateStride
            let lengths = state, tag = state + 6
            let keys = packedKeys + worker * paddedContext * headDim, values = packedValues + worker * paddedContext * headDim
            let scores = tileScores + worker * 6 * scoreStride
            let queries = tileQueries + worker * 6 * headDim, outputs = tileOutputs + worker * 6 * headDim
            for item in range {
                // Locate (sequence, KV head, tile) of this item.
                var lo = 0, hi = sequenceCount - 1
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if Int(tilePrefix[mid]) <= item { lo = mid } else { hi = mid - 1 }
                }
                let s = lo, sequence = batch.sequences[s]
                let tiles = (sequence.tokenRange.count * group + 5) / 6
                let local = item - Int(tilePrefix[s])
                let kvHead = local / tiles, tile = local % tiles
                let end = sequence.startPosition + sequence.tokenRange.count
                if tag[0] != step || tag[1] != l || tag[2] != s || tag[3] != kvHead {
                    kv.packHead(layer: l, kvHead: kvHead, blockTable: UnsafeBufferPointer(rebasing: blockIds[sequence.blockRange]),
                                length: end, keys: keys, values: values)
                    tag[0] = step; tag[1] = l; tag[2] = s; tag[3] = kvHead
                }
                // Gather the tile's query rows (scaled), attend, scatter the outputs.
                let firstRow = tile * 6, rows = min(6, sequence.tokenRange.count * group - firstRow)
                for r in 0..<rows {
                    let i = (firstRow + r) / group, head = kvHead * group + (firstRow + r) % group
                    let t = sequence.tokenRange.lowerBound + i
                    lengths[r] = sequence.startPosition + i + 1
                    let source = q + t * qDim + head * headDim, destination = queries + r * headDim
                    for d in 0..<headDim { destination[d] = source[d] * scale }
                }
                AttentionKernel.attend(queries: queries, rows: rows, headDim: headDim, lengths: lengths, packedKeys: keys,
                                       packedValues: values, paddedLength: KVCacheStorage.paddedLength(end), scores: scores,
                                       scoreStride: scoreStride, out: outputs)
                for r in 0..<rows {
                    let i = (firstRow + r) / group, head = kvHead * group + (firstRow + r) % group
                    let t = sequence.tokenRange.lowerBound + i
                    (attention + t * qDim + head * headDim).update(from: outputs + r * headDim, count: headDim)
                }
            }
        }
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
