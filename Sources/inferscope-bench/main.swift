#if canImport(Glibc)
import Glibc
#endif

// inferscope-bench <subcommand> [options] — each subcommand lives in `<Name>Bench.swift` and
// is listed here once: name, one-line description, entry point (arguments after the name →
// exit code). Run them in release: `swift run -c release inferscope-bench trace [--json]`.

let subcommands: [(name: String, abstract: String, run: ([String]) -> Int32)] = [
    ("serving", "Serving techniques vs their baselines: batching, paged KV, KV dtypes, chunked prefill, disaggregation, tracing cost.", ServingBench.run),
    ("trace", "Recorder ns/event and allocations/event, reader MB/s vs a Python json.loads loop.", TraceBench.run),
    ("runtime", "pp512/tg128 tokens/s of the presets in f32/q8_0 vs the host's roofline and llama.cpp.", RuntimeBench.run),
    ("spec", "Speculative decoding per draft strategy: measured α, c, τ, speedup vs predicted.", SpecBench.run),
    ("serve", "The endpoint client's cost: streamed chunks/s it times on one core, per-chunk timestamp/framing cost.", ServeBench.run),
]

@MainActor func usage() -> String {
    var text = "USAGE: inferscope-bench <subcommand> [--json] [options]\n\nSUBCOMMANDS:\n"
    let width = subcommands.map(\.name.count).max() ?? 0
    for s in subcommands {
        text += "  \(s.name)\(String(repeating: " ", count: width - s.name.count))  \(s.abstract)\n"
    }
    return text + "\nRun 'inferscope-bench <subcommand> --help' for its options.\n"
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, name != "--help", name != "-h" else {
    print(usage(), terminator: "")
    exit(arguments.isEmpty ? 2 : 0)
}
guard let subcommand = subcommands.first(where: { $0.name == name }) else {
    writeStandardError("error: unknown benchmark '\(name)'\n" + usage())
    exit(2)
}
exit(subcommand.run(Array(arguments.dropFirst())))
