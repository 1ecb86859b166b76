import Testing
import TraceFormat
@testable import InferScopeCLI

/// A command that echoes what it parsed (for testing the framework, not registered).
private struct EchoCommand: Command {
    let spec: CommandSpec
    init(_ name: String = "echo") {
        spec = CommandSpec(
            name: name, abstract: "Echo the parsed arguments.",
            arguments: [ArgumentSpec("FIRST", help: "First."), ArgumentSpec("REST", help: "Others.", optional: true, variadic: true)],
            options: [.flag("--loud", short: "-l", help: "Loud."),
                      .value("--count", short: "-n", "N", help: "How many.", default: "3"),
                      .value("--tag", "T", help: "A tag.", repeatable: true),
                      .value("--rate", "R", help: "A rate.")])
    }
    func run(_ a: ParsedArguments, _ c: CommandContext) throws -> ExitCode {
        let count = try a.int("--count")!
        let rate = try a.double("--rate")
        c.stdout.write("\(spec.name) first=\(try a.argument("FIRST")) rest=\(a.arguments("REST")) loud=\(a.flag("--loud")) "
                       + "count=\(count) tags=\(a.values("--tag")) rate=\(rate.map { "\($0)" } ?? "nil")\n")
        if a.flag("--loud") && count == 0 { throw CommandFailure("nothing to shout") }
        return .success
    }
}

private let testCommands: [any Command] = [EchoCommand(), EchoCommand("model export"), EchoCommand("model import")]

@Suite struct CLIFrameworkTests {
    func run(_ args: [String]) -> CLIRun { runCLI(args, commands: testCommands) }

    @Test func parsesPositionalsFlagsAndOptionValues() {
        #expect(run(["echo", "a", "b", "c", "--loud", "-n", "5", "--tag=x", "--tag", "y", "--rate", "-2.5"]).stdout
                == "echo first=a rest=[\"b\", \"c\"] loud=true count=5 tags=[\"x\", \"y\"] rate=-2.5\n")
        #expect(run(["echo", "a"]).stdout == "echo first=a rest=[] loud=false count=3 tags=[] rate=nil\n")
        // After "--" everything is positional, and a negative number is never an option.
        #expect(run(["echo", "--", "--loud", "-3"]).stdout
                == "echo first=--loud rest=[\"-3\"] loud=false count=3 tags=[] rate=nil\n")
    }

    @Test func subcommandsDispatchOnTheLongestMatch() {
        #expect(run(["model", "export", "x"]).stdout.hasPrefix("model export first=x"))
        #expect(run(["model", "import", "y"]).stdout.hasPrefix("model import first=y"))
        let group = run(["model", "--help"])
        #expect(group.exit == .success)
        #expect(group.stdout.contains("  model export  Echo the parsed arguments.\n"))
        let missing = run(["model"])
        #expect(missing.exit == .usage)
        #expect(missing.stderr.hasPrefix("error: 'model' needs a subcommand\n"))
        let typo = run(["model", "exprot"])
        #expect(typo == CLIRun(exit: .usage, stdout: "", stderr: """
            error: unknown subcommand 'model exprot'
            hint: did you mean 'export'?
            Run 'inferscope model --help' for its subcommands.

            """))
    }

    @Test func usageErrorsExitTwoWithAHint() {
        #expect(run(["echo", "a", "--lound"]) == CLIRun(exit: .usage, stdout: "", stderr: """
            error: unknown option '--lound' for 'echo'
            hint: did you mean '--loud'?
            usage: inferscope echo [--loud] [--count N] [--tag T]... [--rate R] FIRST [REST...]
            Run 'inferscope echo --help' for details.

            """))
        #expect(run(["echo"]).stderr.hasPrefix("error: missing argument FIRST\n"))
        #expect(run(["echo", "a", "--count"]).stderr.hasPrefix("error: option '--count' needs a value (N)\n"))
        #expect(run(["echo", "a", "--count", "x"]).stderr.hasPrefix("error: option '--count' expects an integer, found 'x'\n"))
        #expect(run(["echo", "a", "--count", "1", "--count", "2"]).stderr.hasPrefix("error: option '--count' given twice\n"))
        #expect(run(["echo", "a", "--loud=yes"]).stderr.hasPrefix("error: option '--loud' is a flag and takes no value\n"))
        #expect(run(["echo", "a", "--rate", "fast"]).exit == .usage)
        #expect(run(["ehco"]).stderr == "error: unknown command 'ehco'\nhint: did you mean 'echo'?\nRun 'inferscope --help' for the list of commands.\n")
        #expect(run(["zzzzzz"]).stderr == "error: unknown command 'zzzzzz'\nRun 'inferscope --help' for the list of commands.\n")
        #expect(run(["--verison"]).stderr.hasPrefix("error: unknown option '--verison'\nhint: did you mean '--version'?\n"))
        #expect(run([]).exit == .usage)
    }

    @Test func failuresExitOne() {
        #expect(run(["echo", "a", "--loud", "-n", "0"]) == CLIRun(
            exit: .failure, stdout: "echo first=a rest=[] loud=true count=0 tags=[] rate=nil\n",
            stderr: "error: nothing to shout\n"))
    }

    @Test func helpForEveryCommand() {
        let help = run(["echo", "--help"])
        #expect(help == CLIRun(exit: .success, stdout: """
            USAGE: inferscope echo [--loud] [--count N] [--tag T]... [--rate R] FIRST [REST...]

            Echo the parsed arguments.

            ARGUMENTS:
              FIRST          First.
              REST...        Others.

            OPTIONS:
              -l, --loud     Loud.
              -n, --count N  How many. (default: 3)
              --tag T        A tag. (repeatable)
              --rate R       A rate.
              -h, --help     Show this help.

            """, stderr: ""))
        #expect(run(["help", "echo"]) == help)
        #expect(run(["echo", "-h", "--bogus"]).exit == .usage)  // unknown options still fail
        for command in CommandRegistry.all {
            let result = runCLI(command.spec.words + ["--help"])
            #expect(result.exit == .success)
            #expect(result.stdout.hasPrefix("USAGE: inferscope \(command.spec.name)"))
        }
    }

    @Test func editDistance() {
        #expect(EditDistance.between("validate", "validate") == 0)
        #expect(EditDistance.between("valdate", "validate") == 1)
        #expect(EditDistance.between("vaildate", "validate") == 1)  // transposition
        #expect(EditDistance.between("", "abc") == 3)
        #expect(EditDistance.between("kitten", "sitting") == 3)
        #expect(Suggestions.didYouMean("--strct", among: ["--strict", "--help"]) == "did you mean '--strict'?")
        #expect(Suggestions.didYouMean("ab", among: ["cd"]) == nil)
    }
}
