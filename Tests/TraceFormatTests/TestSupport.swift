#if canImport(Glibc)
import Glibc
#endif

/// A fresh path under the system temporary directory (the file does not exist yet).
func temporaryPath(_ name: String) -> String {
    var template = Array("/tmp/inferscope-test-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    return dir + "/" + name
}
