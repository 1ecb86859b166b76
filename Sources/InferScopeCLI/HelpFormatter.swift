import TraceFormat

/// Renders `--help` text: usage line, abstract, discussion, arguments, options; and the
/// top-level command list. Deterministic; columns aligned; lines wrapped within ``lineWidth``.
enum HelpFormatter {
    static let tool = "inferscope"
    /// Longest line of help text, in characters.
    static let lineWidth = 120

    /// `words` joined by spaces into lines of at most `width` characters (a longer word stays
    /// whole on its own line); lines after the first start with `indent` spaces. O(n).
    static func wrap(_ words: [String], width: Int, indent: Int) -> String {
        var lines: [String] = []
        var line = ""
        for word in words {
            if line.isEmpty {
                line = (lines.isEmpty ? "" : String(repeating: " ", count: indent)) + word
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = String(repeating: " ", count: indent) + word
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines.joined(separator: "\n")
    }

    /// `inferscope validate [--strict] TRACE`
    static func usageLine(_ spec: CommandSpec) -> String {
        var parts = [tool, spec.name]
        for option in spec.options {
            switch option.kind {
            case .flag: parts.append("[\(option.name)]")
            case .value(let placeholder):
                parts.append("[\(option.name) \(placeholder)]" + (option.repeatable ? "..." : ""))
            }
        }
        for argument in spec.arguments {
            var text = argument.name + (argument.variadic ? "..." : "")
            if argument.optional { text = "[\(text)]" }
            parts.append(text)
        }
        // "usage: " / "USAGE: " precede it: 7 characters.
        return wrap(parts, width: lineWidth - 7, indent: tool.count + spec.name.count + 2)
    }

    static func help(_ spec: CommandSpec) -> String {
        var out = "USAGE: \(usageLine(spec))\n\n\(spec.abstract)\n"
        if !spec.discussion.isEmpty {
            let paragraphs = spec.discussion.split(separator: "\n", omittingEmptySubsequences: false)
            out += "\n" + paragraphs.map { wrap($0.split(separator: " ").map(String.init), width: lineWidth, indent: 0) }
                .joined(separator: "\n") + "\n"
        }
        let argumentRows = spec.arguments.map { ($0.name + ($0.variadic ? "..." : ""), $0.help) }
        var rows: [(String, String)] = spec.options.map { option in
            var left = option.short.map { "\($0), " } ?? ""
            left += option.name
            if case .value(let placeholder) = option.kind { left += " \(placeholder)" }
            var right = option.help
            if let d = option.defaultValue { right += " (default: \(d))" }
            if option.repeatable { right += " (repeatable)" }
            return (left, right)
        }
        rows.append(("-h, --help", "Show this help."))
        let width = columnWidth(argumentRows + rows)
        if !argumentRows.isEmpty { out += "\nARGUMENTS:\n" + table(argumentRows, width: width) }
        out += "\nOPTIONS:\n" + table(rows, width: width)
        return out
    }

    /// The top-level help: every visible command (or those under `group`).
    static func overview(_ commands: [any Command], group: [String] = []) -> String {
        let visible = commands.map(\.spec).filter { !$0.hidden && $0.words.starts(with: group) }
        var out: String
        if group.isEmpty {
            out = "InferScope \(versionString) — a profiler and bottleneck analyzer for LLM inference.\n\n"
            out += "USAGE: \(tool) <command> [options]\n\nCOMMANDS:\n"
        } else {
            let name = group.joined(separator: " ")
            out = "USAGE: \(tool) \(name) <subcommand> [options]\n\nSUBCOMMANDS:\n"
        }
        let commandRows = visible.sorted { $0.name < $1.name }.map { ($0.name, $0.abstract) }
        let optionRows = [("-h, --help", "Show this help."), ("--version", "Show the version.")]
        let width = columnWidth(commandRows + optionRows)
        out += table(commandRows, width: width)
        out += "\nOPTIONS:\n" + table(optionRows, width: width)
        out += "\nRun '\(tool) <command> --help' for a command's arguments and options.\n"
        return out
    }

    static var versionString: String { ToolVersion.current }

    private static func columnWidth(_ rows: [(String, String)]) -> Int {
        min(max(rows.map(\.0.count).max() ?? 0, 8), 28)
    }

    private static func table(_ rows: [(String, String)], width: Int) -> String {
        rows.map { left, right in
            let wrapped = wrap(right.split(separator: " ").map(String.init), width: lineWidth - width - 4, indent: 0)
                .split(separator: "\n").joined(separator: "\n" + String(repeating: " ", count: width + 4))
            if left.count > width { return "  \(left)\n  \(String(repeating: " ", count: width))  \(wrapped)\n" }
            return "  \(left)\(String(repeating: " ", count: width - left.count))  \(wrapped)\n"
        }.joined()
    }
}
