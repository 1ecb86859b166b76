import Kernels

/// Why draft weights could not be derived from a target.
public struct DerivedWeightsError: Error, Equatable, CustomStringConvertible {
    /// The derivation's argument that was out of range ("layers", "type").
    public var field: String
    public var value: String
    public var expected: String

    public var description: String {
        "derived draft weights: \(field) = \(value) is invalid; expected \(expected)"
    }
}

/// Self-speculation drafts derived from a target model's weights (no second checkpoint).
extension ModelWeights {
    /// The early-exit draft: the first `k` decoder layers, then this model's final norm and LM
    /// head, as a model with `config.layers = k`. Views into this model's memory (nothing is
    /// copied; the result keeps `self` alive). O(k).
    public func earlyExit(layers k: Int) throws(DerivedWeightsError) -> ModelWeights {
        guard k >= 1 && k <= config.layers else {
            throw DerivedWeightsError(field: "layers", value: "\(k)",
                                      expected: "1...\(config.layers) (the target has \(config.layers) layers), e.g. early-exit:\(max(1, config.layers / 2))")
        }
        var c = config
        c.layers = k
        return ModelWeights(config: c, weightType: weightType, tokenEmbedding: tokenEmbedding, layers: Array(layers.prefix(k)),
                            finalNorm: finalNorm, output: output, owners: [self])
    }

    /// The QuantSpec-style self-draft: every weight matrix re-quantized to `type` (default
    /// q4_0; rows are decoded to f32 then quantized with ``Quantization``), norms shared with
    /// this model. A tied LM head stays tied. One new buffer of the quantized size; the result
    /// keeps `self` alive for the norms. O(parameters).
    public func requantized(to type: TensorType = .q4_0) throws(DerivedWeightsError) -> ModelWeights {
        let matrices = [tokenEmbedding, output] + layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.gate, $0.up, $0.down] }
        if let bad = matrices.first(where: { $0.cols % type.blockSize != 0 }) {
            throw DerivedWeightsError(field: "type", value: type.description,
                                      expected: "a type whose block size divides every row (a matrix has \(bad.cols) columns, not a multiple of \(type.blockSize))")
        }
        // Layout: each matrix 64-byte aligned in one buffer.
        var offsets: [Int] = []
        var total = 0
        for m in matrices {
            offsets.append(total)
            total += (type.rowBytes(cols: m.cols) * m.rows + 63) / 64 * 64
        }
        let buffer = WeightBuffer(byteCount: total)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: matrices.map(\.cols).max() ?? 1)
        defer { scratch.deallocate() }
        var converted: [WeightMatrix] = []
        for (m, offset) in zip(matrices, offsets) {
            let destination = buffer.base + offset
            let rowBytes = type.rowBytes(cols: m.cols)
            // A tied head is the embedding matrix itself: convert it once.
            if m.base == tokenEmbedding.base && !converted.isEmpty {
                converted.append(converted[0])
                continue
            }
            for r in 0..<m.rows {
                Quantization.dequantize(m.row(r), count: m.cols, from: m.type, into: scratch)
                Quantization.quantize(scratch, count: m.cols, to: type, into: destination + r * rowBytes)
            }
            converted.append(WeightMatrix(type: type, rows: m.rows, cols: m.cols, base: UnsafeRawPointer(destination)))
        }
        let newLayers = layers.enumerated().map { l, layer in
            let base = 2 + 7 * l
            return LayerWeights(attentionNorm: layer.attentionNorm, wq: converted[base], wk: converted[base + 1],
                                wv: converted[base + 2], wo: converted[base + 3], ffnNorm: layer.ffnNorm,
                                gate: converted[base + 4], up: converted[base + 5], down: converted[base + 6])
        }
        return ModelWeights(config: config, weightType: type, tokenEmbedding: converted[0], layers: newLayers,
                            finalNorm: finalNorm, output: converted[1], owners: [self, buffer])
    }
}
