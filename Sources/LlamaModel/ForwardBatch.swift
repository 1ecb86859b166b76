/// Which positions of a sequence's slice of a step produce logits.
public enum LogitsRequest: Sendable, Equatable {
    /// None (a prefill chunk that is not the last one).
    case none
    /// Only the last new position (end of a prefill; a decode token).
    case last
    /// Every new position (speculative verification, perplexity).
    case all
}

/// The input of one batched forward step: new tokens of several sequences back to back, and
/// for each sequence where its tokens sit, how many of its positions are already cached, the
/// KV blocks that hold its positions, and which logits it wants.
///
/// A reusable value: call ``removeAll()`` and append again each step; arrays keep their
/// capacity, so steady-state steps do not allocate.
public struct ForwardBatch: Sendable {
    /// One sequence's slice of the step.
    public struct Sequence: Sendable, Equatable {
        /// Indices of this sequence's new tokens in ``ForwardBatch/tokens``.
        public var tokenRange: Range<Int>
        /// Positions already in the KV cache; the new tokens take positions
        /// `startPosition ..< startPosition + tokenRange.count`.
        public var startPosition: Int
        /// Indices of this sequence's block ids in ``ForwardBatch/blockIds``. The blocks
        /// cover positions `0 ..< blockTable.count · blockSize`, at least through the last
        /// new position.
        public var blockRange: Range<Int>
        public var logits: LogitsRequest

        /// Number of logit rows this sequence produces.
        public var logitRows: Int {
            switch logits {
            case .none: return 0
            case .last: return tokenRange.isEmpty ? 0 : 1
            case .all: return tokenRange.count
            }
        }
    }

    /// Token ids of all sequences, back to back.
    public private(set) var tokens: [Int32] = []
    public private(set) var sequences: [Sequence] = []
    /// Block tables of all sequences, back to back.
    public private(set) var blockIds: [Int32] = []

    public init() {}

    /// Drops every sequence, keeping the arrays' capacity.
    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        blockIds.removeAll(keepingCapacity: true)
    }

    /// Appends a sequence's new tokens. `blockTable` lists the KV block ids holding its
    /// positions 0, blockSize, 2·blockSize, …
    public mutating func append(tokens newTokens: some Collection<Int32>, startPosition: Int,
                                blockTable: some Collection<Int32>, logits: LogitsRequest) {
        let tokenStart = tokens.count, blockStart = blockIds.count
        tokens.append(contentsOf: newTokens)
        blockIds.append(contentsOf: blockTable)
        sequences.append(Sequence(tokenRange: tokenStart..<tokens.count, startPosition: startPosition,
                                  blockRange: blockStart..<blockIds.count, logits: logits))
    }

    /// The block table of sequence `index`.
    public func blockTable(of index: Int) -> ArraySlice<Int32> { blockIds[sequences[index].blockRange] }

    /// Logit rows the whole step produces.
    public var logitRows: Int { sequences.reduce(0) { $0 + $1.logitRows } }
}

/// The logits of a step: rows in sequence order (each sequence's rows in position order).
/// A view into the transformer's buffer, valid until its next `forward`.
public struct Logits: @unchecked Sendable {
    public let vocabSize: Int
    /// Rows over all sequences.
    public let rowCount: Int
    public let sequenceCount: Int
    @usableFromInline let base: UnsafePointer<Float>
    /// `sequenceCount + 1` prefix offsets into the rows.
    @usableFromInline let offsets: UnsafePointer<Int32>

    init(vocabSize: Int, rowCount: Int, sequenceCount: Int, base: UnsafePointer<Float>, offsets: UnsafePointer<Int32>) {
        self.vocabSize = vocabSize
        self.rowCount = rowCount
        self.sequenceCount = sequenceCount
        self.base = base
        self.offsets = offsets
    }

    /// Row `index` (`vocabSize` floats).
    @inlinable
    public func row(_ index: Int) -> UnsafeBufferPointer<Float> {
        precondition(index >= 0 && index < rowCount, "Logits: row \(index) outside 0..<\(rowCount)")
        return UnsafeBufferPointer(start: base + index * vocabSize, count: vocabSize)
    }

    /// The rows of sequence `index` of the batch (empty when it asked for none).
    @inlinable
    public func rows(ofSequence index: Int) -> Range<Int> {
        precondition(index >= 0 && index < sequenceCount, "Logits: sequence \(index) outside 0..<\(sequenceCount)")
        return Int(offsets[index])..<Int(offsets[index + 1])
    }
}
