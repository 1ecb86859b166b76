import Foundation

/// An OpenAI `GET /v1/models` answer.
public enum ModelList {
    /// The `id` of the first entry of `data`, nil when the body is not such a list. O(body size).
    public static func firstID(_ body: [UInt8]) -> String? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let list = o["data"] as? [[String: Any]] else { return nil }
        return list.first?["id"] as? String
    }
}
