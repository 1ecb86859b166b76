#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads for small files (goldens, fixtures, headers) without Foundation.
public enum FileBytes {
    /// The bytes of the file at `path`, or nil when it cannot be opened. Reads in 64 KiB chunks;
    /// O(file size) time and memory. For large traces use `TraceReader`, which streams.
    public static func contents(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// At most the first `count` bytes of the file at `path` (fewer for a shorter file), or nil
    /// when it cannot be opened. O(count).
    public static func prefix(of path: String, count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            filled += n
        }
        bytes.removeLast(count - filled)
        return bytes
    }

    /// The file at `path` as UTF-8 text (invalid sequences repaired), or nil when it cannot be opened.
    public static func text(of path: String) -> String? {
        contents(of: path).map { String(decoding: $0, as: UTF8.self) }
    }
}
