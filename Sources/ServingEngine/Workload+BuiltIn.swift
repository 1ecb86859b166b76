extension Workload {
    /// The built-in request classes, by workload name. Lengths suit a 256-token context (the
    /// `stories15m` preset) and are clipped to the model's context by the generator.
    public static let builtInClasses: [String: [RequestClass]] = {
        let chat = RequestClass(name: "chat", prompt: .lognormal(median: 48, sigma: 0.6),
                                output: .lognormal(median: 40, sigma: 0.6), maxOutput: 128)
        let rag = RequestClass(name: "rag", prompt: .uniform(120, 200), output: .uniform(8, 24), maxOutput: 32)
        let summarize = RequestClass(name: "summarize", prompt: .uniform(100, 160), output: .uniform(32, 64), maxOutput: 96)
        let agent = RequestClass(name: "agent", prompt: .uniform(16, 48), output: .uniform(80, 128), maxOutput: 128)
        let shared = RequestClass(name: "shared-prefix", prompt: .uniform(8, 32), output: .uniform(16, 48),
                                  maxOutput: 64, sharedPrefix: 96)
        return ["chat": [chat], "rag": [rag], "summarize": [summarize], "agent": [agent],
                "shared-prefix": [shared], "mixed": [chat, rag, summarize, agent, shared]]
    }()

    /// Built-in workload names, sorted.
    public static var builtInNames: [String] { builtInClasses.keys.sorted() }

    /// Default request count and arrival of the built-ins: 64 requests, Poisson at 8 req/s.
    public static let defaultRequestCount = 64
    public static let defaultArrival = ArrivalPattern.poisson(rate: 8)

    /// A built-in workload. Throws for an unknown name, listing the known ones.
    public static func builtIn(_ name: String, count: Int = defaultRequestCount, arrival: ArrivalPattern = defaultArrival,
                               seed: UInt64 = 0, maxContext: Int) throws(WorkloadError) -> Workload {
        guard let classes = builtInClasses[name] else {
            throw WorkloadError(source: "--workload", line: nil, field: "workload", message: "unknown workload '\(name)'",
                                expected: "one of \(builtInNames.joined(separator: ", ")), or a .jsonl / ShareGPT .json file")
        }
        guard count >= 1 else {
            throw WorkloadError(source: "--requests", line: nil, field: "requests", message: "\(count) requests",
                                expected: "at least 1")
        }
        return WorkloadGenerator(name: name, classes: classes, count: count, arrival: arrival, seed: seed,
                                 maxContext: maxContext).generate()
    }
}
