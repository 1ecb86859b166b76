#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat

/// `kill -9` of a process recording through `FileTraceRecorder` (the hidden
/// `inferscope _record-test` command) leaves a trace the reader accepts, holding every event
/// recorded up to the last completed step.
@Suite(.serialized) struct CrashSafetyTests {
    /// The `inferscope` executable next to the test bundle (built by `swift build`/`swift test`).
    static func inferscopeBinary() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        var path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        path = String(path[..<path.lastIndex(of: "/")!])
        let candidate = path + "/inferscope"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }

    /// A running child process with its stdout on a pipe.
    final class Child {
        let pid: pid_t
        private let output: Int32
        private var pending: [UInt8] = []

        init(_ arguments: [String]) throws {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw CommandError("pipe failed") }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_addclose(&actions, fds[0])
            let argv = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
            posix_spawn_file_actions_destroy(&actions)
            close(fds[1])
            guard rc == 0 else { throw CommandError("posix_spawn \(arguments[0]) failed: \(rc)") }
            self.pid = pid
            output = fds[0]
        }

        /// Reads stdout lines until one equals `line`; false if the child closed stdout first.
        func waitForLine(_ line: String) -> Bool {
            let target = Array(line.utf8)
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let current = Array(pending[..<nl])
                    pending.removeSubrange(...nl)
                    if current == target { return true }
                }
                let n = read(output, &chunk, chunk.count)
                if n <= 0 { return false }
                pending += chunk[0..<n]
            }
        }

        /// SIGKILL and reap; returns the signal that ended it.
        func kill9() -> Int32 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            close(output)
            return status & 0x7f
        }
    }

    struct CommandError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    static func expectedEvents(steps: Int, perStep: Int) -> [TraceEvent] {
        var synth = SyntheticTrace(seed: 1)
        return [.header(synth.header())] + (0..<(steps * perStep)).map { _ in synth.event() }
    }

    /// With synchronous steps, a kill right after "step N" is printed loses nothing of steps ≤ N.
    @Test func killAfterACompletedStepKeepsThatStep() throws {
        let binary = try #require(Self.inferscopeBinary(), "build the inferscope product first (swift build)")
        let path = temporaryDirectory() + "/killed.json"
        let child = try Child([binary, "_record-test", path, "--steps", "200", "--events-per-step", "20", "--sync"])
        let reached = child.waitForLine("step 30")
        #expect(child.kill9() == SIGKILL)
        try #require(reached, "the child stopped before step 30")

        let reader = try TraceReader(path: path)
        let events = Array(reader)
        #expect(!reader.hasErrors, "\(reader.diagnostics)")
        #expect(reader.warningCount >= 1, "a killed writer leaves no closing ']'")
        let expected = Self.expectedEvents(steps: 200, perStep: 20)
        #expect(events.count >= 1 + 30 * 20, "lost events of completed steps: only \(events.count) read")
        #expect(events == Array(expected.prefix(events.count)), "not a prefix of what was recorded")
    }

    /// With the default (asynchronous) steps, the writer thread writes on its own: once the child
    /// is idle the file fills up to the last event, and a kill then loses nothing.
    @Test func killOfAnIdleRecorderLosesNothing() throws {
        let binary = try #require(Self.inferscopeBinary(), "build the inferscope product first (swift build)")
        let path = temporaryDirectory() + "/idle.json"
        let child = try Child([binary, "_record-test", path, "--steps", "10", "--events-per-step", "20"])
        let done = child.waitForLine("done")
        let expected = Self.expectedEvents(steps: 10, perStep: 20)
        // Poll (no timing assertion: the bound is generous) until everything is on disk.
        var events: [TraceEvent] = []
        for _ in 0..<1000 where events.count < expected.count {
            usleep(10_000)
            events = (try? Array(TraceReader(path: path))) ?? []
        }
        #expect(child.kill9() == SIGKILL)
        try #require(done)
        let reader = try TraceReader(path: path)
        #expect(Array(reader) == expected)
        #expect(!reader.hasErrors)
        #expect(reader.diagnostics.map(\.message)
                == ["the trace ends without its closing ']' (the writer did not close it: it crashed or is still running)"])
    }
}
