/// Plain-text tables for terminals and CI logs.
public enum TextTable {
    /// `rows` (the first is usually the header) as left-aligned columns two spaces apart, one line
    /// each ending in a newline; the last column is not padded (no trailing spaces). Widths count
    /// Characters, right for monospace fonts. O(cells).
    public static func aligned(_ rows: [[String]]) -> String {
        var widths: [Int] = []
        for row in rows {
            for (i, cell) in row.enumerated() {
                if i == widths.count { widths.append(0) }
                widths[i] = max(widths[i], cell.count)
            }
        }
        var out = ""
        for row in rows {
            out += row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ") + "\n"
        }
        return out
    }

    /// GitHub-flavoured Markdown table: `header`, then `rows`; `rightAligned` columns (numbers)
    /// get a `---:` separator. Cells are written as given (escape `|` beforehand). O(cells).
    public static func markdown(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n"
        out += "|" + header.indices.map { rightAligned.contains($0) ? "---:" : "---" }.joined(separator: "|") + "|\n"
        for row in rows { out += "| " + row.joined(separator: " | ") + " |\n" }
        return out
    }
}
