/// A subcommand of `inferscope`. To add one: write `<Name>Command.swift` with a type conforming
/// to `Command`, and add an instance to ``CommandRegistry/all``. The framework parses the
/// arguments against ``spec`` (so `run` only sees valid input), prints help, and maps errors
/// to exit codes.
///
///     struct HelloCommand: Command {
///         let spec = CommandSpec(
///             name: "hello", abstract: "Print a greeting.",
///             arguments: [.init("NAME", help: "Who to greet.")],
///             options: [.flag("--loud", help: "Shout.")])
///         func run(_ args: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
///             let name = try args.argument("NAME")
///             context.stdout.write("hello, \(args.flag("--loud") ? name.uppercased() : name)\n")
///             return .success
///         }
///     }
public protocol Command: Sendable {
    var spec: CommandSpec { get }
    /// Runs the command. Throw ``UsageError`` for bad input the parser could not catch
    /// (exit 2) and ``CommandFailure`` for a failure to report (exit 1); or return a code.
    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode
}

/// A process exit status.
public struct ExitCode: RawRepresentable, Sendable, Equatable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// 0: the command did its job.
    public static let success = ExitCode(0)
    /// 1: the command ran and failed (invalid trace, I/O error, gate failed…).
    public static let failure = ExitCode(1)
    /// 2: the command line was wrong (unknown command or option, missing argument).
    public static let usage = ExitCode(2)

    public var description: String { "\(rawValue)" }
}

/// What a command accepts: its name, help text, positional arguments and options.
public struct CommandSpec: Sendable {
    /// The words that select the command: "validate", or "model export" for a subcommand.
    public var name: String
    /// One sentence for the command list and the top of the help.
    public var abstract: String
    /// Further paragraphs for `--help` (optional).
    public var discussion: String
    public var arguments: [ArgumentSpec]
    public var options: [OptionSpec]
    /// Hidden commands (internal tools, test helpers) are not listed in `inferscope --help`.
    public var hidden: Bool

    public init(name: String, abstract: String, discussion: String = "", arguments: [ArgumentSpec] = [],
                options: [OptionSpec] = [], hidden: Bool = false) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.arguments = arguments
        self.options = options
        self.hidden = hidden
    }

    /// The command's words: ["model", "export"].
    public var words: [String] { name.split(separator: " ").map(String.init) }
}

/// A positional argument.
public struct ArgumentSpec: Sendable {
    /// Upper-case placeholder, e.g. "TRACE"; also the key for ``ParsedArguments/argument(_:)``.
    public var name: String
    public var help: String
    public var optional: Bool
    /// Takes all remaining positional arguments (must be last).
    public var variadic: Bool

    public init(_ name: String, help: String, optional: Bool = false, variadic: Bool = false) {
        self.name = name
        self.help = help
        self.optional = optional
        self.variadic = variadic
    }
}

/// A named option: a flag (`--strict`) or an option with a value (`--out FILE`, `--out=FILE`).
public struct OptionSpec: Sendable {
    public enum Kind: Sendable, Equatable {
        case flag
        /// Takes a value shown as `placeholder` in help.
        case value(placeholder: String)
    }

    /// Long name with dashes: "--strict".
    public var name: String
    /// Optional short name: "-o".
    public var short: String?
    public var kind: Kind
    public var help: String
    /// The default, shown in help ("default: 16"); nil when there is none.
    public var defaultValue: String?
    /// May be given more than once (values collected in order).
    public var repeatable: Bool
    /// Also takes the words after its value up to the next option (`--baseline A1 A2 A3`);
    /// implies repeatable.
    public var greedy: Bool = false

    public init(name: String, short: String? = nil, kind: Kind, help: String, defaultValue: String? = nil,
                repeatable: Bool = false) {
        self.name = name
        self.short = short
        self.kind = kind
        self.help = help
        self.defaultValue = defaultValue
        self.repeatable = repeatable
    }

    public static func flag(_ name: String, short: String? = nil, help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, kind: .flag, help: help)
    }

    public static func value(_ name: String, short: String? = nil, _ placeholder: String, help: String,
                             default defaultValue: String? = nil, repeatable: Bool = false) -> OptionSpec {
        OptionSpec(name: name, short: short, kind: .value(placeholder: placeholder), help: help,
                   defaultValue: defaultValue, repeatable: repeatable)
    }

    /// An option taking one or more values: `--baseline A1 A2 A3` (and `--baseline A1 --baseline A2`).
    public static func values(_ name: String, _ placeholder: String, help: String) -> OptionSpec {
        var o = OptionSpec(name: name, kind: .value(placeholder: placeholder), help: help, repeatable: true)
        o.greedy = true
        return o
    }
}
