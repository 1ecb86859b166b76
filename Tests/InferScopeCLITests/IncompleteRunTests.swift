#if canImport(Glibc)
import Glibc
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// A crashed or interrupted run never passes quietly: the judging commands say so on their first
/// line, the gate fails on it, and an interrupted `profile` keeps its partial trace beside an
/// untouched earlier result.
@Suite(.serialized) struct IncompleteRunTests {
    static let crashed = "traces/crashed-run.json"

    @Test func gateFailsOnACrashedRunWhoseLimitsHold() {
        let run = runCLI(["gate", Self.crashed, "--require", "ttft.p50<=1s"])
        #expect(run.exit == .failure)
        #expect(run.stdout.hasPrefix("INCOMPLETE RUN: traces/crashed-run.json: line 77: the last event is cut off"))
        #expect(run.stdout.contains("gate: FAIL (incomplete run; 0 of 1 check failed)"))
    }

    @Test func allowIncompletePassesButStillSaysSo() {
        let run = runCLI(["gate", Self.crashed, "--require", "ttft.p50<=1s", "--allow-incomplete"])
        #expect(run.exit == .success)
        #expect(run.stdout.hasPrefix("INCOMPLETE RUN: "))
        #expect(run.stdout.contains("(allowed by --allow-incomplete)"))
    }

    @Test func gateJSONAndJUnitRecordTheIncompleteRun() throws {
        let dir = temporaryDirectory()
        let run = runCLI(["gate", Self.crashed, "--require", "ttft.p50<=1s", "--json", "--junit", dir + "/gate.xml"])
        #expect(run.exit == .failure)
        #expect(run.stdout.contains("\"incomplete_fails\": true"))
        let xml = try #require(FileBytes.text(of: dir + "/gate.xml"))
        #expect(xml.contains("<testcase name=\"run is complete\" classname=\"inferscope.gate\">\n      <failure message=\"incomplete run: traces/crashed-run.json: line 77"))
    }

    @Test func analyzeAndReportSayItOnTheFirstLine() {
        let analyze = runCLI(["analyze", Self.crashed])
        #expect(analyze.exit == .success)
        #expect(analyze.stdout.hasPrefix("INCOMPLETE RUN: traces/crashed-run.json: "))
        let json = runCLI(["analyze", Self.crashed, "--json"])
        #expect(json.stdout.contains("\"complete\": false"))
        let dir = temporaryDirectory()
        let report = runCLI(["report", Self.crashed, "-o", dir + "/r.html"])
        #expect(report.exit == .success)
        #expect(report.stdout.hasPrefix("INCOMPLETE RUN: "))
        #expect(FileBytes.text(of: dir + "/r.html")?.contains("<div class=\"warning\"><strong>INCOMPLETE RUN") == true)
    }

    @Test func aCompleteRunIsNotFlagged() {
        let run = runCLI(["analyze", "traces/colocated-small.json"])
        #expect(run.exit == .success)
        #expect(!run.stdout.contains("INCOMPLETE"))
        #expect(runCLI(["gate", "traces/colocated-small.json", "--require", "ttft.p50<=10s"]).exit == .success)
    }

    /// Requests that arrived and never finished make a run incomplete even when the file is whole.
    @Test func openRequestsAreAProblem() {
        let c = RunCompleteness(readerWarnings: [], arrived: 5, ended: 4)
        #expect(c.problems == ["1 of 5 requests still open (no finished or aborted record)"])
        let whole = RunCompleteness(readerWarnings: [], arrived: 5, ended: 5)
        #expect(whole.isComplete)
    }

    @Test func partialPaths() {
        #expect(StagedOutputFile.partialPath("run/t.json") == "run/t.partial.json")
        #expect(StagedOutputFile.partialPath("t") == "t.partial.json")
    }

    /// SIGINT during `profile -o t.json` leaves the earlier t.json byte for byte and the partial
    /// recording in t.partial.json, which reads as an incomplete trace.
    @Test func interruptedProfileKeepsTheOldTrace() throws {
        let binary = try #require(CrashSafetyTests.inferscopeBinary(), "build the inferscope product first (swift build)")
        let dir = temporaryDirectory()
        let target = dir + "/t.json", partial = dir + "/t.partial.json"
        let old = try #require(FileBytes.text(of: packageRoot + "/traces/colocated-small.json"))
        writeText(target, old)
        let pid = try Self.spawn([binary, "profile", "--model", "tiny", "--requests", "20000", "--rate", "1000",
                                  "--no-probe", "--threads", "1", "-o", target])
        // Wait (bounded, no timing assertion) until the recording has written events.
        var size = 0
        for _ in 0..<6000 where size < 4096 {
            usleep(10_000)
            var info = stat()
            if stat(partial, &info) == 0 { size = Int(info.st_size) }
        }
        kill(pid, SIGINT)
        var status: Int32 = 0
        var reaped = false
        for _ in 0..<3000 where !reaped {
            reaped = waitpid(pid, &status, WNOHANG) == pid
            if !reaped { usleep(10_000) }
        }
        if !reaped {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        #expect(reaped && status & 0x7f == SIGINT, "profile did not end by the interrupt (status \(status))")
        try #require(size >= 4096, "the partial trace never grew")
        #expect(FileBytes.text(of: target) == old, "the earlier trace was touched")
        let reader = try TraceReader(path: partial)
        let events = Array(reader)
        #expect(!reader.hasErrors)
        #expect(reader.warningCount >= 1)
        #expect(events.count > 1)
        let analyze = runCLI(["analyze", partial])
        #expect(analyze.stdout.hasPrefix("INCOMPLETE RUN: "))
    }

    /// Starts `arguments` with SIGINT/SIGTERM at their default action and unblocked (the test
    /// runner's threads block them, and a spawned child inherits that mask), output discarded.
    static func spawn(_ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard rc == 0 else { throw CrashSafetyTests.CommandError("posix_spawn \(arguments[0]) failed: \(rc)") }
        return pid
    }

    @Test func importRefusesTracesEmptyAndBinaryFilesSpecifically() {
        let dir = temporaryDirectory()
        let already = runCLI(["import", "traces/colocated-small.json", "-o", dir + "/x.json"])
        #expect(already.exit == .failure)
        #expect(already.stderr == "error: traces/colocated-small.json is already an InferScope trace: nothing to import; "
                + "give it to 'inferscope analyze' or 'report' as it is\n")
        writeText(dir + "/empty.json", "")
        let empty = runCLI(["import", dir + "/empty.json", "-o", dir + "/x.json"])
        #expect(empty.stderr == "error: \(dir)/empty.json: empty file: nothing to read; was it written completely?\n")
        writeBytes(dir + "/bin.dat", [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00])
        let binary = runCLI(["import", dir + "/bin.dat", "-o", dir + "/x.json"])
        #expect(binary.stderr.hasPrefix("error: \(dir)/bin.dat: binary data (byte 0x2 at offset 4)"))
        #expect(binary.stderr.count < 200)
    }
}

/// Text from input files cannot drive the terminal.
@Suite struct TerminalSafetyTests {
    @Test func controlCharactersAreEscaped() {
        #expect(TerminalText.escape("a\u{1B}[31mred\u{7}\tb") == "a\\e[31mred\\u{7}\\tb")
        #expect(TerminalText.escape("plain – ünïcode") == "plain – ünïcode")
        #expect(TerminalText.escapeLines("l1\nl\u{1B}2\n") == "l1\nl\\e2\n")
    }

    @Test func aModelNameWithEscapesDoesNotReachTheTerminal() throws {
        var events = AnalyzeCommandTests.events()
        guard case .header(var h) = events[0] else { Issue.record("no header"); return }
        h.model.name = "evil\u{1B}[2J\u{1B}]0;pwned\u{7}"
        events[0] = .header(h)
        let path = temporaryDirectory() + "/evil.json"
        writeBytes(path, TraceEncoder.encode(events))
        let run = runCLI(["analyze", path])
        #expect(run.exit == .success)
        #expect(!run.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
        #expect(run.stdout.contains("evil\\e[2J\\e]0;pwned\\u{7}"))
    }

    @Test func errorPrefixIsNotDoubled() {
        #expect(CLI.errorLine("error: x") == "error: x\n")
        #expect(CLI.errorLine("x") == "error: x\n")
    }
}

/// Goldens of the outputs this contract added.
@Suite(.serialized) struct OutputContractGoldenTests {
    @Test func goldens() {
        expectGolden("validate-crashed-json", ["validate", "traces/crashed-run.json", "--json"])
        expectGolden("validate-missing-json", ["validate", "no/such.json", "--json"])
        expectGolden("gate-crashed", ["gate", "traces/crashed-run.json", "--require", "ttft.p50<=1s"])
        expectGolden("gate-crashed-allowed-markdown", ["gate", "traces/crashed-run.json", "--require", "ttft.p50<=1s",
                                                       "--allow-incomplete", "--format", "markdown"])
        expectGolden("analyze-format-is-output", ["analyze", "traces/colocated-small.json", "--format", "vllm"])
        expectGolden("import-already-a-trace", ["import", "traces/colocated-small.json", "-o", ".build/x.json"])
        expectGolden("profile-unknown-model", ["profile", "--model", "stories15", "--no-probe"])
    }
}
