/// A bench subcommand's command-line error: the message names the flag and what it expected.
struct BenchUsageError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A cursor over a bench subcommand's arguments, shared by the benches' `parse` functions:
/// `next()` yields each flag, `value(flag)` and `positive(flag)` consume the flag's value.
struct BenchArguments {
    private let arguments: [String]
    private var index = -1

    init(_ arguments: [String]) { self.arguments = arguments }

    /// The next flag, or nil at the end.
    mutating func next() -> String? {
        index += 1
        return index < arguments.count ? arguments[index] : nil
    }

    /// The value following `flag`.
    mutating func value(_ flag: String) throws(BenchUsageError) -> String {
        index += 1
        guard index < arguments.count else { throw BenchUsageError(message: "\(flag) needs a value") }
        return arguments[index]
    }

    /// The positive integer following `flag`.
    mutating func positive(_ flag: String) throws(BenchUsageError) -> Int {
        let text = try value(flag)
        guard let n = Int(text), n > 0 else { throw BenchUsageError(message: "\(flag) expects a positive integer, got '\(text)'") }
        return n
    }
}
