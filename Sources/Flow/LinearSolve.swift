/// Solves the small dense system M x = b (n <= 8) by Gaussian elimination with partial pivoting,
/// in Double. Returns nil when M is singular to working precision.
func solveLinearSystem(_ matrix: [Double], _ rhs: [Double], size n: Int) -> [Double]? {
    var m = matrix, b = rhs
    for column in 0..<n {
        var pivot = column
        for row in (column + 1)..<max(column + 1, n) where abs(m[row * n + column]) > abs(m[pivot * n + column]) { pivot = row }
        let scale = abs(m[pivot * n + column])
        guard scale > 1e-300, scale.isFinite else { return nil }
        if pivot != column {
            for k in 0..<n { m.swapAt(pivot * n + k, column * n + k) }
            b.swapAt(pivot, column)
        }
        for row in (column + 1)..<max(column + 1, n) {
            let factor = m[row * n + column] / m[column * n + column]
            if factor == 0 { continue }
            for k in column..<n { m[row * n + k] -= factor * m[column * n + k] }
            b[row] -= factor * b[column]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for row in stride(from: n - 1, through: 0, by: -1) {
        var sum = b[row]
        for k in (row + 1)..<max(row + 1, n) { sum -= m[row * n + k] * x[k] }
        x[row] = sum / m[row * n + row]
    }
    return x.allSatisfy(\.isFinite) ? x : nil
}
