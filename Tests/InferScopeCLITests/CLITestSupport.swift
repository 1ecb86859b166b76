#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import TraceFormat
@testable import InferScopeCLI

/// The repository root (this file is Tests/InferScopeCLITests/CLITestSupport.swift).
let packageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// The result of one in-process `inferscope` run.
struct CLIRun: Equatable {
    var exit: ExitCode
    var stdout: String
    var stderr: String

    /// The golden-file form: the command, the exit code, both streams.
    func transcript(_ arguments: [String]) -> String {
        "$ inferscope \(arguments.joined(separator: " "))\nexit: \(exit)\n--- stdout\n\(stdout)--- stderr\n\(stderr)"
    }
}

/// Runs `inferscope arguments` in-process, from the repository root, with captured output.
func runCLI(_ arguments: [String], commands: [any Command] = CommandRegistry.all,
            workingDirectory: String = packageRoot) -> CLIRun {
    let out = CapturedOutput(), err = CapturedOutput()
    let context = CommandContext(stdout: out, stderr: err, environment: [:], workingDirectory: workingDirectory)
    let code = CLI.run(arguments, context: context, commands: commands)
    return CLIRun(exit: code, stdout: out.text, stderr: err.text)
}

/// Compares `inferscope arguments`'s transcript with `Goldens/<name>.txt`.
/// `RECORD_GOLDENS=1` rewrites the file and records a failure, so recording is never silent.
func expectGolden(_ name: String, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    let actual = runCLI(arguments).transcript(arguments)
    let path = packageRoot + "/Tests/InferScopeCLITests/Goldens/\(name).txt"
    if let record = getenv("RECORD_GOLDENS"), String(cString: record) == "1" {
        writeText(path, actual)
        Issue.record("RECORD_GOLDENS=1: rewrote Goldens/\(name).txt; review it and run again without it",
                     sourceLocation: sourceLocation)
        return
    }
    guard let expected = FileBytes.text(of: path) else {
        Issue.record("missing golden Goldens/\(name).txt: run with RECORD_GOLDENS=1 and review it",
                     sourceLocation: sourceLocation)
        return
    }
    #expect(actual == expected, sourceLocation: sourceLocation)
}


func writeText(_ path: String, _ text: String) { writeBytes(path, Array(text.utf8)) }

func writeBytes(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot write \(path)")
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// A fresh empty directory, removed when the test process exits.
func temporaryDirectory() -> String {
    TestDirectories.make()
}

/// The files of `traces/` ending in ".json", sorted.
func sampleTraces() -> [String] {
    guard let dir = opendir(packageRoot + "/traces") else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name.hasSuffix(".json") { names.append("traces/" + name) }
    }
    return names.sorted()
}

/// Checks that the committed fixture at `relativePath` is what `events` encode to today;
/// `RECORD_GOLDENS=1` rewrites it (and records a failure, so recording is never silent).
func expectFixtureCurrent(_ events: [TraceEvent], _ relativePath: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = packageRoot + "/" + relativePath
    let fresh = packageRoot + "/.build/fixture-\(getpid())-\(relativePath.split(separator: "/").last!)"
    try TraceWriter.write(events, to: fresh)
    defer { unlink(fresh) }
    if let record = getenv("RECORD_GOLDENS"), String(cString: record) == "1" {
        writeText(path, FileBytes.text(of: fresh)!)
        Issue.record("RECORD_GOLDENS=1: rewrote \(relativePath)", sourceLocation: sourceLocation)
        return
    }
    #expect(FileBytes.text(of: fresh) == FileBytes.text(of: path), "\(relativePath) is out of date", sourceLocation: sourceLocation)
}
