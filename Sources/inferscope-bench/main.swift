import Foundation

// inferscope-bench SUBCOMMAND [flags]: each subcommand lives in <Name>Bench.swift.
let arguments = Array(CommandLine.arguments.dropFirst())
let subcommands: [String: ([String]) -> Int32] = [
    "spec": SpecBench.run,
]
guard let name = arguments.first, let run = subcommands[name] else {
    FileHandle.standardError.write(Data("usage: inferscope-bench \(subcommands.keys.sorted().joined(separator: "|")) [flags] [--json]\n".utf8))
    exit(2)
}
exit(run(Array(arguments.dropFirst())))
