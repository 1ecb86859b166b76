import CZlib

/// gzip decompression through the system zlib (`libz`, reached by the `CZlib` module map).
///
/// Why zlib and not an inflate of our own: every Linux and macOS machine ships it, it is the
/// reference implementation of DEFLATE (fast, fuzzed for decades), and a hand-written inflater
/// would be a few hundred lines of bit-level code to test for nothing but one file type (PyTorch
/// profiler `.pt.trace.json.gz`). The price is one system library, declared in Package.swift.
public enum Gzip {
    /// `bytes` decompressed when they are gzip (any format may arrive as `.gz`), else unchanged.
    public static func inflatedIfCompressed(_ bytes: [UInt8], file: String) throws(ImportError) -> [UInt8] {
        isGzip(bytes) ? try decompress(bytes, file: file) : bytes
    }

    /// True when `bytes` start with the gzip magic number 1f 8b.
    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed content of a gzip file (several concatenated members are joined, as
    /// `gunzip` does). Throws a message naming the file on corrupt or truncated input.
    /// O(output size) time and memory.
    static func decompress(_ input: [UInt8], file: String) throws(ImportError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 8)
        var stream = z_stream()
        // 15 + 16: a gzip wrapper is expected (window 2^15).
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ImportError(file: file, message: "cannot start the gzip decompressor (zlib)")
        }
        defer { inflateEnd(&stream) }
        let chunk = 1 << 18
        var buffer = [UInt8](repeating: 0, count: chunk)
        var failure: String?
        var ended = false
        input.withUnsafeBufferPointer { inBuf in
            var offset = 0
            while offset < inBuf.count {
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress! + offset)
                stream.avail_in = UInt32(min(inBuf.count - offset, Int(UInt32.max)))
                var status: Int32 = Z_OK
                repeat {
                    status = buffer.withUnsafeMutableBufferPointer { b -> Int32 in
                        stream.next_out = b.baseAddress
                        stream.avail_out = UInt32(chunk)
                        let s = inflate(&stream, Z_NO_FLUSH)
                        out.append(contentsOf: b[0..<(chunk - Int(stream.avail_out))])
                        return s
                    }
                } while status == Z_OK && (stream.avail_out == 0 || stream.avail_in > 0)
                let consumed = (inBuf.count - offset) - Int(stream.avail_in)
                offset += consumed
                if status == Z_STREAM_END {
                    ended = true
                    // Another member may follow (concatenated gzip).
                    if offset < inBuf.count {
                        guard inBuf[offset] == 0x1F else { return }  // trailing garbage: ignored, as gunzip does
                        inflateReset(&stream)
                        ended = false
                    }
                    continue
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    failure = "the gzip data is truncated (the file ends inside the compressed stream)"
                    return
                }
                if status != Z_OK {
                    failure = "corrupt gzip data (zlib status \(status)\(stream.msg.map { ": " + String(cString: $0) } ?? ""))"
                    return
                }
                if consumed == 0 {
                    failure = "the gzip data is truncated (the file ends inside the compressed stream)"
                    return
                }
            }
        }
        if failure == nil, !ended { failure = "the gzip data is truncated (the file ends inside the compressed stream)" }
        if let failure { throw ImportError(file: file, message: failure) }
        return out
    }
}
