#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Anonymous memory for bulk data that is streamed (model weights, bandwidth probe buffers):
/// mapped at a 2 MiB boundary and advised for transparent huge pages before the first touch.
///
/// Why: a decode step reads ~4 GB of weights once. With 4 KiB pages every 4 KiB is a TLB miss
/// (the L2 TLB covers ~12 MB) and a boundary the hardware prefetchers do not cross; with 2 MiB
/// pages both go away. Linux backs the range with huge pages when
/// `/sys/kernel/mm/transparent_hugepage/enabled` is `always` or `madvise`; with `never` (or on
/// macOS) this is ordinary page-aligned memory. The bandwidth probe and the weights use this
/// same allocation, so the probe measures memory in the state the decode reads it.
///
/// Pages are not touched here: whoever fills the memory first places it (and, on Linux,
/// decides whether huge pages are available at that moment).
public final class HugePageMemory: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let byteCount: Int
    /// Whether `madvise(MADV_HUGEPAGE)` was accepted for the range.
    public let hugePagesAdvised: Bool

    /// The huge-page size this allocation aligns to, bytes.
    public static let hugePageBytes = 2 << 20

    private let mapping: UnsafeMutableRawPointer
    private let mappingBytes: Int

    /// Maps `byteCount` bytes (rounded up to whole huge pages), 2 MiB aligned.
    /// - Precondition: the mapping succeeds (failure means the address space or memory is exhausted).
    public init(byteCount: Int) {
        let huge = HugePageMemory.hugePageBytes
        let rounded = (max(byteCount, 1) + huge - 1) / huge * huge
        self.byteCount = byteCount
        mappingBytes = rounded + huge
        let raw = mmap(nil, mappingBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let raw, raw != MAP_FAILED else {
            preconditionFailure("HugePageMemory: cannot map \(mappingBytes) bytes: \(String(cString: strerror(errno)))")
        }
        mapping = raw
        let aligned = (Int(bitPattern: raw) + huge - 1) / huge * huge
        base = UnsafeMutableRawPointer(bitPattern: aligned)!
        #if os(Linux)
        hugePagesAdvised = madvise(base, rounded, MADV_HUGEPAGE) == 0
        #else
        hugePagesAdvised = false
        #endif
    }

    deinit { munmap(mapping, mappingBytes) }

    /// Bytes of `region` that are resident in huge pages right now, from `/proc/self/smaps`
    /// (the `AnonHugePages` and `FilePmdMapped` lines of every mapping that overlaps it, counted
    /// in proportion to the overlap); nil where that file does not exist.
    /// - Complexity: O(mappings of the process); reads a /proc file (milliseconds).
    public static func residentHugePageBytes(in region: UnsafeRawBufferPointer) -> Int? {
        guard let file = fopen("/proc/self/smaps", "r"), let start = region.baseAddress else { return nil }
        defer { fclose(file) }
        let lo = UInt(bitPattern: Int(bitPattern: start)), hi = lo + UInt(region.count)
        var overlap: (UInt, UInt)? = nil  // (overlap bytes, mapping bytes) of the current mapping
        var total = 0.0
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            if let dash = text.firstIndex(of: "-"), let space = text.firstIndex(of: " "), dash < space,
               let from = UInt(text[..<dash], radix: 16), let to = UInt(text[text.index(after: dash)..<space], radix: 16) {
                let a = max(from, lo), b = min(to, hi)
                overlap = a < b ? (b - a, to - from) : nil
            } else if let (shared, size) = overlap, text.hasPrefix("AnonHugePages:") || text.hasPrefix("FilePmdMapped:") {
                let kilobytes = Double(text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0)
                total += kilobytes * 1024 * Double(shared) / Double(size)
            }
        }
        return Int(total)
    }
}
