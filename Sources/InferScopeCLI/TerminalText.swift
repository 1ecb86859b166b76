/// Text from input files (model names, paths, messages quoting a file) made safe to print on a
/// terminal: C0 and C1 control characters and DEL become visible escapes, so a trace cannot
/// move the cursor, recolour the terminal or hide text (as the HTML report escapes markup).
/// Newlines and tabs inside one value are escaped too: one value stays on one line.
enum TerminalText {
    /// `s` with every control character written as `\n`, `\t`, `\r`, `\e` or `\u{XX}`. O(n).
    static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for scalar in s.unicodeScalars {
            guard isControl(scalar) else { out.unicodeScalars.append(scalar); continue }
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0D: out += "\\r"
            case 0x1B: out += "\\e"
            default: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    /// A whole multi-line report: each line escaped, the line breaks kept. O(n).
    static func escapeLines(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && $0 != "\n" }) else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { escape(String($0)) }
            .joined(separator: "\n")
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (0x7F...0x9F).contains(v)
    }
}

/// Wraps a command's stdout or stderr so that nothing written through it reaches the terminal
/// as a control sequence: every write goes through ``TerminalText/escapeLines(_:)`` (a leading
/// `\r`, the progress line's own rewind, is kept). JSON output is unaffected: its strings are
/// already escaped.
struct EscapingOutput: TextOutput {
    let base: any TextOutput

    func write(_ text: String) {
        if text.hasPrefix("\r") {
            base.write("\r" + TerminalText.escapeLines(String(text.dropFirst())))
        } else {
            base.write(TerminalText.escapeLines(text))
        }
    }
}

extension CommandContext {
    /// This context with both streams wrapped in ``EscapingOutput`` (once).
    func escapingControlCharacters() -> CommandContext {
        var c = self
        if !(stdout is EscapingOutput) { c.stdout = EscapingOutput(base: stdout) }
        if !(stderr is EscapingOutput) { c.stderr = EscapingOutput(base: stderr) }
        return c
    }

    /// The file descriptor behind stderr, if it is one (for a terminal check).
    var stderrDescriptor: FileDescriptorOutput? {
        (stderr as? EscapingOutput)?.base as? FileDescriptorOutput ?? stderr as? FileDescriptorOutput
    }
}

