import Foundation

// inferscope-bench SUBCOMMAND [flags]: each subcommand lives in <Name>Bench.swift.
let arguments = Array(CommandLine.arguments.dropFirst())
let subcommands: [String: ([String]) -> Int32] = [
    "runtime": RuntimeBench.run,
]
guard let name = arguments.first, let run = subcommands[name] else {
    let names = subcommands.keys.sorted().joined(separator: "|")
    FileHandle.standardError.write(Data("usage: inferscope-bench \(names) [flags] [--json]\n".utf8))
    exit(2)
}
exit(run(Array(arguments.dropFirst())))
