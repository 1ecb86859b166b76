import Foundation

/// The second KV tier: whole sequences' block bytes saved on preemption (or in flight between
/// disaggregated workers) and restored later, in host memory or in files.
final class SwapSpace {
    let tier: SwapTier
    private var memory: [UInt64: [UInt8]] = [:]

    init(tier: SwapTier) throws(EngineError) {
        self.tier = tier
        if case .disk(let dir) = tier {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw EngineError("cannot create the swap directory \(dir): \(error.localizedDescription); pass a writable --swap-dir")
            }
        }
    }

    private func path(_ id: UInt64, _ dir: String) -> String { "\(dir)/seq-\(id).kv" }

    /// Saves `bytes` for sequence `id`. O(bytes).
    func store(_ id: UInt64, _ bytes: [UInt8]) {
        switch tier {
        case .host: memory[id] = bytes
        case .disk(let dir):
            let ok = FileManager.default.createFile(atPath: path(id, dir), contents: Data(bytes))
            precondition(ok, "cannot write swap file \(path(id, dir))")
        }
    }

    /// Takes back (and forgets) the bytes saved for `id`. O(bytes).
    func load(_ id: UInt64) -> [UInt8] {
        switch tier {
        case .host:
            guard let b = memory.removeValue(forKey: id) else { preconditionFailure("no swapped data for sequence \(id)") }
            return b
        case .disk(let dir):
            let p = path(id, dir)
            guard let data = FileManager.default.contents(atPath: p) else { preconditionFailure("swap file \(p) is missing") }
            try? FileManager.default.removeItem(atPath: p)
            return [UInt8](data)
        }
    }

    /// Forgets whatever is saved for `id` (a cancelled request); no-op when nothing is. O(1).
    func discard(_ id: UInt64) {
        switch tier {
        case .host: memory[id] = nil
        case .disk(let dir): try? FileManager.default.removeItem(atPath: path(id, dir))
        }
    }
}
