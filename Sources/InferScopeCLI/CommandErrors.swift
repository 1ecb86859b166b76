/// The command line was wrong: exit 2, the message, a hint, and the command's usage line.
public struct UsageError: Error, Sendable, Equatable {
    public var message: String
    /// "Did you mean '--strict'?" or another short hint, printed after the message.
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

/// The command ran and failed: exit 1 with `error: <message>` on stderr.
public struct CommandFailure: Error, Sendable, Equatable {
    public var message: String
    /// 1 (a finding: invalid trace, failed gate, unreadable file) unless a command needs another.
    public var exitCode: ExitCode
    public init(_ message: String, exitCode: ExitCode = .failure) {
        self.message = message
        self.exitCode = exitCode
    }
}
