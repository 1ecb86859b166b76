import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which instruction set the hot matrix kernels use, chosen once at start-up from the CPU's
/// features (cpuid + xgetbv, `ck_cpu_features`), never by a rebuild.
///
/// - `generic`: the portable Swift kernels (a build with `INFERSCOPE_TARGET_CPU=generic`).
/// - `avx2`: the Swift kernels with explicit AVX2 intrinsics (the default `haswell` build).
/// - `avxVNNI`: `avx2`, with q8_0/q4_0 integer dot products on AVX-VNNI (`vpdpbusd`, ymm).
/// - `avx512`: AVX512-VNNI integer dot products (two blocks per zmm for one token) and the
///   AVX-512F 12 × 16 GEMM tile for prefill; everything else as `avx2`.
///
/// The wider paths live in the `CKernels` C target (functions with `target(...)` attributes).
/// `INFERSCOPE_KERNEL_PATH=<name>` forces a narrower path (for measurements and tests); a path
/// the CPU or build cannot run is refused with ``KernelPathError``.
public enum KernelPath: String, Sendable, CaseIterable, CustomStringConvertible {
    case generic
    case avx2
    case avxVNNI = "avx-vnni"
    case avx512

    public var description: String { rawValue }

    /// Wider paths first.
    public static let preference: [KernelPath] = [.avx512, .avxVNNI, .avx2, .generic]

    /// The running CPU's features (bits of `CK_FEATURE_*`), read once.
    static let cpuFeatures: UInt32 = ck_cpu_features()

    /// Whether this build and CPU can run the path. `generic` and `avx2` are the Swift kernels of
    /// the build (exactly one of them exists in a binary); the wider paths add C kernels on top
    /// of `avx2`.
    public var isSupported: Bool {
        let f = KernelPath.cpuFeatures
        switch self {
        case .generic: return !CPUFeatures.buildRequiresAVX2
        case .avx2: return CPUFeatures.buildRequiresAVX2 && f & CK_FEATURE_AVX2 != 0
        case .avxVNNI: return KernelPath.avx2.isSupported && f & CK_FEATURE_AVXVNNI != 0
        case .avx512:
            let need = CK_FEATURE_AVX512 | CK_FEATURE_AVX512VNNI
            return KernelPath.avx2.isSupported && f & need == need
        }
    }

    /// Every path this machine and build can run, widest first.
    public static var supported: [KernelPath] { preference.filter(\.isSupported) }

    /// The widest supported path.
    public static var widest: KernelPath { supported.first ?? (CPUFeatures.buildRequiresAVX2 ? .avx2 : .generic) }

    /// The path chosen at start-up: `INFERSCOPE_KERNEL_PATH` if set and supported, else the
    /// widest. (A forced path the machine cannot run falls back to the widest; callers that want
    /// to refuse instead use ``resolve(_:)``.)
    public static let detected: KernelPath = {
        if let raw = getenv("INFERSCOPE_KERNEL_PATH"), let forced = try? resolve(String(cString: raw)) { return forced }
        return widest
    }()

    /// The path named `name` (`generic`, `avx2`, `avx-vnni`, `avx512`, or `auto` for the widest),
    /// or an error naming what this machine supports.
    public static func resolve(_ name: String) throws(KernelPathError) -> KernelPath {
        if name == "auto" || name.isEmpty { return widest }
        guard let path = KernelPath(rawValue: name) else { throw .unknown(name, supported: supported) }
        guard path.isSupported else { throw .unsupported(path, supported: supported) }
        return path
    }

    /// The CPU features behind the paths, for reports: e.g. `avx2 avx512 avx512-vnni`.
    public static var cpuFeatureSummary: String {
        let f = cpuFeatures
        var names: [String] = []
        if f & CK_FEATURE_AVX2 != 0 { names.append("avx2+fma+f16c") }
        if f & CK_FEATURE_AVX512 != 0 { names.append("avx512f/bw/dq/vl") }
        if f & CK_FEATURE_AVX512VNNI != 0 { names.append("avx512-vnni") }
        if f & CK_FEATURE_AVXVNNI != 0 { names.append("avx-vnni") }
        return names.isEmpty ? "baseline" : names.joined(separator: " ")
    }
}

/// A kernel path that was asked for by name and cannot be used.
public enum KernelPathError: Error, CustomStringConvertible, Equatable {
    case unknown(String, supported: [KernelPath])
    case unsupported(KernelPath, supported: [KernelPath])

    public var description: String {
        switch self {
        case .unknown(let name, let supported):
            return "unknown kernel path '\(name)': expected auto or one of \(KernelPath.allCases.map(\.rawValue).joined(separator: ", ")) (this machine runs \(supported.map(\.rawValue).joined(separator: ", ")))"
        case .unsupported(let path, let supported):
            return "kernel path '\(path)' cannot run here (CPU: \(KernelPath.cpuFeatureSummary); build: \(CPUFeatures.buildRequiresAVX2 ? "avx2" : "generic")): choose one of \(supported.map(\.rawValue).joined(separator: ", "))"
        }
    }
}
