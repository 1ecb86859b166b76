import Kernels

/// A parsed GGUF file (version 2 or 3), memory-mapped: metadata and tensor directory are
/// decoded; tensor data stays in the mapping and is viewed in place.
///
/// Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count, the metadata
/// key/value pairs, the tensor infos (name, u32 n_dims, u64 ne[n_dims], u32 ggml type,
/// u64 offset), padding to `general.alignment` (default 32), then the data section; each
/// tensor's offset is relative to the data section and a multiple of the alignment.
///
/// Every count and length is bounded by the bytes left in the file before anything is
/// allocated; every tensor must lie inside the data section. Parsing is O(metadata + tensors).
public struct GGUFFile: @unchecked Sendable {
    /// One entry of the tensor directory.
    public struct TensorInfo: Sendable, Equatable {
        public var name: String
        /// GGML dimensions, fastest-varying first (`ne[0]` = row length).
        public var dimensions: [Int]
        /// The raw `ggml_type`.
        public var ggmlType: UInt32
        /// Absolute byte offset of the tensor's data in the file.
        public var fileOffset: Int
        /// Bytes of data, when the type is one this runtime supports.
        public var byteCount: Int?

        /// The storage type, if supported (f32, f16, q4_0, q8_0).
        public var type: TensorType? { TensorType(rawValue: ggmlType) }
        public var elementCount: Int { dimensions.reduce(1, *) }
    }

    public static let magic: UInt32 = 0x4655_4747  // "GGUF" little-endian
    public static let defaultAlignment = 32

    public let path: String
    public let version: UInt32
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Absolute file offset of each metadata value (for error messages).
    public let metadataOffsets: [String: Int]
    /// Tensors in file order.
    public let tensors: [TensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int
    /// The mapping the tensor data lives in.
    public let mapping: MappedFile

    /// Maps and parses `path`. Throws ``ModelLoadError`` for any malformed content.
    public init(path: String) throws(ModelLoadError) {
        try self.init(mapping: MappedFile(path: path))
    }

    public init(mapping: MappedFile) throws(ModelLoadError) {
        self.mapping = mapping
        path = mapping.path
        var c = ByteCursor(base: mapping.base, count: mapping.byteCount, file: mapping.path)
        let magic = try c.read(UInt32.self, "header.magic")
        guard magic == Self.magic else {
            throw c.fail(.badMagic, at: 0, "header.magic",
                         "found 0x\(String(magic, radix: 16)); expected 0x46554747 (\"GGUF\"): not a GGUF file")
        }
        version = try c.read(UInt32.self, "header.version")
        guard version == 2 || version == 3 else {
            throw c.fail(.unsupportedVersion, at: 4, "header.version",
                         "found \(version); expected 2 or 3 (convert the file with a current llama.cpp)")
        }
        // A tensor info takes at least 8 (name) + 4 + 8 (one dim) + 4 + 8 bytes; a metadata pair 8 + 4 + 1.
        let tensorCount = try c.readCount("header.tensor_count", minItemBytes: 32)
        let kvCount = try c.readCount("header.metadata_kv_count", minItemBytes: 13)

        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        var valueOffsets: [String: Int] = [:]
        for i in 0..<kvCount {
            let at = c.offset
            let key = try Self.readString(&c, "metadata[\(i)].key")
            guard values[key] == nil else {
                throw c.fail(.invalidValue, at: at, "metadata \"\(key)\"", "duplicate key; expected each key once")
            }
            let rawType = try c.read(UInt32.self, "metadata \"\(key)\".type")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw c.fail(.wrongType, at: c.offset - 4, "metadata \"\(key)\".type", "found value type \(rawType); expected 0…12")
            }
            valueOffsets[key] = c.offset
            values[key] = try Self.readValue(&c, type: type, field: "metadata \"\(key)\"")
            keys.append(key)
        }
        metadataKeys = keys
        metadata = values
        metadataOffsets = valueOffsets

        var alignment = Self.defaultAlignment
        if let a = values["general.alignment"] {
            guard case .uint32(let v) = a, v > 0, v & (v - 1) == 0 else {
                throw c.fail(.invalidValue, at: valueOffsets["general.alignment"], "metadata \"general.alignment\"",
                             "found \(a); expected a uint32 power of two")
            }
            alignment = Int(v)
        }
        self.alignment = alignment

        var infos: [TensorInfo] = []
        infos.reserveCapacity(tensorCount)
        var names = Set<String>()
        for i in 0..<tensorCount {
            let at = c.offset
            let name = try Self.readString(&c, "tensor[\(i)].name")
            let field = "tensor \"\(name)\""
            guard names.insert(name).inserted else { throw c.fail(.invalidValue, at: at, field, "duplicate tensor name") }
            let nDims = try c.read(UInt32.self, "\(field).n_dims")
            guard (1...4).contains(nDims) else {
                throw c.fail(.invalidValue, at: c.offset - 4, "\(field).n_dims", "found \(nDims); expected 1…4")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let raw = try c.read(UInt64.self, "\(field).ne[\(d)]")
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(clamping: raw))
                guard raw >= 1, raw <= UInt64(mapping.byteCount) * 8, !overflow, product <= mapping.byteCount * 8 else {
                    throw c.fail(.invalidValue, at: c.offset - 8, "\(field).ne[\(d)]",
                                 "found \(raw); expected a dimension ≥ 1 whose tensor fits in the file")
                }
                dims.append(Int(raw))
                elements = product
            }
            let ggmlType = try c.read(UInt32.self, "\(field).type")
            let relative = try c.read(UInt64.self, "\(field).offset")
            guard relative % UInt64(alignment) == 0, relative <= UInt64(mapping.byteCount) else {
                throw c.fail(.outOfBounds, at: c.offset - 8, "\(field).offset",
                             "found \(relative); expected a multiple of the alignment \(alignment) inside the file")
            }
            var byteCount: Int?
            if let t = TensorType(rawValue: ggmlType) {
                guard dims[0] % t.blockSize == 0 else {
                    throw c.fail(.invalidValue, at: at, "\(field).ne[0]",
                                 "row length \(dims[0]) is not a multiple of the \(t) block size \(t.blockSize)")
                }
                byteCount = elements / t.blockSize * t.bytesPerBlock
            }
            infos.append(TensorInfo(name: name, dimensions: dims, ggmlType: ggmlType, fileOffset: Int(relative), byteCount: byteCount))
        }
        let dataOffset = (c.offset + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset
        for i in infos.indices {
            infos[i].fileOffset += dataOffset
            let t = infos[i]
            let end = t.fileOffset + (t.byteCount ?? 0)
            guard end <= mapping.byteCount else {
                throw ModelLoadError(.outOfBounds, file: path, offset: t.fileOffset, field: "tensor \"\(t.name)\"",
                                     detail: "data [\(t.fileOffset), \(end)) extends past the end of the file (\(mapping.byteCount) bytes); the file is truncated or corrupt")
            }
        }
        tensors = infos
    }

    /// The tensor called `name`, if present.
    public func tensor(_ name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// Address of a tensor's data inside the mapping.
    public func data(of tensor: TensorInfo) -> UnsafeRawPointer { mapping.base + tensor.fileOffset }

    // MARK: Decoding

    static func readString(_ c: inout ByteCursor, _ field: @autoclosure () -> String) throws(ModelLoadError) -> String {
        let n = try c.readCount(field() + ".length", minItemBytes: 1)
        try c.require(n, for: field())
        let s = String(decoding: UnsafeRawBufferPointer(start: c.base + c.offset, count: n), as: UTF8.self)
        c.offset += n
        return s
    }

    static func readValue(_ c: inout ByteCursor, type: GGUFValueType, field: String,
                          nested: Bool = false) throws(ModelLoadError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try c.read(UInt8.self, field))
        case .int8: return .int8(try c.read(Int8.self, field))
        case .uint16: return .uint16(try c.read(UInt16.self, field))
        case .int16: return .int16(try c.read(Int16.self, field))
        case .uint32: return .uint32(try c.read(UInt32.self, field))
        case .int32: return .int32(try c.read(Int32.self, field))
        case .float32: return .float32(try c.readFloat(field))
        case .uint64: return .uint64(try c.read(UInt64.self, field))
        case .int64: return .int64(try c.read(Int64.self, field))
        case .float64: return .float64(try c.readDouble(field))
        case .bool:
            let at = c.offset
            let b = try c.read(UInt8.self, field)
            guard b <= 1 else { throw c.fail(.invalidValue, at: at, field, "found bool byte \(b); expected 0 or 1") }
            return .bool(b == 1)
        case .string: return .string(try readString(&c, field))
        case .array:
            let at = c.offset
            let raw = try c.read(UInt32.self, field + ".element_type")
            guard let element = GGUFValueType(rawValue: raw), !(nested && element == .array) else {
                throw c.fail(.wrongType, at: at, field + ".element_type", "found value type \(raw); expected 0…12 (arrays of arrays are not supported)")
            }
            let count = try c.readCount(field + ".count", minItemBytes: element.minimumBytes)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for i in 0..<count {
                items.append(try readValue(&c, type: element, field: "\(field)[\(i)]", nested: true))
            }
            return .array(element, items)
        }
    }
}
