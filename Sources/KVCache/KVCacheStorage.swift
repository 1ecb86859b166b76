import Kernels

/// Why a KV storage could not be created.
public enum KVCacheStorageError: Error, Equatable, CustomStringConvertible {
    /// A size argument was out of range.
    case invalidShape(field: String, value: Int, expected: String)

    public var description: String {
        switch self {
        case let .invalidShape(field, value, expected):
            return "KVCacheStorage: \(field) = \(value) is invalid; expected \(expected)"
        }
    }
}

/// The memory of a paged KV cache: for K and for V, a tensor of
/// `layers × blockCount × blockSize × kvDim` elements in `dtype`'s row layout (see
/// ``KVDType``). One block holds `blockSize` consecutive positions of one sequence in every
/// layer. Which blocks belong to which sequence (free list, ref counts, block tables, prefix
/// hashing) is the allocator's business; this storage knows only block ids.
///
/// Addressing: the row of (layer l, block b, slot s) starts at byte
/// `((l · blockCount + b) · blockSize + s) · rowBytes` of the K (or V) allocation, where
/// `rowBytes = dtype.rowBytes(elements: kvDim)`. Head `h` of a row is elements
/// `h·headDim ..< (h+1)·headDim`.
///
/// Slots never written hold unspecified bytes; readers only read positions below the
/// `length` they are given.
public final class KVCacheStorage: @unchecked Sendable {
    public let layers: Int
    public let blockCount: Int
    /// Positions per block.
    public let blockSize: Int
    /// Elements of one cached row: kvHeads · headDim.
    public let kvDim: Int
    public let headDim: Int
    public let dtype: KVDType
    /// Bytes of one cached row (one token, one layer, K or V).
    public let rowBytes: Int
    /// Bytes of one block in one layer of K (or of V).
    public let layerBlockBytes: Int

    private let keys: UnsafeMutableRawPointer
    private let values: UnsafeMutableRawPointer

    /// Allocates `2 · layers · blockCount · blockSize · rowBytes` bytes (uninitialized; pages
    /// are touched only when written).
    public init(layers: Int, kvHeads: Int, headDim: Int, blockSize: Int, blockCount: Int, dtype: KVDType) throws(KVCacheStorageError) {
        guard layers > 0 else { throw .invalidShape(field: "layers", value: layers, expected: "> 0") }
        guard kvHeads > 0 else { throw .invalidShape(field: "kvHeads", value: kvHeads, expected: "> 0") }
        guard headDim > 0, headDim % dtype.elementsPerGroup == 0 else {
            throw .invalidShape(field: "headDim", value: headDim,
                                expected: "a positive multiple of \(dtype.elementsPerGroup) for KV type \(dtype)")
        }
        guard blockSize > 0 else { throw .invalidShape(field: "blockSize", value: blockSize, expected: "> 0") }
        guard blockCount > 0 else { throw .invalidShape(field: "blockCount", value: blockCount, expected: "> 0") }
        self.layers = layers
        self.blockCount = blockCount
        self.blockSize = blockSize
        self.kvDim = kvHeads * headDim
        self.headDim = headDim
        self.dtype = dtype
        self.rowBytes = dtype.rowBytes(elements: kvDim)
        self.layerBlockBytes = blockSize * rowBytes
        let total = layers * blockCount * layerBlockBytes
        keys = .allocate(byteCount: total, alignment: 64)
        values = .allocate(byteCount: total, alignment: 64)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes one block occupies over all layers, K and V: `2 · layers · blockSize · rowBytes`.
    public var bytesPerBlock: Int { 2 * layers * layerBlockBytes }

    /// Bytes of the whole storage.
    public var totalBytes: Int { blockCount * bytesPerBlock }

    /// Bytes a block would take for a model shape, before creating any storage (for sizing
    /// a cache from a memory budget).
    public static func bytesPerBlock(layers: Int, kvHeads: Int, headDim: Int, blockSize: Int, dtype: KVDType) -> Int {
        2 * layers * blockSize * dtype.rowBytes(elements: kvHeads * headDim)
    }

    @inline(__always)
    private func blockOffset(layer: Int, block: Int) -> Int {
        precondition(layer >= 0 && layer < layers && block >= 0 && block < blockCount,
                     "KVCacheStorage: (layer \(layer), block \(block)) out of range (\(layers) layers, \(blockCount) blocks)")
        return (layer * blockCount + block) * layerBlockBytes
    }

    /// Address of the K row of (layer, block, slot).
    @inline(__always)
    public func keyRow(layer: Int, block: Int, slot: Int) -> UnsafeMutableRawPointer {
        keys + blockOffset(layer: layer, block: block) + slot * rowBytes
    }

    /// Address of the V row of (layer, block, slot).
    @inline(__always)
    public func valueRow(layer: Int, block: Int, slot: Int) -> UnsafeMutableRawPointer {
        values + blockOffset(layer: layer, block: block) + slot * rowBytes
    }

    // MARK: - Writing

    /// Stores one token's key and value (`kvDim` floats each) at (layer, block, slot),
    /// encoding them in `dtype`. - Complexity: O(kvDim).
    public func store(layer: Int, block: Int, slot: Int, key: UnsafePointer<Float>, value: UnsafePointer<Float>) {
        precondition(slot >= 0 && slot < blockSize, "KVCacheStorage.store: slot \(slot) outside 0..<\(blockSize)")
        dtype.encode(key, count: kvDim, into: keyRow(layer: layer, block: block, slot: slot))
        dtype.encode(value, count: kvDim, into: valueRow(layer: layer, block: block, slot: slot))
    }

    /// Copies block `source` onto block `destination` in every layer, K and V (copy-on-write
    /// of a shared prefix block). - Complexity: O(bytesPerBlock).
    public func copyBlock(from source: Int, to destination: Int) {
        guard source != destination else { return }
        for layer in 0..<layers {
            let from = blockOffset(layer: layer, block: source), to = blockOffset(layer: layer, block: destination)
            (keys + to).copyMemory(from: keys + from, byteCount: layerBlockBytes)
            (values + to).copyMemory(from: values + from, byteCount: layerBlockBytes)
        }
    }

    /// Copies block `block`'s bytes over all layers into `buffer` (at least `bytesPerBlock`
    /// bytes), for swapping out, offloading or handing off. Layout of the copy: for each
    /// layer, the K bytes then the V bytes of the block. - Complexity: O(bytesPerBlock).
    public func readBlock(_ block: Int, into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= bytesPerBlock, "KVCacheStorage.readBlock: buffer of \(buffer.count) bytes < \(bytesPerBlock)")
        let base = buffer.baseAddress!
        for layer in 0..<layers {
            let offset = blockOffset(layer: layer, block: block)
            (base + 2 * layer * layerBlockBytes).copyMemory(from: keys + offset, byteCount: layerBlockBytes)
            (base + (2 * layer + 1) * layerBlockBytes).copyMemory(from: values + offset, byteCount: layerBlockBytes)
        }
    }

    /// Overwrites block `block` in all layers with bytes produced by ``readBlock(_:into:)``.
    /// - Complexity: O(bytesPerBlock).
    public func writeBlock(_ block: Int, from buffer: UnsafeRawBufferPointer) {
        precondition(buffer.count >= bytesPerBlock, "KVCacheStorage.writeBlock: buffer of \(buffer.count) bytes < \(bytesPerBlock)")
        let base = buffer.baseAddress!
        for layer in 0..<layers {
            let offset = blockOffset(layer: layer, block: block)
            (keys + offset).copyMemory(from: base + 2 * layer * layerBlockBytes, byteCount: layerBlockBytes)
            (values + offset).copyMemory(from: base + (2 * layer + 1) * layerBlockBytes, byteCount: layerBlockBytes)
        }
    }
}
