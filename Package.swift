// swift-tools-version:6.0
//
// InferScope — a profiler and bottleneck analyzer for LLM inference.
//
// Dependency direction (one way, no cycles; see docs/architecture.md):
//   TraceFormat ← Tracing ← runtime (Kernels ← KVCache ← LlamaModel; Scheduling; ServingEngine)
//   TraceFormat ← Analysis ← Importers, Reporting
//   InferScopeCLI sees both halves; `inferscope` (main.swift only) and `inferscope-bench` use it.
// The runtime and the analyzer never import each other: they meet only through the trace.
//
// CPU target. The numeric modules are compiled for a CPU level chosen at build time:
//   INFERSCOPE_TARGET_CPU=<name>   (default: haswell — AVX2 + FMA, i.e. x86-64-v3)
// Set INFERSCOPE_TARGET_CPU=native for the build machine, or =generic for baseline x86-64
// (no AVX; 3-6x slower kernels, but runs anywhere). The runtime checks the CPU at start-up
// and refuses to run AVX2 code on a CPU without it, with a message naming this variable.
// The analyzer, importers and CLI are always built for the baseline, so `analyze`,
// `validate` and the importers run on any x86-64 or arm64 machine.

import PackageDescription
import Foundation

let targetCPU: String? = {
    let requested = ProcessInfo.processInfo.environment["INFERSCOPE_TARGET_CPU"] ?? "haswell"
    if requested == "generic" || requested.isEmpty { return nil }
    #if arch(x86_64)
    return requested
    #else
    return nil
    #endif
}()

let numericSettings: [SwiftSetting] = {
    guard let cpu = targetCPU else { return [] }
    // INFERSCOPE_REQUIRES_AVX2 lets the start-up check know this build emits AVX2/FMA code.
    return [.unsafeFlags(["-target-cpu", cpu]), .define("INFERSCOPE_REQUIRES_AVX2")]
}()

let package = Package(
    name: "InferScope",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "inferscope", targets: ["inferscope"]),
        .executable(name: "inferscope-bench", targets: ["inferscope-bench"]),
        .library(name: "TraceFormat", targets: ["TraceFormat"]),
        .library(name: "Tracing", targets: ["Tracing"]),
    ],
    dependencies: [],
    targets: [
        // The trace: event model, codec, streaming reader, validation. Foundation-free.
        .target(name: "TraceFormat"),
        // The embeddable recorder: Tracer, sinks, clocks, the crash-safe file recorder.
        .target(name: "Tracing", dependencies: ["TraceFormat"]),

        // Runtime.
        // CKernels: the AVX-512 / VNNI kernels, each compiled for its ISA with target attributes and
        // chosen at start-up by Kernels' `KernelPath` (docs/kernels.md, "Kernel paths").
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Kernels", dependencies: ["CKernels"], swiftSettings: numericSettings),
        .target(name: "KVCache", dependencies: ["Kernels"], swiftSettings: numericSettings),
        .target(name: "LlamaModel", dependencies: ["Kernels", "KVCache", "TraceFormat"], swiftSettings: numericSettings),
        .target(name: "Scheduling", dependencies: ["KVCache"]),
        .target(name: "ServingEngine",
                dependencies: ["LlamaModel", "KVCache", "Scheduling", "Tracing", "TraceFormat"],
                swiftSettings: numericSettings),

        // HTTP/1.1 server on POSIX sockets (request parser, SSE framing); imports nothing of ours.
        .target(name: "HTTPServer"),
        // The OpenAI-compatible API and Prometheus /metrics over the online serving engine.
        .target(name: "ServingAPI", dependencies: ["HTTPServer", "ServingEngine", "LlamaModel", "Scheduling", "TraceFormat"]),

        // Analyzer.
        .target(name: "Analysis", dependencies: ["TraceFormat"]),
        // The system zlib through a module map (gzip'd Kineto traces and any .gz input); see docs/importers.md.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "Importers", dependencies: ["TraceFormat", "Analysis", "PrometheusText", "CZlib"]),
        // Prometheus text exposition lines: shared by the vLLM-metrics importer and the live scraper.
        .target(name: "PrometheusText"),
        // The HTTP load generator of `profile --endpoint` (SSE client, arrivals, /metrics scraper).
        .target(name: "LoadGenerator", dependencies: ["TraceFormat", "Tracing", "PrometheusText"]),
        .target(name: "Reporting", dependencies: ["Analysis", "TraceFormat"]),

        // Command line.
        .target(name: "InferScopeCLI",
                dependencies: ["TraceFormat", "Tracing", "Analysis", "Importers", "Reporting",
                               "LlamaModel", "ServingEngine", "Scheduling", "KVCache", "Kernels",
                               "HTTPServer", "ServingAPI", "LoadGenerator"]),
        .executableTarget(name: "inferscope", dependencies: ["InferScopeCLI"]),
        .executableTarget(name: "inferscope-bench",
                          dependencies: ["InferScopeCLI", "TraceFormat", "Tracing", "Kernels", "KVCache",
                                         "LlamaModel", "Scheduling", "ServingEngine", "Analysis", "LoadGenerator", "ServingAPI"],
                          swiftSettings: numericSettings),

        // Test data (goldens, fixtures, reference scripts) is read by path from the source tree,
        // not bundled as resources, so it is excluded from the targets.
        // Test helpers shared by the test targets (temporary directories removed at exit).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TraceFormatTests", dependencies: ["TraceFormat", "Tracing", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "KVCache", "TraceFormat"]),
        .testTarget(name: "LlamaModelTests", dependencies: ["LlamaModel", "Kernels", "KVCache"],
                    exclude: ["Reference"]),
        .testTarget(name: "ServingEngineTests",
                    dependencies: ["ServingEngine", "Scheduling", "KVCache", "LlamaModel", "Tracing", "TraceFormat"],
                    exclude: ["Goldens"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Importers", "Reporting", "TraceFormat"],
                    exclude: ["Fixtures", "Goldens"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TestSupport"]),
        .testTarget(name: "ServingAPITests",
                    dependencies: ["ServingAPI", "HTTPServer", "ServingEngine", "LlamaModel", "Scheduling", "KVCache",
                                   "Tracing", "TraceFormat", "Importers", "TestSupport"]),
        .testTarget(name: "ImportersTests", dependencies: ["Importers", "Analysis", "TraceFormat"]),
        .testTarget(name: "LoadGeneratorTests", dependencies: ["LoadGenerator", "PrometheusText", "TraceFormat", "Tracing"]),
        .testTarget(name: "InferScopeCLITests", dependencies: ["InferScopeCLI", "TraceFormat", "TestSupport", "LoadGenerator",
                                                               "ServingAPI", "ServingEngine", "LlamaModel", "Tracing"],
                    exclude: ["Fixtures", "Goldens"]),
    ]
)

// Fuzz targets (docs/fuzzing.md): libFuzzer harnesses under Fuzz/, added only when
// INFERSCOPE_FUZZ=1 so the normal build and `swift test` never see them. scripts/fuzz.sh builds
// them with `--sanitize=fuzzer` in their own scratch directory (.build/fuzz).
if ProcessInfo.processInfo.environment["INFERSCOPE_FUZZ"] == "1" {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("fuzz-trace", ["TraceFormat", "Analysis"]),
        ("fuzz-importers", ["Importers", "Analysis", "TraceFormat"]),
        ("fuzz-model", ["LlamaModel", "Kernels"]),
        ("fuzz-workload", ["ServingEngine"]),
        ("fuzz-gate", ["Analysis"]),
        ("fuzz-http", ["HTTPServer", "ServingAPI"]),
    ]
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(name: name, dependencies: dependencies, path: "Fuzz/\(name)"))
    }
}
