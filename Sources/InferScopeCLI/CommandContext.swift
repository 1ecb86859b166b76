#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where a command writes text. Implementations are thread-safe.
public protocol TextOutput: Sendable {
    func write(_ text: String)
}

/// A file descriptor (stdout, stderr), written unbuffered with `write(2)`.
public struct FileDescriptorOutput: TextOutput {
    public let fd: Int32
    public init(fd: Int32) { self.fd = fd }
    public static let standardOutput = FileDescriptorOutput(fd: 1)
    public static let standardError = FileDescriptorOutput(fd: 2)

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }
}

/// Collects output in memory (tests).
public final class CapturedOutput: TextOutput {
    private let buffer = Mutex("")
    public init() {}
    public func write(_ text: String) { buffer.withLock { $0 += text } }
    /// Everything written so far.
    public var text: String { buffer.withLock { $0 } }
}

/// What a command may touch of its process: output streams, environment, working directory.
/// Injected, so commands run in-process in tests.
public struct CommandContext: Sendable {
    public var stdout: any TextOutput
    public var stderr: any TextOutput
    public var environment: [String: String]
    /// Relative paths given on the command line are resolved against it.
    public var workingDirectory: String

    public init(stdout: any TextOutput, stderr: any TextOutput, environment: [String: String],
                workingDirectory: String) {
        self.stdout = stdout
        self.stderr = stderr
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// The real process: fd 1 and 2, `environ`, `getcwd`.
    public static func process() -> CommandContext {
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let eq = pair.firstIndex(of: "=") {
                environment[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            entry += 1
        }
        var cwd = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let directory = getcwd(&cwd, cwd.count) != nil ? String(decoding: cwd.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "."
        return CommandContext(stdout: FileDescriptorOutput.standardOutput, stderr: FileDescriptorOutput.standardError,
                              environment: environment, workingDirectory: directory)
    }

    /// `path` if absolute, else `workingDirectory/path`.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return workingDirectory.hasSuffix("/") ? workingDirectory + path : workingDirectory + "/" + path
    }
}
