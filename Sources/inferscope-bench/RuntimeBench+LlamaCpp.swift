import Foundation
import Kernels
import KVCache
import LlamaModel
#if canImport(Glibc)
import Glibc
#endif

/// `inferscope-bench runtime --vs-llama-cpp PATH`: the runtime and a llama-bench binary on the
/// same GGUF files in the same sitting, alternated, and the ratio table ours / llama.cpp.
///
/// Per model and type the preset is generated with seed 1 (what `inferscope model export
/// --seed 1` writes) and written as GGUF into a temporary directory; then two rounds: A runs
/// llama-bench first and ours second, B ours first. llama-bench gets `-p P -n G -t T -r R -o json`
/// and the same KV type; its tokens/s are its `avg_ts`. The GGUF is removed after its rounds.
/// Also printed: the kernel path ours chose and the CPU features ggml-cpu was compiled with
/// (asked from the `libggml-cpu.so` beside the binary, else its CMakeCache).
extension RuntimeBench {
    /// One llama-bench run's tokens/s: pp (prompt) and tg (generation).
    struct PeerRates {
        var prefill: Double
        var decode: Double
    }

    /// A pair of rounds for one model × type × test.
    struct RatioRow {
        var model: String
        var type: TensorType
        var test: String
        /// (ours, llama.cpp) tokens/s per round: A = llama.cpp first, B = ours first.
        var roundA: (Double, Double)
        var roundB: (Double, Double)
    }

    struct PeerError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Why `binary` and the options cannot be compared with llama-bench, or nil. Checked before
    /// anything is measured.
    static func llamaBenchProblem(_ binary: String, options: Options) -> String? {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            return "'\(binary)' is not an executable file; expected the path of a llama-bench binary (e.g. llama.cpp/build/bin/llama-bench)"
        }
        guard options.kvType == .f16 || options.kvType == .f32 else {
            return "llama-bench is compared with f16 or f32 KV caches (its -ctk/-ctv); got --kv \(options.kvType)"
        }
        return nil
    }

    static func runVsLlamaCpp(binary: String, options: Options, pool: ThreadPool, probeBuffer: UnsafeRawBufferPointer) -> Int32 {
        let kvName = options.kvType == .f32 ? "f32" : "f16"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inferscope-vs-llama-cpp-\(getpid())")
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            FileHandle.standardError.write(Data("error: cannot create \(directory.path): \(error)\n".utf8))
            return 1
        }
        defer { try? FileManager.default.removeItem(at: directory) }

        print("ours: kernel path \(KernelPath.detected) (widest here: \(KernelPath.widest); CPU: \(KernelPath.cpuFeatureSummary)), \(pool.threadCount) threads")
        print("llama.cpp: \(peerVersion(binary))")
        print("llama.cpp CPU level: \(peerCPULevel(binary))")
        var rows: [RatioRow] = []
        for name in options.models {
            let preset = ModelPreset.named(name)!
            for type in options.types {
                print("generating \(name) \(type) weights (seed 1) and writing the GGUF…")
                let weights = preset.makeWeights(type: type, seed: 1)
                let file = directory.appendingPathComponent("\(name)-\(type).gguf").path
                do {
                    try weights.writeGGUF(to: file, name: preset.name, vocabulary: .synthetic(size: preset.config.vocabSize))
                } catch {
                    FileHandle.standardError.write(Data("error: writing \(file): \(error)\n".utf8))
                    return 1
                }
                func ours() -> PeerRates {
                    let local = HostProbe.measure(pool: pool, repetitions: 3)
                    let measured = measure(name: name, weights: weights, options: options, pool: pool, host: local, probeBuffer: probeBuffer)
                    printRows(measured)
                    return PeerRates(prefill: measured[0].tokensPerSecond, decode: measured[1].tokensPerSecond)
                }
                do {
                    print("round A (llama.cpp first)")
                    let peerA = try runLlamaBench(binary, file: file, options: options, kv: kvName)
                    let oursA = ours()
                    print("round B (ours first)")
                    let oursB = ours()
                    let peerB = try runLlamaBench(binary, file: file, options: options, kv: kvName)
                    rows.append(RatioRow(model: name, type: type, test: "pp\(options.promptTokens)",
                                         roundA: (oursA.prefill, peerA.prefill), roundB: (oursB.prefill, peerB.prefill)))
                    rows.append(RatioRow(model: name, type: type, test: "tg\(options.generatedTokens)",
                                         roundA: (oursA.decode, peerA.decode), roundB: (oursB.decode, peerB.decode)))
                    printRatioTable(rows.suffix(2))
                } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                    return 1
                }
                try? FileManager.default.removeItem(atPath: file)
            }
        }
        print("")
        printRatioTable(rows)
        let ratios = rows.flatMap { [$0.roundA.0 / $0.roundA.1, $0.roundB.0 / $0.roundB.1] }
        let below = rows.filter { min($0.roundA.0 / $0.roundA.1, $0.roundB.0 / $0.roundB.1) < 1 }
        print(String(format: "rows at ≥ 1.0× in both rounds: %d of %d; lowest ratio %.2f×", rows.count - below.count, rows.count,
                     ratios.min() ?? .nan))
        return 0
    }

    /// Runs llama-bench once on `file` and returns its pp and tg tokens/s.
    static func runLlamaBench(_ binary: String, file: String, options: Options, kv: String) throws(PeerError) -> PeerRates {
        let arguments = ["-m", file, "-p", "\(options.promptTokens)", "-n", "\(options.generatedTokens)", "-t", "\(options.threads)",
                         "-r", "\(options.repetitions)", "-ctk", kv, "-ctv", kv, "-o", "json"]
        print("  $ \(binary) \(arguments.joined(separator: " "))")
        let (status, out, err) = runProcess(binary, arguments)
        guard status == 0 else {
            throw PeerError(message: "llama-bench exited with status \(status) on \(file): \(String(err.suffix(800)))")
        }
        guard let list = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] else {
            throw PeerError(message: "llama-bench output on \(file) is not the JSON array `-o json` prints: \(String(out.prefix(300)))")
        }
        var prefill: Double?, decode: Double?
        for entry in list {
            let prompt = entry["n_prompt"] as? Int ?? 0, gen = entry["n_gen"] as? Int ?? 0
            guard let rate = entry["avg_ts"] as? Double else { continue }
            if prompt > 0 && gen == 0 { prefill = rate }
            if gen > 0 && prompt == 0 { decode = rate }
        }
        guard let prefill, let decode else {
            throw PeerError(message: "llama-bench JSON on \(file) lacks a pp or tg entry (fields n_prompt, n_gen, avg_ts)")
        }
        print(String(format: "  llama.cpp: pp %.1f t/s, tg %.1f t/s", prefill, decode))
        return PeerRates(prefill: prefill, decode: decode)
    }

    /// Exit status, stdout and stderr of a child process (both pipes drained while it runs).
    static func runProcess(_ binary: String, _ arguments: [String]) -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        do { try process.run() } catch { return (-1, "", "cannot start \(binary): \(error)") }
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = errPipe.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// `llama-bench --version`, first two lines joined.
    static func peerVersion(_ binary: String) -> String {
        let (_, out, err) = runProcess(binary, ["--version"])
        let text = (out + err).split(separator: "\n").prefix(2).joined(separator: "; ")
        return text.isEmpty ? "(no --version output)" : text
    }

    /// The CPU features ggml-cpu was compiled with: asked from `libggml-cpu.so` beside the binary
    /// (its `ggml_cpu_has_*` functions report compile-time flags), else GGML_* from the build's
    /// CMakeCache.txt.
    static func peerCPULevel(_ binary: String) -> String {
        let dir = URL(fileURLWithPath: binary).deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("libggml-cpu.so"), dir.deletingLastPathComponent().appendingPathComponent("lib/libggml-cpu.so")] {
            guard FileManager.default.fileExists(atPath: candidate.path), let handle = dlopen(candidate.path, RTLD_NOW | RTLD_LOCAL) else { continue }
            defer { dlclose(handle) }
            typealias Has = @convention(c) () -> Int32
            let names = ["avx", "avx2", "fma", "f16c", "avx512", "avx512_vbmi", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_int8"]
            var present: [String] = []
            for n in names {
                guard let symbol = dlsym(handle, "ggml_cpu_has_\(n)") else { continue }
                if unsafeBitCast(symbol, to: Has.self)() != 0 { present.append(n.uppercased()) }
            }
            return "ggml-cpu built with " + (present.isEmpty ? "no AVX" : present.joined(separator: " ")) + " (\(candidate.lastPathComponent))"
        }
        let cache = dir.deletingLastPathComponent().appendingPathComponent("CMakeCache.txt")
        if let text = try? String(contentsOf: cache, encoding: .utf8) {
            let flags = text.split(separator: "\n").filter { $0.hasPrefix("GGML_NATIVE:") || $0.hasPrefix("GGML_AVX") }
            return flags.joined(separator: " ") + " (CMakeCache.txt)"
        }
        return "unknown (no libggml-cpu.so or CMakeCache.txt beside \(binary))"
    }

    /// `| model | type | test | A ours / llama.cpp | B ours / llama.cpp |` in tokens/s and ratios.
    static func printRatioTable(_ rows: some Collection<RatioRow>) {
        print("| model | type | test | A: ours / llama.cpp (llama.cpp first) | B: ours / llama.cpp (ours first) |")
        print("|---|---|---|---:|---:|")
        func cell(_ pair: (Double, Double)) -> String {
            String(format: "%.1f / %.1f = %.2f×", pair.0, pair.1, pair.0 / pair.1)
        }
        for r in rows {
            print("| \(r.model) | \(r.type) | \(r.test) | \(cell(r.roundA)) | \(cell(r.roundB)) |")
        }
    }
}
