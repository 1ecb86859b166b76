/// One parsed HTTP/1.x request: what ``HTTPRequestParser/parse(_:from:limits:)`` returns.
public struct HTTPRequest: Sendable, Equatable {
    /// "GET", "POST"… as sent (methods are case-sensitive).
    public var method: String
    /// The request target as sent: "/v1/completions?x=1".
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Header fields in order, names as sent.
    public var headers: [(name: String, value: String)]
    /// The body after transfer decoding (chunked bodies are de-chunked).
    public var body: [UInt8]
    /// When the request's first byte reached this host, in seconds since the Unix epoch: the
    /// kernel's receive timestamp (SO_TIMESTAMPNS) where the socket gives one, else the time the
    /// server read it. Set by ``HTTPServer``; nil from the parser alone. Not part of `==`.
    public var receivedAt: Double? = nil

    public init(method: String, target: String, minorVersion: Int = 1, headers: [(name: String, value: String)] = [],
                body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// The path part of the target (before `?`).
    public var path: String { String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "") }

    /// The first value of header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        let tokens = (header("Connection") ?? "").lowercased().split(separator: ",").map { $0.trimmingCharacters(in: " \t") }
        if minorVersion == 0 { return tokens.contains("keep-alive") }
        return !tokens.contains("close")
    }

    public static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
        a.method == b.method && a.target == b.target && a.minorVersion == b.minorVersion && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }
}

/// Size and time limits of the server. Sizes in bytes, times in seconds.
public struct HTTPLimits: Sendable, Equatable {
    /// Request line plus header fields (431 beyond).
    public var maxHeaderBytes = 16 * 1024
    /// Decoded body (413 beyond).
    public var maxBodyBytes = 4 * 1024 * 1024
    /// A request must arrive completely within this time of its first byte (408 beyond).
    public var requestTimeout: Double = 30
    /// An idle keep-alive connection is closed after this long without a new request.
    public var idleTimeout: Double = 60
    /// A write that makes no progress for this long closes the connection (stalled reader).
    public var writeTimeout: Double = 30
    /// Most open connections; more are answered 503 and closed.
    public var maxConnections = 256

    public init() {}
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
