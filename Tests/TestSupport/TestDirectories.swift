import Foundation

/// Temporary directories for tests. All live under one directory per test process, created on
/// first use and removed with everything in it when the process exits, so test runs leave
/// nothing behind in /tmp (they used to leave a directory per test).
public enum TestDirectories {
    /// `$TMPDIR` (or /tmp) `/inferscope-tests-XXXXXX`, removed at exit.
    static let root: String = {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/inferscope-tests-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            fatalError("TestDirectories: cannot create a directory under \(base): errno \(errno)")
        }
        let path = String(cString: made)
        atexit { try? FileManager.default.removeItem(atPath: TestDirectories.root) }
        return path
    }()

    private static let counter = Counter()

    /// A new empty directory (under the process's root).
    public static func make() -> String {
        let path = root + "/\(counter.next())"
        guard mkdir(path, 0o700) == 0 else { fatalError("TestDirectories: cannot create \(path): errno \(errno)") }
        return path
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
