#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TraceFormat
@testable import InferScopeCLI

/// `gate --junit` and `--summary`: the files CI systems read.
@Suite(.serialized) struct GateCIReportTests {
    /// Collects each element with its attributes, in document order.
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String], path: [String])] = []
        var stack: [String] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append((name, attributes, stack))
            stack.append(name)
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }
    }

    /// The JUnit schema's required structure: testsuites > testsuite > testcase (> failure), with
    /// testsuite name/tests/failures/errors, testcase name/classname, failure message; counts agree.
    @Test func junitHasTheRequiredElementsAndAttributes() throws {
        let dir = temporaryDirectory()
        let run = runCLI(["gate", GateCommandTests.slower, "--baseline", GateCommandTests.baseline,
                          "--require", "ttft.p50<=10s", "--junit", dir + "/gate.xml"])
        #expect(run.exit == .failure)
        let data = try #require(FileManager.default.contents(atPath: dir + "/gate.xml"))
        let parser = XMLParser(data: data)
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))")
        let els = collector.elements
        #expect(els.first?.name == "testsuites")
        let suites = els.filter { $0.name == "testsuite" }
        #expect(suites.count == 1)
        let suite = try #require(suites.first)
        #expect(suite.path == ["testsuites"])
        for key in ["name", "tests", "failures", "errors"] { #expect(suite.attributes[key] != nil, "testsuite lacks \(key)") }
        let cases = els.filter { $0.name == "testcase" }
        let failures = els.filter { $0.name == "failure" }
        #expect(cases.allSatisfy { $0.path == ["testsuites", "testsuite"] && $0.attributes["name"] != nil && $0.attributes["classname"] != nil })
        #expect(failures.allSatisfy { $0.path.last == "testcase" && !($0.attributes["message"] ?? "").isEmpty })
        #expect(suite.attributes["tests"] == String(cases.count))
        #expect(suite.attributes["failures"] == String(failures.count))
        #expect(els.first?.attributes["tests"] == String(cases.count))
        // One test case per check (1 limit + 6 default budgets) plus the completeness case.
        #expect(cases.count == 8)
        #expect(failures.count >= 1)
        #expect(cases.contains { $0.attributes["name"] == "ttft.p50 ≤ 10 s" })
    }

    @Test func summaryFileAndStepSummary() throws {
        let dir = temporaryDirectory()
        let step = dir + "/step.md"
        writeText(step, "earlier step\n")
        let out = CapturedOutput(), err = CapturedOutput()
        let context = CommandContext(stdout: out, stderr: err, environment: ["GITHUB_STEP_SUMMARY": step], workingDirectory: packageRoot)
        let code = CLI.run(["gate", GateCommandTests.baseline, "--require", "ttft.p50<=10s", "--summary", dir + "/s.md"], context: context)
        #expect(code == .success, "\(err.text)")
        let summary = try #require(FileBytes.text(of: dir + "/s.md"))
        #expect(summary.hasPrefix("### InferScope gate: ✅ pass"))
        #expect(FileBytes.text(of: step) == "earlier step\n" + summary + "\n")
        // A file InferScope did not write is not replaced.
        writeText(dir + "/mine.md", "my notes\n")
        let refused = runCLI(["gate", GateCommandTests.baseline, "--require", "ttft.p50<=10s", "--summary", dir + "/mine.md"])
        #expect(refused.exit == .failure)
        #expect(FileBytes.text(of: dir + "/mine.md") == "my notes\n")
    }
}
