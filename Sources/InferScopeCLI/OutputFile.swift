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
        case junit
        case gateSummary
        case markdown

        func isOurs(_ head: [UInt8]) -> Bool {
            let text = String(decoding: head, as: UTF8.self)
            switch self {
            case .trace: return text.hasPrefix("[") && text.contains("\"schema\":\"\(RunHeader.schemaName)\"")
            case .htmlReport: return text.hasPrefix("<!DOCTYPE html>") && text.contains("<title>InferScope")
            case .junit: return text.hasPrefix("<?xml") && text.contains("<testsuites name=\"inferscope")
            case .gateSummary: return text.contains("### InferScope gate:")
            case .markdown: return text.hasPrefix("# InferScope") || text.hasPrefix("### InferScope")
            }
        }

        var noun: String {
            switch self {
            case .trace: return "an InferScope trace"
            case .htmlReport: return "an InferScope report"
            case .junit: return "an InferScope JUnit report"
            case .gateSummary: return "an InferScope gate summary"
            case .markdown: return "an InferScope Markdown report"
            }
        }
    }

    /// Appends `text` to `path` (created if missing) in one write(2) with O_APPEND.
    static func append(_ text: String, to path: String, shownAs shown: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CommandFailure("\(shown): cannot open for appending (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { throw CommandFailure("\(shown): write failed (\(String(cString: strerror(errno))))") }
            offset += n
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

/// An output file produced over time (a recorded trace, an import): written as `NAME.partial.json`
/// and renamed over `NAME` in one step when complete, so `NAME` only ever holds a whole result.
/// A run interrupted by SIGINT/SIGTERM or a crash leaves its partial trace in `NAME.partial.json`
/// (readable: ``TraceReader`` and every judging command report it as an incomplete run) and never
/// touches an existing `NAME`. Reusable by any command writing a trace (`profile`, `sweep`,
/// `import`, a server's `--trace`).
struct StagedOutputFile {
    /// The final path (resolved) and as the user wrote it.
    let target: String
    let shown: String
    /// Where the data goes until ``commit()``.
    let partial: String
    let shownPartial: String

    /// Checks that neither `target` nor its partial sibling is a file InferScope did not write.
    init(target: String, shownAs shown: String, kind: OutputFile.Kind = .trace) throws {
        self.target = target
        self.shown = shown
        partial = Self.partialPath(target)
        shownPartial = Self.partialPath(shown)
        try OutputFile.checkReplaceable(target, as: kind, shownAs: shown)
        try OutputFile.checkReplaceable(partial, as: kind, shownAs: shownPartial)
    }

    /// `run.json` → `run.partial.json`; `run` → `run.partial.json`.
    static func partialPath(_ path: String) -> String {
        (path.hasSuffix(".json") ? String(path.dropLast(5)) : path) + ".partial.json"
    }

    /// Renames the partial file over the target (atomic on one file system).
    func commit() throws {
        guard rename(partial, target) == 0 else {
            throw CommandFailure("\(shown): cannot move \(shownPartial) into place (\(String(cString: strerror(errno))))")
        }
    }

    /// Removes the partial file (the input was bad: nothing worth keeping).
    func discard() { unlink(partial) }
}
