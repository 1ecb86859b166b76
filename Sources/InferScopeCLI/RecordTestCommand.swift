#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TraceFormat
import Tracing

/// `inferscope _record-test OUT` (hidden): records a deterministic synthetic trace through
/// ``FileTraceRecorder``, printing `step N` after each completed step and `done` at the end,
/// then waits to be killed. The crash-safety test runs it as a child process and `kill -9`s it.
struct RecordTestCommand: Command {
    let spec = CommandSpec(
        name: "_record-test",
        abstract: "Record a synthetic trace step by step, then wait to be killed (crash-safety test helper).",
        arguments: [ArgumentSpec("OUT", help: "The trace file to write.")],
        options: [
            .value("--steps", "N", help: "Engine steps to record.", default: "50"),
            .value("--events-per-step", "K", help: "Events recorded per step.", default: "20"),
            .value("--seed", "S", help: "Seed of the synthetic events.", default: "1"),
            .flag("--sync", help: "Make stepCompleted() wait until the step's events are written."),
            .flag("--exit", help: "Close the trace and exit after the last step instead of waiting."),
        ],
        hidden: true)

    func run(_ arguments: ParsedArguments, _ context: CommandContext) throws -> ExitCode {
        let steps = try arguments.int("--steps")!
        let perStep = try arguments.int("--events-per-step")!
        let seed = try arguments.int("--seed")!
        let recorder: FileTraceRecorder
        do {
            recorder = try FileTraceRecorder(path: context.resolve(try arguments.argument("OUT")),
                                             options: .init(synchronousSteps: arguments.flag("--sync")))
        } catch {
            throw CommandFailure("\(error)")
        }
        let tracer = Tracer(sink: recorder, clock: MonotonicClock())
        var synth = SyntheticTrace(seed: UInt64(seed))
        tracer.record(.header(synth.header()))
        for step in 1...max(steps, 1) {
            for _ in 0..<perStep { tracer.record(synth.event()) }
            tracer.stepCompleted()
            context.stdout.write("step \(step)\n")
            usleep(500)
        }
        context.stdout.write("done\n")
        if arguments.flag("--exit") {
            do { try recorder.close() } catch { throw CommandFailure("\(error)") }
            return .success
        }
        while true { pause() }
    }
}
