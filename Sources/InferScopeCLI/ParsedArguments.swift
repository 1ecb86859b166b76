/// The arguments of one command invocation, parsed and checked against its ``CommandSpec``.
/// Asking for a name the spec does not declare is a programming error (it traps).
public struct ParsedArguments: Sendable {
    public let spec: CommandSpec
    private var positionals: [String: [String]] = [:]
    private var optionValues: [String: [String]] = [:]
    private var flags: Set<String> = []
    /// Whether `-h`/`--help` was given (the framework prints help instead of running).
    public private(set) var helpRequested = false

    /// Parses `tokens` (the words after the command name). O(tokens × options).
    public init(spec: CommandSpec, tokens: [String]) throws(UsageError) {
        self.spec = spec
        var positional: [String] = []
        var index = 0
        var optionsEnded = false
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            if optionsEnded || !Self.looksLikeOption(token) {
                positional.append(token)
                continue
            }
            if token == "--" {
                optionsEnded = true
                continue
            }
            if token == "--help" || token == "-h" {
                helpRequested = true
                continue
            }
            var name = token
            var inlineValue: String?
            if token.hasPrefix("--"), let eq = token.firstIndex(of: "=") {
                name = String(token[..<eq])
                inlineValue = String(token[token.index(after: eq)...])
            }
            guard let option = spec.options.first(where: { $0.name == name || $0.short == name }) else {
                let candidates = spec.options.map(\.name) + ["--help"]
                throw UsageError("unknown option '\(name)' for '\(spec.name)'",
                                 hint: Suggestions.didYouMean(name, among: candidates))
            }
            switch option.kind {
            case .flag:
                guard inlineValue == nil else { throw UsageError("option '\(option.name)' is a flag and takes no value") }
                flags.insert(option.name)
            case .value(let placeholder):
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < tokens.count else {
                        throw UsageError("option '\(option.name)' needs a value (\(placeholder))")
                    }
                    value = tokens[index]
                    index += 1
                }
                if !option.repeatable && optionValues[option.name] != nil {
                    throw UsageError("option '\(option.name)' given twice")
                }
                optionValues[option.name, default: []].append(value)
            }
        }
        if helpRequested { return }
        try assignPositionals(positional)
    }

    private mutating func assignPositionals(_ values: [String]) throws(UsageError) {
        var remaining = values[...]
        for argument in spec.arguments {
            if argument.variadic {
                positionals[argument.name] = Array(remaining)
                if remaining.isEmpty && !argument.optional {
                    throw UsageError("missing argument \(argument.name)")
                }
                remaining = []
            } else if let first = remaining.first {
                positionals[argument.name] = [first]
                remaining = remaining.dropFirst()
            } else if !argument.optional {
                throw UsageError("missing argument \(argument.name)")
            }
        }
        if let extra = remaining.first {
            throw UsageError("unexpected argument '\(extra)' for '\(spec.name)'")
        }
    }

    /// An option-like token: starts with "-" and is not "-" or a negative number.
    private static func looksLikeOption(_ token: String) -> Bool {
        guard token.hasPrefix("-"), token.count > 1 else { return false }
        let second = token[token.index(after: token.startIndex)]
        return !(second.isNumber || second == ".")
    }

    // MARK: - Access

    /// A required positional argument (or an optional one that is known to be present).
    public func argument(_ name: String) throws(UsageError) -> String {
        guard let value = optionalArgument(name) else { throw UsageError("missing argument \(name)") }
        return value
    }

    /// An optional positional argument.
    public func optionalArgument(_ name: String) -> String? {
        precondition(spec.arguments.contains { $0.name == name }, "'\(spec.name)' declares no argument \(name)")
        return positionals[name]?.first
    }

    /// All values of a variadic positional argument.
    public func arguments(_ name: String) -> [String] {
        precondition(spec.arguments.contains { $0.name == name }, "'\(spec.name)' declares no argument \(name)")
        return positionals[name] ?? []
    }

    /// Whether a flag was given.
    public func flag(_ name: String) -> Bool {
        precondition(spec.options.contains { $0.name == name && $0.kind == .flag }, "'\(spec.name)' declares no flag \(name)")
        return flags.contains(name)
    }

    /// The value of an option (the last one given), or its default, or nil.
    public func value(_ name: String) -> String? {
        guard let option = spec.options.first(where: { $0.name == name }), option.kind != .flag else {
            preconditionFailure("'\(spec.name)' declares no value option \(name)")
        }
        return optionValues[name]?.last ?? option.defaultValue
    }

    /// Whether the option was given on the command line (not just defaulted).
    public func isGiven(_ name: String) -> Bool { optionValues[name] != nil || flags.contains(name) }

    /// All values given for a repeatable option, in order (the default if none).
    public func values(_ name: String) -> [String] {
        optionValues[name] ?? value(name).map { [$0] } ?? []
    }

    /// An option's value as an integer; a usage error names the option if it is not one.
    public func int(_ name: String) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let v = Int(text) else { throw UsageError("option '\(name)' expects an integer, found '\(text)'") }
        return v
    }

    /// An option's value as a number; a usage error names the option if it is not one.
    public func double(_ name: String) throws(UsageError) -> Double? {
        guard let text = value(name) else { return nil }
        guard let v = Double(text), v.isFinite else { throw UsageError("option '\(name)' expects a number, found '\(text)'") }
        return v
    }
}
