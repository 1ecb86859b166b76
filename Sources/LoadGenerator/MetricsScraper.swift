import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PrometheusText
import Synchronization
import TraceFormat
import Tracing

/// A blocking HTTP GET (for `/metrics`, `/v1/models`, `/props`): status and body, or the error.
public enum HTTPGet {
    public struct Response: Sendable { public var status: Int; public var body: [UInt8] }

    /// GETs `url` with a timeout in seconds. O(response size).
    public static func fetch(_ url: String, timeout: Double = 5, session: URLSession? = nil) -> Result<Response, HTTPGetError> {
        guard let u = URL(string: url), u.scheme == "http" || u.scheme == "https" else {
            return .failure(HTTPGetError(url: url, message: "not an http(s) URL"))
        }
        var request = URLRequest(url: u)
        request.timeoutInterval = timeout
        let own = session == nil
        let s = session ?? URLSession(configuration: .ephemeral)
        defer { if own { s.finishTasksAndInvalidate() } }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        s.dataTask(with: request) { data, response, error in
            if let error {
                box.set(.failure(HTTPGetError(url: url, message: error.localizedDescription)))
            } else {
                box.set(.success(Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: Array(data ?? Data()))))
            }
            done.signal()
        }.resume()
        if done.wait(timeout: .now() + timeout + 1) == .timedOut { return .failure(HTTPGetError(url: url, message: "no answer within \(timeout) s")) }
        return box.value ?? .failure(HTTPGetError(url: url, message: "no answer"))
    }

    private final class ResultBox: Sendable {
        private let r = Mutex<Result<Response, HTTPGetError>?>(nil)
        func set(_ v: Result<Response, HTTPGetError>) { r.withLock { $0 = v } }
        var value: Result<Response, HTTPGetError>? { r.withLock { $0 } }
    }
}

public struct HTTPGetError: Error, Sendable, CustomStringConvertible {
    public var url: String
    public var message: String
    public var description: String { "\(url): \(message)" }
}

/// Scrapes a Prometheus endpoint every `interval` while a run lasts, reducing each scrape to a
/// ``ServerSnapshot`` stamped with the run's clock when the response arrived. One scrape at a
/// time; a slow or failing scrape is counted, never fatal. Thread-safe.
public final class MetricsScraper: Sendable {
    public let url: String
    /// Nanoseconds between scrape starts (250 ms by default).
    public let interval: Int64
    private let clock: any TraceClock
    private let state = Mutex<(snapshots: [ServerSnapshot], failures: Int, running: Bool, names: Set<String>)>(([], 0, false, []))
    private let done = DispatchSemaphore(value: 0)

    public init(url: String, interval: Int64 = 250_000_000, clock: any TraceClock) {
        self.url = url
        self.interval = interval
        self.clock = clock
    }

    /// Starts scraping on a background thread (one scrape immediately).
    public func start() {
        state.withLock { $0.running = true }
        let thread = Thread { [self] in
            let session = URLSession(configuration: .ephemeral)
            defer { session.finishTasksAndInvalidate(); done.signal() }
            var next = clock.now()
            while state.withLock({ $0.running }) {
                scrapeOnce(session: session)
                next += interval
                while state.withLock({ $0.running }) {
                    let wait = next - clock.now()
                    if wait <= 0 { break }
                    usleep(UInt32(min(wait / 1000, 20_000)))
                }
            }
        }
        thread.name = "inferscope.metrics"
        thread.start()
    }

    /// Takes one last scrape, stops, and returns every snapshot in time order.
    public func stop() -> (snapshots: [ServerSnapshot], failures: Int, names: Set<String>) {
        let wasRunning = state.withLock { s in let r = s.running; s.running = false; return r }
        if wasRunning { done.wait() }
        scrapeOnce(session: nil)
        return state.withLock { ($0.snapshots, $0.failures, $0.names) }
    }

    private func scrapeOnce(session: URLSession?) {
        switch HTTPGet.fetch(url, timeout: 2, session: session) {
        case .success(let r) where r.status == 200:
            let now = clock.now()
            let samples = (try? PrometheusText.parse(String(decoding: r.body, as: UTF8.self), lenient: true)) ?? []
            let snap = ServerMetrics.snapshot(samples, at: now)
            let recognised = Set(ServerMetrics.mappings.map(\.name)).intersection(samples.map(\.name))
            state.withLock { $0.snapshots.append(snap); $0.names.formUnion(recognised) }
        default:
            state.withLock { $0.failures += 1 }
        }
    }
}
