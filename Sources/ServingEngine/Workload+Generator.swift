import LlamaModel

/// One class of requests in a generated workload: prompt and output length distributions, the
/// client's output cap, and an optional shared prefix.
public struct RequestClass: Sendable, Equatable {
    public var name: String
    public var prompt: LengthDistribution
    public var output: LengthDistribution
    /// The client's `max_tokens` (what a contiguous allocator must reserve), ≥ every output.
    public var maxOutput: Int
    /// Requests of this class start with the same `sharedPrefix` tokens (0 = none).
    public var sharedPrefix: Int

    public init(name: String, prompt: LengthDistribution, output: LengthDistribution, maxOutput: Int, sharedPrefix: Int = 0) {
        self.name = name
        self.prompt = prompt
        self.output = output
        self.maxOutput = maxOutput
        self.sharedPrefix = sharedPrefix
    }
}

/// A seeded workload generator: `count` requests drawn from classes (uniformly), arriving by
/// `arrival`, clipped so prompt + max output fits `maxContext`.
public struct WorkloadGenerator: Sendable, Equatable {
    public var name: String
    public var classes: [RequestClass]
    public var count: Int
    public var arrival: ArrivalPattern
    public var seed: UInt64
    public var maxContext: Int

    public init(name: String, classes: [RequestClass], count: Int, arrival: ArrivalPattern, seed: UInt64, maxContext: Int) {
        self.name = name
        self.classes = classes
        self.count = count
        self.arrival = arrival
        self.seed = seed
        self.maxContext = maxContext
    }

    /// The workload. Same inputs, same requests. O(count).
    public func generate() -> Workload {
        var rng = Xoshiro256(seed: seed)
        let offsets = arrival.offsets(count: count, rng: &rng)
        var requests: [WorkloadRequest] = []
        for i in 0..<count {
            let c = classes.count == 1 ? classes[0] : classes[Int(rng.next() % UInt64(classes.count))]
            let cap = min(c.maxOutput, maxContext / 2)
            var output = min(c.output.sample(&rng), cap)
            var prompt = max(c.sharedPrefix + 1, c.prompt.sample(&rng) + c.sharedPrefix)
            prompt = min(prompt, maxContext - cap)
            output = max(1, output)
            requests.append(WorkloadRequest(arrival: offsets[i], promptLength: prompt, outputTokens: output,
                                            maxOutputTokens: cap,
                                            prefixGroup: c.sharedPrefix > 0 ? c.name : nil,
                                            prefixLength: min(c.sharedPrefix, prompt - 1)))
        }
        var parameters = ["seed": "\(seed)", "count": "\(count)", "max_context": "\(maxContext)"]
        for c in classes {
            parameters["class.\(c.name)"] = "prompt=\(c.prompt) output=\(c.output) max_output=\(c.maxOutput) shared_prefix=\(c.sharedPrefix)"
        }
        return Workload(name: name, requests: requests, arrival: arrival, parameters: parameters)
    }
}
