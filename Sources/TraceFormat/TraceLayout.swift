/// The constants of the on-disk mapping (trace format v1): Chrome `ph` types, categories, the
/// process id and the Chrome `tid` of each track. The encoder and the decoder both read them
/// from here, so the two directions cannot drift apart. `docs/trace-format.md` is their prose.
public enum TraceLayout {
    /// Every event belongs to one Chrome process.
    public static let pid: Int64 = 1
    /// `tid` of the run header instant (and of the request async events, which Perfetto
    /// places on per-request tracks of the process regardless of `tid`).
    public static let runLane: Int32 = 0
    /// `tid` of KV transfer spans. Engine lanes (``StepEvent/lane``) should stay below it.
    public static let transferLane: Int32 = 100

    /// `cat` of each event kind.
    public enum Category {
        public static let header: StaticString = "header"
        public static let step: StaticString = "step"
        public static let transfer: StaticString = "transfer"
        public static let request: StaticString = "request"
        public static let kvCache: StaticString = "kv_cache"
        public static let speculation: StaticString = "speculation"
    }

    /// `name` of the header instant.
    public static let headerName: StaticString = "run_header"
    /// `name` of the speculation counter event (one Perfetto counter track per series).
    public static let speculationName: StaticString = "speculation"

    /// The display name Perfetto shows for an engine lane's thread track.
    public static func laneName(_ lane: Int32) -> String {
        switch lane {
        case runLane: return "run"
        case 1: return "engine"
        case 2: return "decode worker"
        case transferLane: return "kv transfer"
        default: return "lane \(lane)"
        }
    }
}
