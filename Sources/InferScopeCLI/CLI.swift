#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TraceFormat

/// The `inferscope` command line: finds the command named by the leading words, parses its
/// arguments, runs it, and turns errors into messages and exit codes
/// (0 success, 1 failure, 2 usage). Runs in-process with an injected ``CommandContext``.
public enum CLI {
    /// Runs `arguments` (without the program name). Never exits the process.
    public static func run(_ arguments: [String], context: CommandContext,
                           commands: [any Command] = CommandRegistry.all) -> ExitCode {
        let context = context.escapingControlCharacters()
        guard let first = arguments.first else {
            context.stderr.write(HelpFormatter.overview(commands))
            return .usage
        }
        switch first {
        case "--help", "-h":
            context.stdout.write(HelpFormatter.overview(commands))
            return .success
        case "--version":
            context.stdout.write("inferscope \(ToolVersion.current)\n")
            return .success
        case "help":
            return run(Array(arguments.dropFirst()) + ["--help"], context: context, commands: commands)
        default:
            break
        }

        if let command = longestMatch(arguments, commands) {
            let tokens = Array(arguments.dropFirst(command.spec.words.count))
            return execute(command, tokens, context)
        }

        // A group of subcommands ("model") without a valid subcommand.
        let groupCommands = commands.filter { $0.spec.words.count > 1 && $0.spec.words[0] == first }
        if !groupCommands.isEmpty {
            let rest = arguments.dropFirst()
            if rest.first == "--help" || rest.first == "-h" {
                context.stdout.write(HelpFormatter.overview(commands, group: [first]))
                return .success
            }
            guard let sub = rest.first else {
                context.stderr.write("error: '\(first)' needs a subcommand\n")
                context.stderr.write(HelpFormatter.overview(commands, group: [first]))
                return .usage
            }
            let names = groupCommands.filter { !$0.spec.hidden }.map { $0.spec.words[1] }
            return usageFailure(UsageError("unknown subcommand '\(first) \(sub)'",
                                           hint: Suggestions.didYouMean(sub, among: names)),
                                usage: "Run 'inferscope \(first) --help' for its subcommands.", context)
        }

        let topLevel = Set(commands.filter { !$0.spec.hidden }.map { $0.spec.words[0] })
        if first.hasPrefix("-") {
            return usageFailure(UsageError("unknown option '\(first)'",
                                           hint: Suggestions.didYouMean(first, among: ["--help", "--version"])),
                                usage: "Run 'inferscope --help' for the list of commands.", context)
        }
        return usageFailure(UsageError("unknown command '\(first)'",
                                       hint: Suggestions.didYouMean(first, among: topLevel.sorted())),
                            usage: "Run 'inferscope --help' for the list of commands.", context)
    }

    /// The process entry point for `main.swift`: runs with the real process context and exits.
    public static func main() -> Never {
        let code = run(Array(CommandLine.arguments.dropFirst()), context: .process())
        exit(code.rawValue)
    }

    /// The command whose words are the longest prefix of `arguments`.
    private static func longestMatch(_ arguments: [String], _ commands: [any Command]) -> (any Command)? {
        var best: (any Command)?
        for command in commands {
            let words = command.spec.words
            guard arguments.starts(with: words) else { continue }
            if words.count > (best?.spec.words.count ?? 0) { best = command }
        }
        return best
    }

    private static func execute(_ command: any Command, _ tokens: [String], _ context: CommandContext) -> ExitCode {
        let usage = "usage: \(HelpFormatter.usageLine(command.spec))\nRun 'inferscope \(command.spec.name) --help' for details."
        do {
            let parsed = try ParsedArguments(spec: command.spec, tokens: tokens)
            if parsed.helpRequested {
                context.stdout.write(HelpFormatter.help(command.spec))
                return .success
            }
            return try command.run(parsed, context)
        } catch let error as UsageError {
            return usageFailure(error, usage: usage, context)
        } catch let error as CommandFailure {
            context.stderr.write(errorLine(error.message))
            return error.exitCode
        } catch {
            context.stderr.write(errorLine("\(error)"))
            return .failure
        }
    }

    /// "error: message\n", without doubling a prefix the message already has ("error: error: …").
    static func errorLine(_ message: String) -> String {
        var m = Substring(message)
        while m.lowercased().hasPrefix("error:") { m = m.dropFirst(6).drop { $0 == " " } }
        return "error: \(m)\n"
    }

    private static func usageFailure(_ error: UsageError, usage: String, _ context: CommandContext) -> ExitCode {
        var text = errorLine(error.message)
        if let hint = error.hint { text += "hint: \(hint)\n" }
        context.stderr.write(text + usage + "\n")
        return .usage
    }
}
