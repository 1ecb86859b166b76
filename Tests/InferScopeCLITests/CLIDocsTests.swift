import Testing
import TraceFormat
@testable import InferScopeCLI

/// docs/cli.md documents every command and every option.
@Suite struct CLIDocsTests {
    @Test func everyOptionIsNamedInTheDocs() throws {
        let docs = try #require(FileBytes.text(of: packageRoot + "/docs/cli.md"))
        for command in CommandRegistry.all where !command.spec.hidden {
            #expect(docs.contains("`\(command.spec.name)"), "docs/cli.md lacks the command \(command.spec.name)")
            for option in command.spec.options {
                #expect(docs.contains(option.name + " ") || docs.contains(option.name + "]") || docs.contains(option.name + "|")
                        || docs.contains(option.name + "`") || docs.contains(option.name + "="),
                        "docs/cli.md lacks \(command.spec.name) \(option.name)")
            }
        }
    }
}
