/// Sums the SSIM map of one channel over a band of map rows. Windowed means of x, y, x², y², xy are
/// separable: a vertical pass keeps five column aggregates per image column, a horizontal pass turns
/// them into window means for one map row. For the uniform window both passes are running sums
/// (add the entering row/column, subtract the leaving one: O(1) per pixel whatever the window);
/// the Gaussian window uses plain weighted sums. Everything is Double.
struct SSIMBandScorer {
    let window: SSIMWindow
    let width: Int
    let rowStride: Int
    let c1: Double
    let c2: Double

    init(window: SSIMWindow, width: Int, rowStride: Int, dataRange: Double) {
        self.window = window
        self.width = width
        self.rowStride = rowStride
        self.c1 = (0.01 * dataRange) * (0.01 * dataRange)
        self.c2 = (0.03 * dataRange) * (0.03 * dataRange)
    }

    /// `target`/`output` point at the top-left of the cropped region; map row r is centred on image
    /// row r + radius. Returns the sum of SSIM over the band's map rows and valid columns.
    func sumOfMap(target: UnsafePointer<Float>, output: UnsafePointer<Float>, mapRows: Range<Int>) -> Double {
        sumOfMap(target: target, output: output, mapRows: mapRows, mask: nil).sum
    }

    /// The same, over only the map pixels whose window centre has `mask` true (`mask` points at the
    /// cropped region's top-left, row stride `rowStride`); also returns how many were summed.
    func sumOfMap(target: UnsafePointer<Float>, output: UnsafePointer<Float>, mapRows: Range<Int>,
                  mask: UnsafePointer<Bool>?) -> (sum: Double, count: Int) {
        if mapRows.isEmpty { return (0, 0) }
        let radius = window.radius, side = 2 * radius + 1
        // Column aggregates (vertical pass) then window means (horizontal pass), 5 quantities each.
        let columns = UnsafeMutablePointer<Double>.allocate(capacity: 5 * width)
        let means = UnsafeMutablePointer<Double>.allocate(capacity: 5 * width)
        defer { columns.deallocate(); means.deallocate() }
        let weights = window.weights
        var total = 0.0, counted = 0
        let radiusOffset = radius * rowStride + radius
        for mapRow in mapRows {
            if window == .uniform {
                if mapRow == mapRows.lowerBound {
                    columns.initialize(repeating: 0, count: 5 * width)
                    for k in 0..<side { addRow(target + (mapRow + k) * rowStride, output + (mapRow + k) * rowStride, into: columns, sign: 1) }
                } else {
                    slideRow(entering: (target + (mapRow + side - 1) * rowStride, output + (mapRow + side - 1) * rowStride),
                             leaving: (target + (mapRow - 1) * rowStride, output + (mapRow - 1) * rowStride), columns)
                }
                slideHorizontally(columns, into: means, scale: 1.0 / Double(side * side))
            } else {
                columns.initialize(repeating: 0, count: 5 * width)
                for k in 0..<side {
                    addRow(target + (mapRow + k) * rowStride, output + (mapRow + k) * rowStride, into: columns, sign: weights[k])
                }
                weighHorizontally(columns, into: means, weights: weights)
            }
            if let mask {
                let (sum, count) = sumOfRow(means, mask: mask + mapRow * rowStride + radiusOffset)
                total += sum; counted += count
            } else {
                total += sumOfRow(means)
                counted += width - 2 * radius
            }
        }
        return (total, counted)
    }

    /// columns[q][x] += sign * q(x) for q in (x, y, x², y², xy); x is the target, y the output.
    @inline(__always)
    private func addRow(_ t: UnsafePointer<Float>, _ o: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Double>, sign: Double) {
        let w = width
        let sx = columns, sy = columns + w, sxx = columns + 2 * w, syy = columns + 3 * w, sxy = columns + 4 * w
        for i in 0..<w {
            let a = Double(t[i]), b = Double(o[i])
            sx[i] += sign * a
            sy[i] += sign * b
            sxx[i] += sign * (a * a)
            syy[i] += sign * (b * b)
            sxy[i] += sign * (a * b)
        }
    }

    /// The uniform window's vertical step in one pass: add the row entering the window, subtract
    /// the one leaving it.
    @inline(__always)
    private func slideRow(entering: (UnsafePointer<Float>, UnsafePointer<Float>), leaving: (UnsafePointer<Float>, UnsafePointer<Float>),
                          _ columns: UnsafeMutablePointer<Double>) {
        let w = width
        let sx = columns, sy = columns + w, sxx = columns + 2 * w, syy = columns + 3 * w, sxy = columns + 4 * w
        let (ta, oa) = entering, (tl, ol) = leaving
        for i in 0..<w {
            let a = Double(ta[i]), b = Double(oa[i]), c = Double(tl[i]), d = Double(ol[i])
            sx[i] += a - c
            sy[i] += b - d
            sxx[i] += a * a - c * c
            syy[i] += b * b - d * d
            sxy[i] += a * b - c * d
        }
    }

    /// Box means along the row by a running sum; means[q][j] is centred on column j + radius.
    private func slideHorizontally(_ columns: UnsafeMutablePointer<Double>, into means: UnsafeMutablePointer<Double>, scale: Double) {
        let side = 2 * window.radius + 1, outCount = width - side + 1
        for q in 0..<5 {
            let column = columns + q * width, mean = means + q * width
            var running = 0.0
            for k in 0..<side { running += column[k] }
            mean[0] = running * scale
            if outCount > 1 {
                for j in 1..<outCount {
                    running += column[j + side - 1] - column[j - 1]
                    mean[j] = running * scale
                }
            }
        }
    }

    private func weighHorizontally(_ columns: UnsafeMutablePointer<Double>, into means: UnsafeMutablePointer<Double>, weights: [Double]) {
        let side = weights.count, outCount = width - side + 1
        weights.withUnsafeBufferPointer { w in
            for q in 0..<5 {
                let column = columns + q * width, mean = means + q * width
                for j in 0..<outCount {
                    var sum = 0.0
                    for k in 0..<side { sum += w[k] * column[j + k] }
                    mean[j] = sum
                }
            }
        }
    }

    /// SSIM at each valid column from the window means, summed.
    private func sumOfRow(_ means: UnsafeMutablePointer<Double>) -> Double {
        let outCount = width - 2 * window.radius
        var sum = 0.0
        for j in 0..<outCount { sum += ssimAt(means, j) }
        return sum
    }

    /// Only the columns whose window centre is in the mask (`mask` points at this map row's first centre).
    private func sumOfRow(_ means: UnsafeMutablePointer<Double>, mask: UnsafePointer<Bool>) -> (Double, Int) {
        let outCount = width - 2 * window.radius
        var sum = 0.0, count = 0
        for j in 0..<outCount where mask[j] {
            sum += ssimAt(means, j)
            count += 1
        }
        return (sum, count)
    }

    /// SSIM of the window at map column j from the window means.
    @inline(__always)
    private func ssimAt(_ means: UnsafeMutablePointer<Double>, _ j: Int) -> Double {
        let w = width
        let mx = means, my = means + w, mxx = means + 2 * w, myy = means + 3 * w, mxy = means + 4 * w
        let norm = window.covarianceNormalisation
        let ux = mx[j], uy = my[j]
        let vx = norm * (mxx[j] - ux * ux)
        let vy = norm * (myy[j] - uy * uy)
        let vxy = norm * (mxy[j] - ux * uy)
        let numerator = (2 * ux * uy + c1) * (2 * vxy + c2)
        let denominator = (ux * ux + uy * uy + c1) * (vx + vy + c2)
        return numerator / denominator
    }
}
