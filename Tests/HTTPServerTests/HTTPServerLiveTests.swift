import Foundation
import Testing
import HTTPServer
import TestSupport

/// Answers with the method, path and body; `/stream` streams three chunks.
struct EchoHandler: HTTPHandler {
    func handle(_ request: HTTPRequest, _ c: HTTPConnection) {
        if request.path == "/received" {
            // How long before the handler ran the request's first byte reached the host, ms.
            let lag = request.receivedAt.map { String(Int(((Date().timeIntervalSince1970 - $0) * 1000).rounded())) } ?? "none"
            c.respond(HTTPResponse(status: 200, contentType: "text/plain", body: lag))
            return
        }
        if request.path == "/stream" {
            _ = c.startStream(status: 200, headers: [("Content-Type", "text/event-stream")])
            for i in 0..<3 { _ = c.send(SSE.event("\(i)")) }
            _ = c.send(SSE.done)
            _ = c.endStream()
            return
        }
        let text = "\(request.method) \(request.path) \(String(decoding: request.body, as: UTF8.self))"
        c.respond(HTTPResponse(status: 200, contentType: "text/plain", body: text))
    }
}

/// Live server tests on 127.0.0.1 and a free port; every server is stopped by its test.
struct HTTPServerLiveTests {
    func withServer(_ limits: HTTPLimits = HTTPLimits(), _ body: (UInt16) throws -> Void) throws {
        let server = HTTPServer(host: "127.0.0.1", port: 0, limits: limits, handler: EchoHandler())
        try server.start()
        defer {
            server.stopAccepting()
            server.waitForConnections(timeout: 5)
        }
        try body(server.port)
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        try withServer { port in
            let c = try LoopbackClient(port: port)
            for i in 0..<3 {
                c.post("/echo", "body\(i)")
                let r = try c.readResponse()
                #expect(r.status == 200 && r.text == "POST /echo body\(i)")
                #expect(r.headers["connection"] == "keep-alive")
            }
            // Two pipelined requests in one write, one chunked.
            c.send("GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n")
            #expect(try c.readResponse().text == "GET /a ")
            #expect(try c.readResponse().text == "POST /b xyz")
        }
    }

    /// A request's arrival is its first byte's, not its last: a head sent 300 ms before its body
    /// is handled ≥ 300 ms after it arrived (what a client measuring TTFT from its send sees).
    @Test func receivedAtIsTheFirstBytesArrival() throws {
        try withServer { port in
            let c = try LoopbackClient(port: port)
            c.send("POST /received HTTP/1.1\r\nContent-Length: 3\r\n\r\n")
            Thread.sleep(forTimeInterval: 0.3)
            c.send("abc")
            let lag = try #require(Int(try c.readResponse().text))
            #expect(lag >= 280 && lag < 10_000)
            // The next request on the connection gets its own arrival.
            c.send("GET /received HTTP/1.1\r\n\r\n")
            let next = try #require(Int(try c.readResponse().text))
            #expect(next >= 0 && next < 250)
        }
    }

    @Test func garbageGets400AndTheConnectionCloses() throws {
        try withServer { port in
            let c = try LoopbackClient(port: port)
            c.send("\u{16}\u{03}\u{01} not http at all\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 400 && r.text.contains("\"error\""))
            #expect(c.readUntilClosed().isEmpty)
            // The server keeps serving other connections.
            let d = try LoopbackClient(port: port)
            d.get("/ok")
            #expect(try d.readResponse().status == 200)
        }
    }

    @Test func oversizeHeadAndBodyAreRefused() throws {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 256
        limits.maxBodyBytes = 100
        try withServer(limits) { port in
            let c = try LoopbackClient(port: port)
            c.send("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 400))\r\n\r\n")
            #expect(try c.readResponse().status == 431)
            let d = try LoopbackClient(port: port)
            d.post("/x", String(repeating: "b", count: 101))
            #expect(try d.readResponse().status == 413)
        }
    }

    @Test func aStalledRequestTimesOutWith408() throws {
        var limits = HTTPLimits()
        limits.requestTimeout = 0.3
        try withServer(limits) { port in
            let c = try LoopbackClient(port: port)
            c.send("POST /slow HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")   // 7 bytes never come
            let r = try c.readResponse()
            #expect(r.status == 408)
            #expect(c.readUntilClosed().isEmpty)
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        var limits = HTTPLimits()
        limits.idleTimeout = 0.3
        try withServer(limits) { port in
            let c = try LoopbackClient(port: port)
            c.get("/a")
            #expect(try c.readResponse().status == 200)
            #expect(c.readUntilClosed().isEmpty)   // returns once the server closes
        }
    }

    @Test func streamIsChunkedServerSentEvents() throws {
        try withServer { port in
            let c = try LoopbackClient(port: port)
            c.get("/stream")
            let r = try c.readResponse()
            #expect(r.status == 200 && r.headers["transfer-encoding"] == "chunked")
            #expect(r.text == "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: [DONE]\n\n")
            c.get("/after")   // still usable
            #expect(try c.readResponse().text == "GET /after ")
        }
    }
}
