/// Bounds-checked little-endian reads from a mapped file. Every read checks the remaining
/// length first and throws ``ModelLoadError`` (`.truncated`) naming the field, so a malformed
/// or truncated file can never make the loader read out of bounds or trap.
struct ByteCursor {
    let base: UnsafeRawPointer
    let count: Int
    let file: String
    /// Byte offset of the next read.
    var offset: Int

    init(base: UnsafeRawPointer, count: Int, file: String, offset: Int = 0) {
        self.base = base
        self.count = count
        self.file = file
        self.offset = offset
    }

    var remaining: Int { count - offset }

    /// Throws unless `n` more bytes are available for `field`.
    func require(_ n: Int, for field: @autoclosure () -> String) throws(ModelLoadError) {
        guard n >= 0, n <= remaining else {
            throw ModelLoadError(.truncated, file: file, offset: offset, field: field(),
                                 detail: "needs \(n) bytes but the file ends after \(remaining); the file is truncated or corrupt")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws(ModelLoadError) -> T {
        try require(MemoryLayout<T>.size, for: field())
        let v = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return v
    }

    mutating func readFloat(_ field: @autoclosure () -> String) throws(ModelLoadError) -> Float {
        Float(bitPattern: try read(UInt32.self, field()))
    }

    mutating func readDouble(_ field: @autoclosure () -> String) throws(ModelLoadError) -> Double {
        Double(bitPattern: try read(UInt64.self, field()))
    }

    /// `n` raw bytes.
    mutating func readBytes(_ n: Int, _ field: @autoclosure () -> String) throws(ModelLoadError) -> [UInt8] {
        try require(n, for: field())
        let bytes = Array(UnsafeRawBufferPointer(start: base + offset, count: n))
        offset += n
        return bytes
    }

    /// A count read as UInt64 that must fit what is left in the file when every item takes at
    /// least `minItemBytes` bytes (so nothing is ever allocated from an unchecked header field).
    mutating func readCount(_ field: @autoclosure () -> String, minItemBytes: Int) throws(ModelLoadError) -> Int {
        let at = offset
        let raw = try read(UInt64.self, field())
        let limit = UInt64(remaining / max(1, minItemBytes))
        guard raw <= limit else {
            throw ModelLoadError(.invalidValue, file: file, offset: at, field: field(),
                                 detail: "count \(raw) cannot fit in the \(remaining) bytes left in the file (at most \(limit))")
        }
        return Int(raw)
    }

    func fail(_ kind: ModelLoadError.Kind, at: Int? = nil, _ field: String, _ detail: String) -> ModelLoadError {
        ModelLoadError(kind, file: file, offset: at ?? offset, field: field, detail: detail)
    }
}
