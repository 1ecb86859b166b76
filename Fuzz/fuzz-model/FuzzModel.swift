// libFuzzer target: the model loaders of LlamaModel — GGUF (header, metadata, tensor directory,
// weights, vocabulary) and llama2.c (checkpoint and tokenizer.bin). Built only with
// INFERSCOPE_FUZZ=1 and --sanitize=fuzzer (see docs/fuzzing.md).
#if canImport(Glibc)
import Glibc
#endif
import Kernels
import LlamaModel

/// The loaders take a path (they memory-map the file), so each input is written to one file in
/// a private directory on /dev/shm (a RAM file system) when there is one, else /tmp.
private let directory: String = {
    var template = Array((access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp").utf8CString.dropLast()) + Array("/inferscope-fuzz-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("fuzz-model: cannot create a temporary directory") }
    return String(cString: made)
}()

private func write(_ bytes: UnsafeRawBufferPointer, to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("fuzz-model: cannot write \(path)") }
    var done = 0
    while done < bytes.count {
        let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
        guard n > 0 else { fatalError("fuzz-model: short write to \(path)") }
        done += n
    }
    close(fd)
}

/// One input: a model file. Loaded through `ModelLoader.load` (GGUF by magic, else llama2.c);
/// the same bytes are then read as a llama2.c `tokenizer.bin` of 1…64 tokens, and a loaded
/// tokenizer encodes and decodes a short text. Typed ``ModelLoadError``s are fine; traps are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let path = directory + "/model.bin"
    write(UnsafeRawBufferPointer(start: data, count: size), to: path)
    do {
        let model = try ModelLoader.load(path)
        if let tokenizer = model.tokenizer {
            _ = tokenizer.decode(tokenizer.encode("Once upon a time, 42 \u{1F600}"))
        }
        _ = model.descriptor()
    } catch {
        _ = error.description
    }
    let tokens = size == 0 ? 1 : Int(data![size - 1] % 64) + 1
    do {
        let vocabulary = try Vocabulary(llama2cTokenizer: path, size: tokens)
        let tokenizer = Tokenizer(vocabulary: vocabulary)
        _ = tokenizer.decode(tokenizer.encode("hello world"))
    } catch {
        _ = error.description
    }
    return 0
}

/// libFuzzer calls this once before fuzzing. With `INFERSCOPE_FUZZ_WRITE_SEEDS=DIR` it writes
/// the seed corpus instead (tiny models through the runtime's own writers) and exits: this is
/// how Fuzz/corpus/fuzz-model was made (`scripts/fuzz.sh --write-model-seeds`).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzModelInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    atexit { unlink(directory + "/model.bin"); rmdir(directory) }
    guard let out = getenv("INFERSCOPE_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    do {
        // Vocabulary.synthetic needs 512 tokens; a seed needs few: control, byte and text pieces.
        let pieces = ["<unk>", "<s>", "</s>", "<0x0A>", "<0x41>", "\u{2581}", "a", "b", "\u{2581}a", "ab"]
        let kinds: [Vocabulary.TokenKind] = [.unknown, .control, .control, .byte, .byte, .normal, .normal, .normal, .normal, .normal]
        let vocabulary = Vocabulary(pieces: pieces, scores: pieces.indices.map { -Float($0) }, kinds: kinds)
        let small = ModelConfig(dim: 8, hiddenDim: 16, layers: 1, heads: 2, kvHeads: 1, vocabSize: pieces.count, maxSeqLen: 4)
        let blocked = ModelConfig(dim: 32, hiddenDim: 32, layers: 1, heads: 2, kvHeads: 1, vocabSize: pieces.count, maxSeqLen: 4)
        try ModelPreset(name: "seed", config: small).makeWeights(type: .f32, seed: 1)
            .writeGGUF(to: out + "/tiny-f32.gguf", name: "seed", vocabulary: vocabulary)
        try ModelPreset(name: "seed", config: blocked).makeWeights(type: .q8_0, seed: 1)
            .writeGGUF(to: out + "/tiny-q8_0.gguf", name: "seed", vocabulary: vocabulary)
        var tied = small
        tied.tiedEmbeddings = true
        let checkpoint = llama2cCheckpoint(ModelPreset(name: "seed", config: tied).makeWeights(type: .f32, seed: 1))
        checkpoint.withUnsafeBytes { write($0, to: out + "/tiny-llama2c.bin") }
        let tokenizer = llama2cTokenizer(vocabulary)
        tokenizer.withUnsafeBytes { write($0, to: out + "/tokenizer.bin") }
    } catch {
        fatalError("fuzz-model: cannot write the seeds: \(error)")
    }
    exit(0)
}

/// The legacy llama2.c checkpoint layout (ModelWeights+Llama2c.swift documents it).
private func llama2cCheckpoint(_ w: ModelWeights) -> [UInt8] {
    let c = w.config
    var out: [UInt8] = []
    for v in [c.dim, c.hiddenDim, c.layers, c.heads, c.kvHeads, c.tiedEmbeddings ? c.vocabSize : -c.vocabSize, c.maxSeqLen] {
        withUnsafeBytes(of: Int32(v).littleEndian) { out += $0 }
    }
    func matrix(_ m: WeightMatrix) { out += UnsafeRawBufferPointer(start: m.base, count: m.byteCount) }
    func vector(_ p: UnsafePointer<Float>) { out += UnsafeRawBufferPointer(start: p, count: c.dim * 4) }
    matrix(w.tokenEmbedding)
    for l in w.layers { vector(l.attentionNorm) }
    for l in w.layers { matrix(l.wq) }
    for l in w.layers { matrix(l.wk) }
    for l in w.layers { matrix(l.wv) }
    for l in w.layers { matrix(l.wo) }
    for l in w.layers { vector(l.ffnNorm) }
    for l in w.layers { matrix(l.gate) }
    for l in w.layers { matrix(l.down) }
    for l in w.layers { matrix(l.up) }
    vector(w.finalNorm)
    out += [UInt8](repeating: 0, count: c.maxSeqLen * c.headDim * 4)
    if !c.tiedEmbeddings { matrix(w.output) }
    return out
}

/// llama2.c's tokenizer.bin: max length, then score, length and bytes per token.
private func llama2cTokenizer(_ v: Vocabulary) -> [UInt8] {
    var out: [UInt8] = []
    let pieces = v.pieces.map { Array($0.split(separator: Character(Vocabulary.spaceMarker), omittingEmptySubsequences: false).joined(separator: " ").utf8) }
    withUnsafeBytes(of: Int32(pieces.map(\.count).max() ?? 1).littleEndian) { out += $0 }
    for (i, p) in pieces.enumerated() {
        withUnsafeBytes(of: v.scores[i].bitPattern.littleEndian) { out += $0 }
        withUnsafeBytes(of: Int32(p.count).littleEndian) { out += $0 }
        out += p
    }
    return out
}
