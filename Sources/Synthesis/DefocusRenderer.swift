import Foundation
import Imaging
import Threading

/// Spatially varying disk (pillbox) blur by depth layers, composited far to near in linear light.
///
/// Depth is sliced into `levels` layers; each pixel belongs softly to the two levels around its depth
/// (linear weights, so smooth depth gives smooth blur). A layer is blurred with the disk of its own
/// radius as premultiplied colour plus coverage, then laid "over" what is behind it. Consequences at
/// depth edges: a blurred foreground spreads over the background (as in a real lens), while a sharp
/// foreground stays sharp because background light is only ever composited behind it. Coverage is
/// renormalised at the end, which also removes the dark rim that zero padding would leave at borders.
public enum DefocusRenderer {
    public struct Layering: Sendable {
        public var levels = 12
        public init() {}
    }

    /// - Parameters:
    ///   - linear: planar linear-light RGB.
    ///   - depth: per pixel, 0 near ... 1 far.
    ///   - radius: blur radius in pixels as a function of depth.
    public static func render(linear: PlanarImage, depth: [Float], radius: (Float) -> Float, layering: Layering = .init(),
                              threads: Int) -> PlanarImage {
        let width = linear.width, height = linear.height, plane = linear.planeSize, channels = linear.channels
        let lowest = depth.min() ?? 0, highest = depth.max() ?? 0
        let levels = highest - lowest < 1e-6 ? 1 : max(2, layering.levels)
        let levelDepth: (Int) -> Float = { levels == 1 ? lowest : lowest + (highest - lowest) * Float($0) / Float(levels - 1) }

        // Accumulated premultiplied colour (channels planes) and coverage (last plane).
        var accumulated = [Float](repeating: 0, count: plane * (channels + 1))
        var layer = [Float](repeating: 0, count: plane * (channels + 1))
        var blurred = layer

        for level in stride(from: levels - 1, through: 0, by: -1) {  // far first
            // Layer membership: tent weight around this level's depth.
            var minX = width, maxX = -1, minY = height, maxY = -1
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    let w = membership(depth[i], level: level, levels: levels, lowest: lowest, highest: highest)
                    layer[channels * plane + i] = w
                    for c in 0..<channels { layer[c * plane + i] = linear.pixels[c * plane + i] * w }
                    if w > 0 { minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y) }
                }
            }
            guard maxX >= 0 else { continue }
            let r = max(0, radius(levelDepth(level)))
            let reach = Int(r)
            let box = (x: max(0, minX - reach), y: max(0, minY - reach), xEnd: min(width, maxX + reach + 1), yEnd: min(height, maxY + reach + 1))
            for c in 0...channels {
                layer.withUnsafeBufferPointer { src in
                    blurred.withUnsafeMutableBufferPointer { dst in
                        diskBlur(source: UnsafeBufferPointer(rebasing: src[(c * plane)..<((c + 1) * plane)]),
                                 into: UnsafeMutableBufferPointer(rebasing: dst[(c * plane)..<((c + 1) * plane)]),
                                 width: width, height: height, radius: r,
                                 rows: box.y..<box.yEnd, columns: box.x..<box.xEnd, threads: threads)
                    }
                }
            }
            // "Over": result = layer + (1 - layer coverage) * behind.
            for y in box.y..<box.yEnd {
                for x in box.x..<box.xEnd {
                    let i = y * width + x
                    let keep = 1 - blurred[channels * plane + i]
                    for c in 0...channels { accumulated[c * plane + i] = blurred[c * plane + i] + keep * accumulated[c * plane + i] }
                }
            }
        }
        var out = PlanarImage(width: width, height: height, channels: channels, bitDepth: linear.bitDepth)
        for i in 0..<plane {
            let coverage = accumulated[channels * plane + i]
            for c in 0..<channels {
                out.pixels[c * plane + i] = coverage > 1e-6 ? accumulated[c * plane + i] / coverage : linear.pixels[c * plane + i]
            }
        }
        return out
    }

    @inline(__always)
    static func membership(_ d: Float, level: Int, levels: Int, lowest: Float, highest: Float) -> Float {
        if levels == 1 { return 1 }
        let position = (d - lowest) / (highest - lowest) * Float(levels - 1)
        return max(0, 1 - abs(position - Float(level)))
    }

    /// Half-width of the disk's row at vertical offset dy: the taps (dx, dy) with dx^2 + dy^2 <= r^2.
    static func halfWidths(radius: Float) -> [Int] {
        let reach = Int(radius)
        return (-reach...reach).map { dy in Int((radius * radius - Float(dy * dy)).squareRoot()) }
    }

    /// Mean over a disk of radius `radius` (zero outside the image), for the pixels in `rows` x `columns`.
    /// Each disk row is a horizontal span, summed in O(1) from per-row prefix sums.
    static func diskBlur(source: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                         radius: Float, rows: Range<Int>, columns: Range<Int>, threads: Int) {
        let spans = halfWidths(radius: radius)
        let reach = spans.count / 2
        let area = Float(spans.reduce(0) { $0 + 2 * $1 + 1 })
        let inputRows = max(0, rows.lowerBound - reach)..<min(height, rows.upperBound + reach)
        // prefix[y][x + 1] = sum of source[y][0...x]; Double keeps long rows exact enough.
        var prefix = [Double](repeating: 0, count: inputRows.count * (width + 1))
        prefix.withUnsafeMutableBufferPointer { pre in
            let p = pre
            Parallel.rows(inputRows.count, workers: threads, minimumRowsPerChunk: 1) { band in
                for r in band {
                    let y = inputRows.lowerBound + r
                    var sum = 0.0
                    p[r * (width + 1)] = 0
                    for x in 0..<width { sum += Double(source[y * width + x]); p[r * (width + 1) + x + 1] = sum }
                }
            }
            let out = output
            Parallel.rows(rows.count, workers: threads, minimumRowsPerChunk: 1) { band in
                for r in band {
                    let y = rows.lowerBound + r
                    for x in columns {
                        var sum = 0.0
                        for (k, half) in spans.enumerated() {
                            let sy = y + k - reach
                            if sy < 0 || sy >= height { continue }
                            let base = (sy - inputRows.lowerBound) * (width + 1)
                            let left = max(0, x - half), right = min(width, x + half + 1)
                            sum += p[base + right] - p[base + left]
                        }
                        out[y * width + x] = Float(sum) / area
                    }
                }
            }
        }
    }
}
