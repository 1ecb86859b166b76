#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte-aligned heap allocation that owns weights the runtime generated or converted.
/// Kept alive by ``ModelWeights`` (its `owners`); freed when the model is released.
public final class WeightBuffer: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int

    /// Allocates `byteCount` uninitialized bytes, aligned to 64 bytes.
    public init(byteCount: Int) {
        self.byteCount = byteCount
        base = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
    }

    deinit { base.deallocate() }
}

/// A whole file mapped read-only into memory (`mmap`, private, read-only). Pages are loaded
/// on first touch by the kernel; nothing is copied. Unmapped when released.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let byteCount: Int

    /// Maps `path`. Throws ``ModelLoadError`` (`.io`) if it cannot be opened, is empty or
    /// cannot be mapped.
    public init(path: String) throws(ModelLoadError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ModelLoadError(.io, file: path, field: "file", detail: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ModelLoadError(.io, file: path, field: "file", detail: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ModelLoadError(.io, file: path, field: "file", detail: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            throw ModelLoadError(.truncated, file: path, offset: 0, field: "file", detail: "file is empty; expected a model file")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelLoadError(.io, file: path, field: "file", detail: "cannot map \(size) bytes: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
        byteCount = size
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), byteCount) }
}
