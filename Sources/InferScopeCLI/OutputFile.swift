#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TraceFormat

/// The rules every command that writes a file follows: never overwrite a file InferScope did not
/// write (a user's data stays theirs), and never leave a half-written file behind (write a
/// temporary sibling, then rename it over the target in one step).
enum OutputFile {
    /// What InferScope writes, recognised by the first bytes of an existing file.
    enum Kind {
        case trace
        case htmlReport

        func isOurs(_ head: [UInt8]) -> Bool {
            let text = String(decoding: head, as: UTF8.self)
            switch self {
            case .trace: return text.hasPrefix("[") && text.contains("\"schema\":\"\(RunHeader.schemaName)\"")
            case .htmlReport: return text.hasPrefix("<!DOCTYPE html>") && text.contains("<title>InferScope")
            }
        }

        var noun: String {
            switch self {
            case .trace: return "an InferScope trace"
            case .htmlReport: return "an InferScope report"
            }
        }
    }

    /// Throws when `path` exists and is not a file of `kind` written earlier by InferScope
    /// (those are replaced, as re-running a command is expected to). An empty file counts as ours.
    static func checkReplaceable(_ path: String, as kind: Kind, shownAs shown: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // does not exist: fine
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CommandFailure("\(shown): exists and is not a regular file; choose another output path")
        }
        guard info.st_size > 0 else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CommandFailure("\(shown): exists and cannot be read (\(String(cString: strerror(errno)))); choose another output path") }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 1024)
        let n = read(fd, &head, head.count)
        guard n > 0, kind.isOurs(Array(head[..<n])) else {
            throw CommandFailure("\(shown): exists and is not \(kind.noun); refusing to overwrite it. Choose another output path, or delete the file first")
        }
    }

    /// Writes `text` to `path` atomically: a temporary file in the same directory, then rename(2).
    static func writeAtomically(_ text: String, to path: String, shownAs shown: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CommandFailure("\(shown): cannot create (\(String(cString: strerror(errno))))") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw CommandFailure("\(shown): write failed (\(reason))")
            }
            offset += n
        }
        guard close(fd) == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CommandFailure("\(shown): cannot write (\(reason))")
        }
    }

    /// The temporary sibling a streamed output (a server's trace) is written to before
    /// ``commit(_:to:shownAs:)`` renames it over `path`.
    static func temporaryPath(for path: String) -> String { path + ".tmp-\(getpid())" }

    /// Renames a finished temporary file over `path` in one step.
    static func commit(_ temporary: String, to path: String, shownAs shown: String) throws {
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CommandFailure("\(shown): cannot write (\(reason))")
        }
    }
}
