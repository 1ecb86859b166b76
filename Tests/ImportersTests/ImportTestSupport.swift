import Foundation
import Testing
import Analysis
@testable import Importers
import TraceFormat

/// The repository root (this file is Tests/ImportersTests/ImportTestSupport.swift).
let packageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// A fixture under traces/import/.
func fixtureBytes(_ name: String) throws -> [UInt8] {
    let data = try #require(FileManager.default.contents(atPath: packageRoot + "/traces/import/" + name), "missing fixture \(name)")
    return [UInt8](data)
}

/// The fixture parsed by Foundation (an implementation independent of ours), one object per
/// JSON Lines line or the whole file.
func foundationJSON(_ name: String, lines: Bool = false) throws -> [Any] {
    let bytes = try fixtureBytes(name)
    // Foundation rejects Python's bare Infinity token (SGLang writes it): quote it first.
    let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: ": Infinity", with: ": \"Infinity\"")
    if !lines { return [try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])] }
    return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) }
}

func importFixture(_ name: String, _ format: ImportFormat, _ options: ImportOptions = .init()) throws -> [TraceEvent] {
    try format.importer.importEvents(try fixtureBytes(name), file: name, options: options)
}

/// Imports `text` as `format`, expecting an error; returns its message.
func importFailure(_ text: String, _ format: ImportFormat, file: String = "bad.json",
                   options: ImportOptions = .init()) -> String? {
    do {
        _ = try format.importer.importEvents(Array(text.utf8), file: file, options: options)
        return nil
    } catch {
        return error.description
    }
}

/// Per request: its events in order.
func requestEvents(_ events: [TraceEvent]) -> [RequestID: [RequestEvent]] {
    var out: [RequestID: [RequestEvent]] = [:]
    for case .request(let r) in events { out[r.request, default: []].append(r) }
    return out
}

func header(_ events: [TraceEvent]) throws -> RunHeader {
    guard case .header(let h)? = events.first else { Issue.record("first event is not the header"); throw CancellationError() }
    return h
}

func seconds(_ ns: TraceTime) -> Double { Double(ns) * 1e-9 }

/// |a − b| ≤ tol·max(1, |b|).
func close(_ a: Double?, _ b: Double?, _ tol: Double = 1e-6) -> Bool {
    guard let a, let b else { return false }
    return abs(a - b) <= tol * max(1, abs(b))
}

func analyze(_ events: [TraceEvent], _ options: AnalysisOptions = .init()) throws -> AnalysisResult {
    try Analyzer.analyze(events, options: options)
}
