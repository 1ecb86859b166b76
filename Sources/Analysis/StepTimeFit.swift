/// Streaming least squares for the step-time model of methodology §6.2:
/// `t = a + b_p·n_prefill + b_d·n_decode + b_c·Σctx`. Keeps only the 4×4 normal equations,
/// so memory is O(1). When regressors are collinear (e.g. a constant batch) it falls back to
/// the largest identifiable nested model: {1,n_p,n_d,ctx} → {1,n_p,n_d} → {1,n_p} → {1,n_d,ctx}
/// → {1,n_d}.
struct StepTimeFit: Sendable {
    private var xtx = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
    private var xty = [Double](repeating: 0, count: 4)
    private(set) var samples = 0

    mutating func add(prefillTokens: Double, decodeTokens: Double, context: Double, seconds: Double) {
        let x = [1, prefillTokens, decodeTokens, context]
        for i in 0..<4 {
            xty[i] += x[i] * seconds
            for j in 0..<4 { xtx[i][j] += x[i] * x[j] }
        }
        samples += 1
    }

    /// Adds `count` steps at once (a step-run record): identical token counts and step time, the
    /// context sum growing by `contextIncrement` per step from `firstContext`. Uses the closed
    /// forms Σj = n(n−1)/2 and Σj² = (n−1)n(2n−1)/6, so the normal equations equal those of the
    /// expanded steps in O(1).
    mutating func addRun(count: Int64, prefillTokens: Double, decodeTokens: Double, firstContext: Double,
                         contextIncrement: Double, seconds: Double) {
        let n = Double(count)
        let s1 = n * (n - 1) / 2, s2 = (n - 1) * n * (2 * n - 1) / 6
        let c0 = firstContext, k = contextIncrement
        // Sums over the run of x_i (constant columns) and of the context column and its square.
        let sums = [n, n * prefillTokens, n * decodeTokens, n * c0 + k * s1]
        let constant = [1, prefillTokens, decodeTokens]
        for i in 0..<3 {
            for j in 0..<3 { xtx[i][j] += n * constant[i] * constant[j] }
            xtx[i][3] += constant[i] * sums[3]
            xtx[3][i] += constant[i] * sums[3]
        }
        xtx[3][3] += n * c0 * c0 + 2 * c0 * k * s1 + k * k * s2
        for i in 0..<4 { xty[i] += sums[i] * seconds }
        samples += Int(clamping: count)
    }

    static let names = ["1", "n_prefill", "n_decode", "sum_ctx"]

    /// The fitted model, or nil when even the smallest model is not identifiable.
    func solve() -> StepTimeModel? {
        let candidates: [[Int]] = [[0, 1, 2, 3], [0, 1, 2], [0, 1], [0, 2, 3], [0, 2]]
        for cols in candidates where samples >= cols.count + 1 {
            guard let beta = solveSubset(cols) else { continue }
            var coef = [0.0, 0.0, 0.0, 0.0]
            for (k, c) in cols.enumerated() { coef[c] = beta[k] }
            return StepTimeModel(intercept: coef[0], perPrefillToken: coef[1], perDecodeToken: coef[2],
                                 perContextToken: coef[3], terms: cols.map { StepTimeFit.names[$0] },
                                 samples: samples)
        }
        return nil
    }

    /// Gaussian elimination with partial pivoting on column-scaled normal equations; nil when a
    /// pivot is negligible (collinear regressors).
    private func solveSubset(_ cols: [Int]) -> [Double]? {
        let n = cols.count
        let scale = cols.map { c -> Double in let d = xtx[c][c]; return d > 0 ? d.squareRoot() : 0 }
        if scale.contains(0) { return nil }
        var m = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for i in 0..<n {
            for j in 0..<n { m[i][j] = xtx[cols[i]][cols[j]] / (scale[i] * scale[j]) }
            m[i][n] = xty[cols[i]] / scale[i]
        }
        for col in 0..<n {
            var pivot = col
            for r in col..<n where abs(m[r][col]) > abs(m[pivot][col]) { pivot = r }
            if abs(m[pivot][col]) < 1e-9 { return nil }
            m.swapAt(col, pivot)
            for r in 0..<n where r != col {
                let f = m[r][col] / m[col][col]
                if f == 0 { continue }
                for k in col...n { m[r][k] -= f * m[col][k] }
            }
        }
        return (0..<n).map { m[$0][n] / m[$0][$0] / scale[$0] }
    }
}
