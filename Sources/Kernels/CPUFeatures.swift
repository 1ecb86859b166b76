#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The instruction-set extensions the numeric kernels were compiled for, and a start-up check
/// that the running CPU has them.
///
/// The numeric modules (Kernels, KVCache, LlamaModel, ServingEngine, inferscope-bench) are
/// compiled with `-target-cpu $INFERSCOPE_TARGET_CPU` (default `haswell`: AVX2 + FMA + F16C,
/// i.e. x86-64-v3). Such code dies with SIGILL on an older CPU, so the CLI calls
/// ``CPUFeatures/unsupportedBuildMessage()`` before running any kernel and refuses with that
/// message. The check itself is emitted into the caller's module (`@_alwaysEmitIntoClient`),
/// which is compiled for the baseline, so the check cannot itself fault.
public enum CPUFeatures {
    /// Whether this build of the kernels contains AVX2/FMA/F16C instructions (set by
    /// Package.swift whenever INFERSCOPE_TARGET_CPU is not `generic`).
    public static var buildRequiresAVX2: Bool {
        #if INFERSCOPE_REQUIRES_AVX2
        return true
        #else
        return false
        #endif
    }

    /// The CPU flags the build needs that the running CPU lacks (empty when it has them all,
    /// or when the build needs none). Linux reads `/proc/cpuinfo`; macOS asks `sysctl`.
    @_alwaysEmitIntoClient
    public static func missingFlags() -> [String] {
        guard buildRequiresAVX2 else { return [] }
        let required = ["avx2", "fma", "f16c"]
        #if os(Linux) && arch(x86_64)
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }  // cannot tell: assume fine
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            guard text.hasPrefix("flags") else { continue }
            let flags = Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init))
            return required.filter { !flags.contains($0) }
        }
        return []
        #elseif os(macOS) && arch(x86_64)
        func has(_ name: String) -> Bool {
            var value: Int32 = 0
            var size = MemoryLayout<Int32>.size
            return sysctlbyname(name, &value, &size, nil, 0) == 0 && value != 0
        }
        return required.filter { !has("hw.optional.\($0 == "avx2" ? "avx2_0" : $0 == "fma" ? "fma" : "f16c")") }
        #else
        return []
        #endif
    }

    /// A message explaining why this build cannot run on this CPU and how to fix it, or nil
    /// when it can. The CLI prints it and exits non-zero.
    @_alwaysEmitIntoClient
    public static func unsupportedBuildMessage() -> String? {
        let missing = missingFlags()
        guard !missing.isEmpty else { return nil }
        return """
            error: this build of InferScope's runtime uses AVX2/FMA instructions, but this CPU \
            lacks: \(missing.joined(separator: ", ")).
            help: rebuild for the baseline with `INFERSCOPE_TARGET_CPU=generic swift build -c release` \
            (slower kernels, runs on any x86-64), or =native to target this machine.
            """
    }
}
