import Foundation
import Threading

/// Separable smoothing filters on planes, with clamp-to-edge borders (the edge pixel repeats), so
/// a border does not darken what is averaged near it. Parallel over rows.
enum Filters {
    /// Normalised Gaussian taps for offsets -radius...radius, radius = ceil(3 sigma).
    static func gaussianTaps(sigma: Float) -> [Float] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var taps = (-radius...radius).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
        let sum = taps.reduce(0, +)
        for i in taps.indices { taps[i] /= sum }
        return taps
    }

    static func gaussian(_ plane: Plane, sigma: Float, workers: Int) -> Plane {
        guard sigma > 0 else { return plane }
        let taps = gaussianTaps(sigma: sigma)
        return separable(plane, taps: taps, workers: workers)
    }

    /// Horizontal then vertical pass with the same odd-length taps.
    static func separable(_ plane: Plane, taps: [Float], workers: Int) -> Plane {
        let w = plane.width, h = plane.height, r = taps.count / 2
        var across = [Float](repeating: 0, count: plane.count)
        var out = [Float](repeating: 0, count: plane.count)
        plane.data.withUnsafeBufferPointer { srcBuffer in
        across.withUnsafeMutableBufferPointer { acrossBuffer in
        out.withUnsafeMutableBufferPointer { outBuffer in
        taps.withUnsafeBufferPointer { tapBuffer in
            let src = srcBuffer.baseAddress!, mid = acrossBuffer.baseAddress!, dst = outBuffer.baseAddress!
            let k = tapBuffer.baseAddress!
            Parallel.rows(h, workers: workers) { rows in
                for y in rows {
                    let row = src + y * w, outRow = mid + y * w
                    // Interior columns without clamping; the edges with it.
                    for x in 0..<w {
                        if x >= r && x + r < w {
                            var acc: Float = 0
                            let base = row + x - r
                            for t in 0..<(2 * r + 1) { acc += k[t] * base[t] }
                            outRow[x] = acc
                        } else {
                            var acc: Float = 0
                            for t in 0..<(2 * r + 1) { acc += k[t] * row[min(max(x + t - r, 0), w - 1)] }
                            outRow[x] = acc
                        }
                    }
                }
            }
            Parallel.rows(h, workers: workers) { rows in
                for y in rows {
                    let outRow = dst + y * w
                    for x in 0..<w { outRow[x] = 0 }
                    for t in 0..<(2 * r + 1) {
                        let source = mid + min(max(y + t - r, 0), h - 1) * w
                        let weight = k[t]
                        for x in 0..<w { outRow[x] += weight * source[x] }
                    }
                }
            }
        }}}}
        return Plane(width: w, height: h, data: out)
    }

    /// Two passes of a box mean whose radius gives the Gaussian's variance (sigma^2 = 2 r (r + 1) / 3):
    /// cost independent of sigma, close enough for removing a local mean.
    static func boxRadius(approximatingSigma sigma: Float) -> Int {
        max(1, Int(((1 + 6 * sigma * sigma).squareRoot() - 1) / 2 + 0.5))
    }

    /// How far from the border a band-passed plane is affected by edge handling: matching must
    /// ignore this band, or the static border pattern (identical in both images) pulls towards zero motion.
    static func bandPassMargin(fineSigma: Float, coarseSigma: Float) -> Int {
        Int((3 * fineSigma).rounded(.up)) + (coarseSigma > 0 ? 2 * boxRadius(approximatingSigma: coarseSigma) : 0) + 1
    }

    static func approximateGaussian(_ plane: Plane, sigma: Float, workers: Int) -> Plane {
        let radius = boxRadius(approximatingSigma: sigma)
        var once = [Float](repeating: 0, count: plane.count), twice = once, scratch = once
        plane.data.withUnsafeBufferPointer { src in
        once.withUnsafeMutableBufferPointer { a in
        twice.withUnsafeMutableBufferPointer { b in
        scratch.withUnsafeMutableBufferPointer { t in
            boxMean(src.baseAddress!, a.baseAddress!, scratch: t.baseAddress!, width: plane.width, height: plane.height, radius: radius, workers: workers)
            boxMean(a.baseAddress!, b.baseAddress!, scratch: t.baseAddress!, width: plane.width, height: plane.height, radius: radius, workers: workers)
        }}}}
        return Plane(width: plane.width, height: plane.height, data: twice)
    }

    /// Band-pass (Gaussian at `fineSigma` minus Gaussian at `coarseSigma`), divided by its global
    /// standard deviation: removes slowly varying illumination (a gain ramp, a gamma change's
    /// low-frequency part) and the detail only a sharp image has. coarseSigma <= 0 skips the subtraction.
    static func bandPass(_ plane: Plane, fineSigma: Float, coarseSigma: Float, workers: Int) -> Plane {
        var out = gaussian(plane, sigma: fineSigma, workers: workers)
        if coarseSigma > 0 {
            let coarse = approximateGaussian(plane, sigma: coarseSigma, workers: workers)
            for i in 0..<out.count { out.data[i] -= coarse.data[i] }
        }
        var sum = 0.0, sum2 = 0.0
        for value in out.data { sum += Double(value); sum2 += Double(value * value) }
        let mean = sum / Double(max(out.count, 1))
        let std = Float(max(sum2 / Double(max(out.count, 1)) - mean * mean, 0).squareRoot())
        if std > 1e-8 { for i in 0..<out.count { out.data[i] = (out.data[i] - Float(mean)) / std } }
        return out
    }

    /// Mean over the (2 radius + 1)^2 window truncated at the borders (each output divides by the
    /// number of in-image samples). Running sums: cost independent of the radius.
    static func boxMean(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        width w: Int, height h: Int, radius r: Int, workers: Int) {
        // Horizontal running sums into scratch (already divided by the horizontal count).
        Parallel.rows(h, workers: workers) { rows in
            for y in rows {
                let row = input + y * w, out = scratch + y * w
                var sum: Float = 0
                for x in 0..<min(r, w) { sum += row[x] }
                for x in 0..<w {
                    if x + r < w { sum += row[x + r] }
                    if x - r - 1 >= 0 { sum -= row[x - r - 1] }
                    let count = min(x + r, w - 1) - max(x - r, 0) + 1
                    out[x] = sum / Float(count)
                }
            }
        }
        // Vertical: each chunk of rows keeps its own sliding row of sums.
        Parallel.rows(h, workers: workers) { rows in
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: w)
            defer { sums.deallocate() }
            sums.initialize(repeating: 0, count: w)
            let first = rows.lowerBound
            // Rows first-r-1 ... first+r-1: the first step below adds first+r and drops first-r-1.
            for y in max(first - r - 1, 0)..<min(first + r, h) {
                let row = scratch + y * w
                for x in 0..<w { sums[x] += row[x] }
            }
            for y in rows {
                if y + r < h { let row = scratch + (y + r) * w; for x in 0..<w { sums[x] += row[x] } }
                if y - r - 1 >= 0 { let row = scratch + (y - r - 1) * w; for x in 0..<w { sums[x] -= row[x] } }
                let inverse = 1 / Float(min(y + r, h - 1) - max(y - r, 0) + 1)
                let out = output + y * w
                for x in 0..<w { out[x] = sums[x] * inverse }
            }
        }
    }

    /// Central differences (one-sided at the borders), in units of intensity per pixel.
    static func gradients(_ plane: Plane, workers: Int) -> (x: Plane, y: Plane) {
        let w = plane.width, h = plane.height
        var gx = [Float](repeating: 0, count: plane.count), gy = gx
        plane.data.withUnsafeBufferPointer { srcBuffer in
        gx.withUnsafeMutableBufferPointer { gxBuffer in
        gy.withUnsafeMutableBufferPointer { gyBuffer in
            let s = srcBuffer.baseAddress!, dx = gxBuffer.baseAddress!, dy = gyBuffer.baseAddress!
            Parallel.rows(h, workers: workers) { rows in
                for y in rows {
                    let up = s + max(y - 1, 0) * w, down = s + min(y + 1, h - 1) * w
                    let yScale: Float = (y == 0 || y == h - 1) ? 1 : 0.5
                    let row = s + y * w
                    for x in 0..<w {
                        let left = row[max(x - 1, 0)], right = row[min(x + 1, w - 1)]
                        let xScale: Float = (x == 0 || x == w - 1) ? 1 : 0.5
                        dx[y * w + x] = (right - left) * (w > 1 ? xScale : 0)
                        dy[y * w + x] = (down[x] - up[x]) * (h > 1 ? yScale : 0)
                    }
                }
            }
        }}}
        return (Plane(width: w, height: h, data: gx), Plane(width: w, height: h, data: gy))
    }
}
