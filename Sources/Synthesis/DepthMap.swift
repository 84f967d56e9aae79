import Foundation
import Imaging
import Seeding
import Threading

/// A synthetic scene depth in [0, 1] (0 near, 1 far) that is smooth inside objects and jumps where the
/// image has edges, as real depth does. Built in two steps:
/// 1. SLIC-style superpixels: k-means over (colour, position) with a local search window, so segment
///    borders snap to colour edges.
/// 2. Superpixels are grouped by mean colour into a few "surfaces"; each surface is a random tilted
///    plane. Neighbouring segments of one surface share the plane, so depth is continuous across them
///    and breaks only between surfaces.
public struct DepthMap: Sendable {
    public var width: Int
    public var height: Int
    public var depth: [Float]
    /// The superpixel label of each pixel (exposed for tests and debugging views).
    public var labels: [Int32]

    public struct Parameters: Sendable {
        /// Approximate number of superpixels.
        public var segments = 160
        /// Colour vs. distance trade-off (colour in [0, 1] sRGB units; larger = more compact segments).
        public var compactness: Float = 1.0
        /// Texture is smoothed away (disk of this fraction of the width) before segmenting, so segments
        /// follow object edges rather than foliage or grain.
        public var presmoothFraction: Float = 0.003
        public var iterations = 4
        /// Number of depth surfaces the segments are grouped into.
        public var surfaces = 4
        public init() {}
    }

    public static func make(from image: PlanarImage, parameters: Parameters = .init(), rng: inout SplitMix64,
                            threads: Int) -> DepthMap {
        let width = image.width, height = image.height, plane = image.planeSize
        var smoothed = image
        let smoothing = parameters.presmoothFraction * Float(width)
        if smoothing >= 1 {
            for c in 0..<image.channels {
                image.pixels.withUnsafeBufferPointer { src in
                    smoothed.pixels.withUnsafeMutableBufferPointer { dst in
                        DefocusRenderer.diskBlur(source: UnsafeBufferPointer(rebasing: src[(c * plane)..<((c + 1) * plane)]),
                                                 into: UnsafeMutableBufferPointer(rebasing: dst[(c * plane)..<((c + 1) * plane)]),
                                                 width: width, height: height, radius: smoothing, rows: 0..<height,
                                                 columns: 0..<width, threads: threads)
                    }
                }
            }
        }
        let labels = superpixels(smoothed, parameters: parameters, threads: threads)
        let segmentCount = Int(labels.max() ?? 0) + 1

        // Each segment's feature: mean colour plus its centre (weighted), so a surface is a coherent
        // region of similar colour rather than every pixel of one colour across the frame.
        let featureCount = 5, positionWeight: Float = 0.6
        var sums = [Float](repeating: 0, count: segmentCount * featureCount), counts = [Float](repeating: 0, count: segmentCount)
        for i in 0..<plane {
            let s = Int(labels[i])
            counts[s] += 1
            for c in 0..<3 { sums[s * featureCount + c] += smoothed.pixels[c * plane + i] }
            sums[s * featureCount + 3] += positionWeight * Float(i % width) / Float(width)
            sums[s * featureCount + 4] += positionWeight * Float(i / width) / Float(width)
        }
        var colours = [[Float]](repeating: [Float](repeating: 0, count: featureCount), count: segmentCount)
        for s in 0..<segmentCount where counts[s] > 0 { colours[s] = (0..<featureCount).map { sums[s * featureCount + $0] / counts[s] } }

        // Group segments into surfaces by colour (k-means, seeded from random segments).
        let surfaceCount = max(1, min(parameters.surfaces, segmentCount))
        var centres = (0..<surfaceCount).map { _ in colours[Int(rng.next() % UInt64(segmentCount))] }
        var surfaceOf = [Int](repeating: 0, count: segmentCount)
        for _ in 0..<6 {
            for s in 0..<segmentCount {
                var best = 0, bestDistance = Float.infinity
                for (k, centre) in centres.enumerated() {
                    let d = zip(colours[s], centre).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                    if d < bestDistance { bestDistance = d; best = k }
                }
                surfaceOf[s] = best
            }
            for k in 0..<surfaceCount {
                let members = (0..<segmentCount).filter { surfaceOf[$0] == k && counts[$0] > 0 }
                guard !members.isEmpty else { continue }
                centres[k] = (0..<featureCount).map { c in members.reduce(Float(0)) { $0 + colours[$1][c] } / Float(members.count) }
            }
        }

        // One tilted plane per surface: depth = offset + tilt . (position - centre).
        let planes: [(offset: Float, tiltX: Float, tiltY: Float)] = (0..<surfaceCount).map { _ in
            (Float(rng.uniform(0.05, 0.95)), Float(rng.uniform(-0.35, 0.35)), Float(rng.uniform(-0.35, 0.35)))
        }
        var depth = [Float](repeating: 0, count: plane)
        for y in 0..<height {
            let fy = Float(y) / Float(height) - 0.5
            for x in 0..<width {
                let p = planes[surfaceOf[Int(labels[y * width + x])]]
                depth[y * width + x] = min(max(p.offset + p.tiltX * (Float(x) / Float(width) - 0.5) + p.tiltY * fy, 0), 1)
            }
        }
        return DepthMap(width: width, height: height, depth: depth, labels: labels)
    }

    /// SLIC superpixels (Achanta et al. 2012) on sRGB colour: each centre competes for pixels within
    /// 2S x 2S of it, with distance colour^2 + (compactness * spatial / S)^2.
    static func superpixels(_ image: PlanarImage, parameters: Parameters, threads: Int) -> [Int32] {
        let width = image.width, height = image.height, plane = image.planeSize
        let step = max(4, Int((Double(plane) / Double(parameters.segments)).squareRoot()))
        var centres: [(x: Float, y: Float, r: Float, g: Float, b: Float)] = []
        var y = step / 2
        while y < height {
            var x = step / 2
            while x < width {
                let i = y * width + x
                centres.append((Float(x), Float(y), image.pixels[i], image.pixels[plane + i], image.pixels[2 * plane + i]))
                x += step
            }
            y += step
        }
        var labels = [Int32](repeating: 0, count: plane)
        let spatialWeight = (parameters.compactness / Float(step)) * (parameters.compactness / Float(step))
        let columns = (width - step / 2 + step - 1) / step
        for _ in 0..<parameters.iterations {
            // Assignment: each pixel looks at the centres of its own and the neighbouring grid cells
            // (equivalent to each centre scanning 2S x 2S, and parallel over rows without write races).
            let frozen = centres
            labels.withUnsafeMutableBufferPointer { out in
                image.pixels.withUnsafeBufferPointer { px in
                    let labelsOut = out, pixels = px
                    Parallel.rows(height, workers: threads, minimumRowsPerChunk: 1) { rows in
                        for y in rows {
                            let cellY = min(y / step, (frozen.count / max(columns, 1)) - 1)
                            for x in 0..<width {
                                let cellX = min(x / step, columns - 1)
                                let i = y * width + x
                                let r = pixels[i], g = pixels[plane + i], b = pixels[2 * plane + i]
                                var best: Int32 = 0, bestDistance = Float.infinity
                                for dy in -1...1 {
                                    let cy = cellY + dy
                                    if cy < 0 || cy * columns >= frozen.count { continue }
                                    for dx in -1...1 {
                                        let cx = cellX + dx
                                        if cx < 0 || cx >= columns { continue }
                                        let k = cy * columns + cx
                                        let c = frozen[k]
                                        let dc = (r - c.r) * (r - c.r) + (g - c.g) * (g - c.g) + (b - c.b) * (b - c.b)
                                        let sx = Float(x) - c.x, sy = Float(y) - c.y
                                        let d = dc + spatialWeight * (sx * sx + sy * sy)
                                        if d < bestDistance { bestDistance = d; best = Int32(k) }
                                    }
                                }
                                labelsOut[i] = best
                            }
                        }
                    }
                }
            }
            // Update: centres move to the mean of their pixels (they keep their grid cell index).
            var accumulators = [Float](repeating: 0, count: centres.count * 6)
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x, k = Int(labels[i]) * 6
                    accumulators[k] += Float(x); accumulators[k + 1] += Float(y)
                    accumulators[k + 2] += image.pixels[i]; accumulators[k + 3] += image.pixels[plane + i]
                    accumulators[k + 4] += image.pixels[2 * plane + i]; accumulators[k + 5] += 1
                }
            }
            for k in 0..<centres.count where accumulators[k * 6 + 5] > 0 {
                let n = accumulators[k * 6 + 5]
                centres[k] = (accumulators[k * 6] / n, accumulators[k * 6 + 1] / n, accumulators[k * 6 + 2] / n,
                              accumulators[k * 6 + 3] / n, accumulators[k * 6 + 4] / n)
            }
        }
        return labels
    }
}
