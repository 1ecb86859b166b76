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
    public init(_ message: String) { self.message = message }
}
