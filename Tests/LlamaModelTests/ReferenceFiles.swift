import Foundation

/// Locates files committed under Tests/LlamaModelTests/Reference.
enum ReferenceFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    /// A fresh temporary file path (the file is not created).
    static func temporaryPath(_ suffix: String) -> String {
        NSTemporaryDirectory() + "inferscope-test-\(UUID().uuidString)\(suffix)"
    }
}

extension Array where Element == UInt8 {
    init(hex: Substring) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            bytes.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        self = bytes
    }
}
