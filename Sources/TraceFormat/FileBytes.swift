#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads for small files (goldens, fixtures, headers) without Foundation.
public enum FileBytes {
    /// Why a file could not be read: the failed operation ("open" or "read") and the system's reason.
    public struct ReadError: Error, Sendable, Equatable {
        public var operation: String
        public var reason: String
    }

    /// The bytes of the file at `path`: sized from fstat and read in one pass, then read on for
    /// files whose size stat does not report (pipes). O(file size) time and memory. For large
    /// traces use `TraceReader`, which streams.
    public static func load(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(operation: "open", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        let size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        var bytes = [UInt8](repeating: 0, count: max(size, 0))
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(operation: "read", reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
        }
        bytes.removeLast(bytes.count - filled)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// The bytes of the file at `path`, or nil when it cannot be opened or read.
    public static func contents(of path: String) -> [UInt8]? { try? load(path) }

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
