#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// A fresh path in a new temporary directory (the file does not exist yet; the directory is
/// removed when the test process exits).
func temporaryPath(_ name: String) -> String {
    TestDirectories.make() + "/" + name
}
