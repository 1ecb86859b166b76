import Testing
import TraceFormat
@testable import ServingAPI

/// The server's arrival time for a request: the kernel's receive time moved onto the trace clock.
struct ArrivalTimeTests {
    @Test func receiveTimeMovesArrivalBackByItsLag() {
        let now: TraceTime = 5_000_000_000
        #expect(OpenAIHandler.arrival(now: now, receivedAt: 1_000.0, wallNow: 1_000.0025) == now - 2_500_000)
        // No receive time, one in the future, or one older than a minute: arrival is now.
        #expect(OpenAIHandler.arrival(now: now, receivedAt: nil, wallNow: 1_000) == now)
        #expect(OpenAIHandler.arrival(now: now, receivedAt: 1_000.5, wallNow: 1_000) == now)
        #expect(OpenAIHandler.arrival(now: now, receivedAt: 900, wallNow: 1_000) == now)
    }
}
