import Foundation
import Testing
import HTTPServer
import Importers
import LlamaModel
import ServingAPI
import ServingEngine
import TestSupport
import TraceFormat
import Tracing

struct ServeEndToEndTests {
    @Test func streamedCompletionIsFramedAndMatchesTheUnstreamedText() throws {
        let f = try ServeFixture()
        defer { try? f.stop() }
        let c = try f.client()
        c.post("/v1/completions", #"{"model":"tiny","prompt":"Once upon a time","max_tokens":12,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}"#)
        let r = try c.readResponse()
        #expect(r.status == 200 && r.headers["content-type"] == "text/event-stream")
        let events = ssePayloads(r.text)
        #expect(events.last == "[DONE]")
        let chunks = events.dropLast().compactMap(jsonObject)
        #expect(chunks.count == events.count - 1)
        // 12 token chunks (one token per step), the last with finish_reason, then the usage chunk.
        let tokenChunks = chunks.filter { (($0["choices"] as? [[String: Any]]) ?? []).count == 1 }
        #expect(tokenChunks.count == 12)
        let finish = (tokenChunks.last?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String
        #expect(finish == "length")
        let usage = chunks.last?["usage"] as? [String: Any]
        #expect((chunks.last?["choices"] as? [Any])?.isEmpty == true)
        #expect(usage?["completion_tokens"] as? Int == 12)
        let streamed = tokenChunks.map { (($0["choices"] as! [[String: Any]])[0]["text"] as? String) ?? "" }.joined()

        // The same request unstreamed (greedy): the same text and usage.
        c.post("/v1/completions", #"{"prompt":"Once upon a time","max_tokens":12,"ignore_eos":true}"#)
        let whole = try c.readResponse()
        let doc = jsonObject(whole.text)
        #expect(whole.status == 200 && doc?["object"] as? String == "text_completion")
        let choice = (doc?["choices"] as? [[String: Any]])?.first
        #expect(choice?["text"] as? String == streamed)
        #expect((doc?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 12)
    }

    @Test func chatStreamCarriesTheRoleWithTheFirstContent() throws {
        let f = try ServeFixture()
        defer { try? f.stop() }
        let c = try f.client()
        c.post("/v1/chat/completions", #"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hello"}]}],"max_completion_tokens":5,"ignore_eos":true,"stream":true}"#)
        let r = try c.readResponse()
        let chunks = ssePayloads(r.text).dropLast().compactMap(jsonObject)
        #expect(chunks.count == 5)
        let deltas = chunks.map { (($0["choices"] as! [[String: Any]])[0]["delta"] as! [String: Any]) }
        #expect(deltas[0]["role"] as? String == "assistant")
        #expect(deltas.dropFirst().allSatisfy { $0["role"] == nil })
        #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
    }

    @Test func tokenIDPromptsStopTokensAndMinTokens() throws {
        let f = try ServeFixture()
        defer { try? f.stop() }
        let c = try f.client()
        c.post("/v1/completions", #"{"prompt":[5,6,7,8],"max_tokens":6,"ignore_eos":true}"#)
        let doc = jsonObject(try c.readResponse().text)
        #expect((doc?["usage"] as? [String: Any])?["prompt_tokens"] as? Int == 4)
        c.post("/v1/completions", #"{"prompt":[[5,6,7,8]],"max_tokens":6,"ignore_eos":true}"#)
        #expect(jsonObject(try c.readResponse().text)?["choices"] as? NSArray == doc?["choices"] as? NSArray)
        // Every id of the vocabulary is a stop token: min_tokens decides where generation ends.
        let all = (0..<512).map(String.init).joined(separator: ",")
        c.post("/v1/completions", #"{"prompt":[5,6,7,8],"max_tokens":20,"min_tokens":20,"stop_token_ids":[\#(all)]}"#)
        let held = jsonObject(try c.readResponse().text)
        #expect((held?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 20)
        c.post("/v1/completions", #"{"prompt":[5,6,7,8],"max_tokens":20,"min_tokens":3,"stop_token_ids":[\#(all)]}"#)
        let stopped = jsonObject(try c.readResponse().text)
        #expect((stopped?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 4)
        #expect(((stopped?["choices"] as? [[String: Any]])?.first?["finish_reason"]) as? String == "stop")
    }

    @Test func badRequestsGetTheirStatusAndNameTheField() throws {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 2048
        let f = try ServeFixture(limits: limits)
        defer { try? f.stop() }
        let c = try f.client()
        func check(_ body: String, _ status: Int, param: String?, path: String = "/v1/completions") throws {
            c.post(path, body)
            let r = try c.readResponse()
            #expect(r.status == status, "\(body.prefix(80))")
            let error = jsonObject(r.text)?["error"] as? [String: Any]
            #expect(error?["code"] as? Int == status && error?["message"] is String, "\(r.text)")
            if let param { #expect(error?["param"] as? String == param, "\(r.text)") }
        }
        try check("{not json", 400, param: nil)
        try check("[1,2]", 400, param: nil)
        try check(#"{"max_tokens":3}"#, 400, param: "prompt")
        try check(#"{"prompt":"a","max_tokens":"3"}"#, 400, param: "max_tokens")
        try check(#"{"prompt":"a","temperature":-1}"#, 400, param: "temperature")
        try check(#"{"prompt":"a","n":2}"#, 400, param: "n")
        try check(#"{"prompt":"a","stop":[1]}"#, 400, param: "stop")
        try check(#"{"prompt":[1,99999]}"#, 400, param: "prompt")
        try check(#"{"prompt":"a","model":"gpt-4"}"#, 404, param: "model")
        try check(#"{"prompt":"a","max_tokens":10,"min_tokens":11}"#, 400, param: "min_tokens")
        try check(#"{"prompt":"a","max_tokens":300}"#, 400, param: "max_tokens")   // context 256
        try check(#"{"prompt":[\#((0..<300).map { _ in "5" }.joined(separator: ","))]}"#, 400, param: "prompt")
        try check(#"{"messages":[{"content":"x"}]}"#, 400, param: "messages[0].role", path: "/v1/chat/completions")
        try check(#"{"messages":[]}"#, 400, param: "messages", path: "/v1/chat/completions")
        // Over the body limit: 413, before the body is read.
        c.post("/v1/completions", #"{"prompt":"\#(String(repeating: "a", count: 3000))"}"#)
        #expect(try c.readResponse().status == 413)
        // And the server still serves.
        let d = try f.client()
        d.get("/health")
        #expect(try d.readResponse().status == 200)
        d.get("/v1/models")
        let models = jsonObject(try d.readResponse().text)
        #expect(((models?["data"] as? [[String: Any]])?.first?["id"]) as? String == "tiny")
        d.get("/nope")
        #expect(try d.readResponse().status == 404)
    }

    @Test func aFullQueueAnswers503() throws {
        // An engine that is never started keeps its submissions queued: the second one is refused.
        let model = try ModelLoader.load("tiny", seed: 0)
        var options = EngineOptions()
        options.threads = 1
        let engine = OnlineEngine(engine: try ServingEngine(model: model, options: options, tracer: .disabled), maxWaiting: 1)
        _ = try engine.submit(OnlineRequest(prompt: [5, 6], maxTokens: 2)) { _ in }
        #expect(throws: SubmitError.queueFull(limit: 1)) { try engine.submit(OnlineRequest(prompt: [5], maxTokens: 2)) { _ in } }
        let handler = OpenAIHandler(engine: engine, model: model, modelName: "tiny")
        let server = HTTPServer(port: 0, handler: handler)
        try server.start()
        defer { server.stopAccepting(); server.waitForConnections(timeout: 5) }
        let c = try LoopbackClient(port: server.port)
        c.post("/v1/completions", #"{"prompt":[5,6],"max_tokens":2}"#)
        let r = try c.readResponse()
        #expect(r.status == 503 && r.text.contains("queue is full"))
    }

    @Test func manyConcurrentStreamsAllCompleteAndMetricsAddUp() throws {
        let f = try ServeFixture()
        defer { try? f.stop() }
        let clients = 8, tokens = 16
        let results = ResultBox(count: clients)
        // One thread per client so all of them are in flight at once (concurrentPerform runs at
        // most one per core: on 2 cores under load the clients could finish one after another).
        let group = DispatchGroup()
        for i in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let c = try? f.client() else { return }
                c.post("/v1/completions", #"{"prompt":"client \#(i) says","max_tokens":\#(tokens),"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}"#)
                guard let r = try? c.readResponse() else { return }
                let events = ssePayloads(r.text)
                let usage = events.dropLast().compactMap(jsonObject).last?["usage"] as? [String: Any]
                results.set(i, events.last == "[DONE]" ? usage?["completion_tokens"] as? Int ?? -1 : -2)
            }.start()
        }
        group.wait()
        #expect(results.values == Array(repeating: tokens, count: clients))
        // All joined one engine: some step ran more than one sequence.
        let batched = f.sink.events.contains { if case .step(let s) = $0 { return s.batch.count > 1 } else { return false } }
        #expect(batched)
        let c = try f.client()
        c.get("/metrics")
        let text = try c.readResponse().text
        #expect(text.contains("vllm:generation_tokens_total{model_name=\"tiny\",engine=\"0\"} \(clients * tokens).0"))
        #expect(text.contains("vllm:time_to_first_token_seconds_count{model_name=\"tiny\",engine=\"0\"} \(clients).0"))
        #expect(text.contains("vllm:request_success_total{model_name=\"tiny\",engine=\"0\",finished_reason=\"length\"} \(clients).0"))
    }

    @Test func aClientThatDisconnectsMidStreamAbortsItsRequestAndFreesItsBlocks() throws {
        let f = try ServeFixture()
        let c = try f.client()
        c.post("/v1/completions", #"{"prompt":"a long story","max_tokens":240,"ignore_eos":true,"stream":true}"#)
        _ = try c.readHead()
        _ = try c.readChunk()   // the first token arrived
        c.close()
        #expect(f.eventually { f.session.engine.liveRequests == 0 })
        let g = f.session.engine.gauges
        #expect(g.running == 0 && g.kvBlocksUsed == 0)
        try f.stop()
        #expect(try f.session.engine.checkKVAfterStop() == 0)
        let aborted = f.sink.events.compactMap { e -> RequestEvent? in
            if case .request(let r) = e, r.kind == .aborted { return r } else { return nil }
        }
        #expect(aborted.count == 1 && aborted.first?.reason == "client disconnected")
        let generated = f.sink.events.reduce(0) { n, e in
            if case .request(let r) = e, r.kind == .token || r.kind == .firstToken { return n + Int(r.tokens ?? 1) } else { return n }
        }
        #expect(generated < 240)
    }

    @Test func metricsAreReadByTheVLLMMetricsImporter() throws {
        let f = try ServeFixture()
        defer { try? f.stop() }
        let c = try f.client()
        c.get("/metrics")
        let before = try c.readResponse().text
        for i in 0..<3 {
            c.post("/v1/completions", #"{"prompt":"metrics \#(i)","max_tokens":7,"ignore_eos":true}"#)
            #expect(try c.readResponse().status == 200)
        }
        c.get("/metrics")
        let after = try c.readResponse().text

        // One scrape, unchanged: the importer reads the gauges and the cache configuration.
        var events: [TraceEvent] = []
        try VLLMMetricsImporter().importTrace(Array(after.utf8), file: "metrics.txt", options: ImportOptions()) { events.append($0) }
        guard case .header(let h)? = events.first else { Issue.record("no header"); return }
        #expect(h.options["kv_blocks"] == "\(f.session.engine.gauges.kvBlocksTotal)")
        #expect(h.options["block_size"] == "16")
        let kv = events.compactMap { if case .kvCache(let k) = $0 { return k } else { return nil } }
        #expect(kv.count == 1 && kv.first?.running == 0 && kv.first?.waiting == 0)

        // Two scrapes with timestamps: counter differences and histogram means.
        func stamped(_ text: String, _ ms: Int) -> String {
            text.split(separator: "\n").map { $0.hasPrefix("#") ? String($0) : "\($0) \(ms)" }.joined(separator: "\n")
        }
        events = []
        let both = stamped(before, 1_000) + "\n" + stamped(after, 2_000) + "\n"
        try VLLMMetricsImporter().importTrace(Array(both.utf8), file: "two.txt", options: ImportOptions()) { events.append($0) }
        guard case .header(let h2)? = events.first else { Issue.record("no header"); return }
        #expect(h2.workload.parameters["reported.generation_tokens"] == "21")
        #expect(h2.workload.parameters["reported.mean_ttft_s"] != nil)
        #expect(h2.workload.parameters["reported.mean_e2e_s"] != nil)
    }

    @Test func abortOnStopEndsInFlightRequestsAndTheTraceIsComplete() throws {
        let f = try ServeFixture()
        let c = try f.client()
        c.post("/v1/completions", #"{"prompt":"stop me","max_tokens":240,"ignore_eos":true,"stream":true}"#)
        _ = try c.readHead()
        _ = try c.readChunk()
        try f.stop(drain: false)
        // The stream ends with an error event, without [DONE].
        var rest: [UInt8] = []
        while let chunk = try? c.readChunk() { rest += chunk }
        let text = String(decoding: rest, as: UTF8.self)
        #expect(text.contains("server stopping") && !text.contains("[DONE]"))
        let kinds = f.sink.events.compactMap { e -> RequestEvent.Kind? in if case .request(let r) = e { return r.kind } else { return nil } }
        #expect(kinds.first == .arrival && kinds.last == .aborted)
        guard case .header? = f.sink.events.first else { Issue.record("the trace does not start with its header"); return }
        #expect(try f.session.engine.checkKVAfterStop() == 0)
    }
}

extension ServeEndToEndTests {
    @Test(arguments: ["disaggregated", "static", "spec"])
    func otherEngineModesServeStreamsAndCancel(mode: String) throws {
        let f = try ServeFixture { o in
            switch mode {
            case "disaggregated": o.disaggregated = true; o.threads = 2
            case "static": o.policy = .static
            default: o.speculation = SpeculationConfig(strategy: .ngram(maxMatch: 2), draftLength: .fixed(2))
            }
        }
        let c = try f.client()
        c.post("/v1/completions", #"{"prompt":"mode test","max_tokens":9,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}"#)
        let events = ssePayloads(try c.readResponse().text)
        #expect(events.last == "[DONE]")
        #expect((events.dropLast().compactMap(jsonObject).last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 9)
        // A disconnect mid-stream frees the request's blocks in every worker.
        let d = try f.client()
        d.post("/v1/completions", #"{"prompt":"leave early","max_tokens":200,"ignore_eos":true,"stream":true}"#)
        _ = try d.readHead()
        _ = try d.readChunk()
        d.close()
        #expect(f.eventually { f.session.engine.liveRequests == 0 })
        try f.stop()
        #expect(try f.session.engine.checkKVAfterStop() == 0)
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var v: [Int]
    init(count: Int) { v = Array(repeating: 0, count: count) }
    func set(_ i: Int, _ x: Int) { lock.lock(); v[i] = x; lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return v }
}
