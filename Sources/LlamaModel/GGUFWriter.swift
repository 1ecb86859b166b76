#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels

/// Writes GGUF version 3 files: metadata in the given order, then the tensor directory, then
/// each tensor's bytes padded to `alignment`. The file is written under a temporary name and
/// renamed into place, so a failed write leaves no partial output. O(bytes written).
public struct GGUFWriter {
    public struct Tensor {
        public var name: String
        /// GGML dimensions, fastest-varying first.
        public var dimensions: [Int]
        public var type: TensorType
        /// The stored bytes (`type.rowBytes(cols: dimensions[0]) · rows`).
        public var data: UnsafeRawBufferPointer

        public init(name: String, dimensions: [Int], type: TensorType, data: UnsafeRawBufferPointer) {
            precondition(data.count == type.rowBytes(cols: dimensions[0]) * dimensions.dropFirst().reduce(1, *),
                         "tensor \(name): \(data.count) bytes do not match its shape \(dimensions) in \(type)")
            self.name = name
            self.dimensions = dimensions
            self.type = type
            self.data = data
        }
    }

    public var metadata: [(String, GGUFValue)]
    public var tensors: [Tensor]
    public var alignment: Int

    /// `general.alignment` is added to the metadata when `alignment` is not GGUF's default 32.
    public init(metadata: [(String, GGUFValue)], tensors: [Tensor], alignment: Int = GGUFFile.defaultAlignment) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = alignment
        if alignment != GGUFFile.defaultAlignment, !metadata.contains(where: { $0.0 == "general.alignment" }) {
            self.metadata.append(("general.alignment", .uint32(UInt32(alignment))))
        }
    }

    /// Writes the file to `path`. Throws ``ModelLoadError`` (`.io`) if it cannot be written.
    public func write(to path: String) throws(ModelLoadError) {
        var header: [UInt8] = []
        header.append(contentsOf: le(GGUFFile.magic))
        header.append(contentsOf: le(UInt32(3)))
        header.append(contentsOf: le(UInt64(tensors.count)))
        header.append(contentsOf: le(UInt64(metadata.count)))
        for (key, value) in metadata {
            appendString(key, to: &header)
            header.append(contentsOf: le(value.type.rawValue))
            append(value, to: &header)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            appendString(t.name, to: &header)
            header.append(contentsOf: le(UInt32(t.dimensions.count)))
            for d in t.dimensions { header.append(contentsOf: le(UInt64(d))) }
            header.append(contentsOf: le(t.type.rawValue))
            header.append(contentsOf: le(UInt64(offset)))
            offsets.append(offset)
            offset = padded(offset + t.data.count)
        }
        header.append(contentsOf: [UInt8](repeating: 0, count: padded(header.count) - header.count))

        let temporary = path + ".partial"
        guard let f = fopen(temporary, "wb") else { throw ioError(path, "cannot create \(temporary)") }
        var ok = fwrite(header, 1, header.count, f) == header.count
        let zeros = [UInt8](repeating: 0, count: alignment)
        for t in tensors where ok {
            ok = fwrite(t.data.baseAddress!, 1, t.data.count, f) == t.data.count
            let pad = padded(t.data.count) - t.data.count
            if ok && pad > 0 { ok = fwrite(zeros, 1, pad, f) == pad }
        }
        ok = (fclose(f) == 0) && ok
        guard ok, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ioError(path, "write failed: \(reason)")
        }
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    private func ioError(_ path: String, _ detail: String) -> ModelLoadError {
        ModelLoadError(.io, file: path, field: "file", detail: detail)
    }

    private func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    private func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(contentsOf: le(UInt64(s.utf8.count)))
        out.append(contentsOf: s.utf8)
    }

    private func append(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): out.append(v)
        case .int8(let v): out.append(UInt8(bitPattern: v))
        case .uint16(let v): out.append(contentsOf: le(v))
        case .int16(let v): out.append(contentsOf: le(v))
        case .uint32(let v): out.append(contentsOf: le(v))
        case .int32(let v): out.append(contentsOf: le(v))
        case .float32(let v): out.append(contentsOf: le(v.bitPattern))
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let s): appendString(s, to: &out)
        case .uint64(let v): out.append(contentsOf: le(v))
        case .int64(let v): out.append(contentsOf: le(v))
        case .float64(let v): out.append(contentsOf: le(v.bitPattern))
        case .array(let type, let items):
            out.append(contentsOf: le(type.rawValue))
            out.append(contentsOf: le(UInt64(items.count)))
            for item in items {
                precondition(item.type == type, "GGUF array of \(type) holds a \(item.type)")
                append(item, to: &out)
            }
        }
    }
}
