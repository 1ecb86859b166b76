import Kernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory that owns weights the runtime generated or converted, 64-byte aligned. From 2 MiB
/// on it is ``HugePageMemory`` (2 MiB aligned, advised for transparent huge pages before the
/// first touch, so a decode step streams the weights without a TLB miss every 4 KiB); smaller
/// buffers (converted norm vectors) come from the heap, so each does not claim a 2 MiB page.
/// Kept alive by ``ModelWeights`` (its `owners`); freed when the model is released.
public final class WeightBuffer: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int
    /// The mapping behind `base` for large buffers; nil when `base` is a heap allocation.
    private let memory: HugePageMemory?

    /// Allocates `byteCount` uninitialized bytes.
    public init(byteCount: Int) {
        self.byteCount = byteCount
        if byteCount >= HugePageMemory.hugePageBytes {
            let memory = HugePageMemory(byteCount: byteCount)
            self.memory = memory
            base = memory.base
        } else {
            memory = nil
            base = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        }
    }

    deinit { if memory == nil { base.deallocate() } }
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
        #if os(Linux)
        // Ask for huge pages as for WeightBuffer. For a file this takes effect only where the
        // kernel maps page-cache folios of 2 MiB (file systems with large folios, or
        // CONFIG_READ_ONLY_THP_FOR_FS through khugepaged); otherwise it is a no-op.
        _ = madvise(p, size, MADV_HUGEPAGE)
        #endif
        base = UnsafeRawPointer(p)
        byteCount = size
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), byteCount) }
}
