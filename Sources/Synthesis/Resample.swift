import Foundation
import Imaging
import Threading

/// The reconstruction kernel of `Resample`.
public enum ResamplingKernel: Sendable, Equatable {
    /// The 2x2 tent: halves the finest detail at half-pixel offsets (kept for comparison).
    case bilinear
    /// Lanczos with `lobes` lobes: sinc(d) sinc(d / lobes) on |d| < lobes, weights normalised to sum 1
    /// per axis. More lobes come closer to the ideal low-pass of a band-limited image, so that more of
    /// the detail just below the sampling limit survives a resampling (docs/resampling.md).
    case lanczos(Int)

    /// Half the kernel's support, in source pixels at footprint 1.
    var radius: Double {
        switch self {
        case .bilinear: 1
        case .lanczos(let lobes): Double(lobes)
        }
    }

    /// The kernel at distance `d` (in kernel units).
    @inline(__always)
    func weight(_ d: Double) -> Double {
        let a = abs(d)
        switch self {
        case .bilinear:
            return max(0, 1 - a)
        case .lanczos(let lobes):
            let n = Double(lobes)
            if a < 1e-9 { return 1 }
            if a >= n { return 0 }
            let x = Double.pi * a
            return n * sin(x) * sin(x / n) / (x * x)
        }
    }
}

public enum Resample {
    /// Backward warp: out(p) = image(p + flow(p)) (flow convention: out(p) then matches image at
    /// p + flow(p)), separable `kernel` weights on the columns and rows around the sample position.
    ///
    /// `footprint`: source pixels per output pixel. Where the map zooms out (footprint > 1) the kernel
    /// is stretched by it, a low-pass that keeps detail finer than the output grid from folding back
    /// as aliasing; at 1 or below it is the plain interpolator. Border: each tap's index is clamped
    /// into the image (the edge pixels repeat outwards). Outputs are clamped to [0, 1], the range of
    /// an image (Lanczos overshoots a little at hard edges; a PNG would cut it the same way).
    public static func backwardWarp(_ image: PlanarImage, by flow: FlowField, kernel: ResamplingKernel,
                                    footprint: Double = 1, threads: Int) -> PlanarImage {
        precondition(flow.width == image.width && flow.height == image.height, "flow and image sizes differ")
        precondition(footprint > 0 && footprint.isFinite, "footprint must be a positive number")
        let width = image.width, height = image.height, plane = image.planeSize, channels = image.channels
        let stretch = max(1, footprint)
        let reach = kernel.radius * stretch
        let taps = 2 * Int(reach.rounded(.up))
        var out = PlanarImage(width: width, height: height, channels: channels, bitDepth: image.bitDepth)
        out.pixels.withUnsafeMutableBufferPointer { dst in
            image.pixels.withUnsafeBufferPointer { src in
                let d = dst, s = src
                Parallel.rows(height, workers: threads, minimumRowsPerChunk: 1) { rows in
                    var columnWeights = [Float](repeating: 0, count: taps), rowWeights = columnWeights
                    var columns = [Int](repeating: 0, count: taps), rowStarts = columns
                    for y in rows {
                        for x in 0..<width {
                            let i = y * width + x
                            let u = flow.u[i], v = flow.v[i]
                            // Far-off positions land on the edge whatever their distance; the limit keeps Int() in range.
                            let sx = min(max(Double(x) + Double(u.isFinite ? u : 0), -reach - 1), Double(width) + reach)
                            let sy = min(max(Double(y) + Double(v.isFinite ? v : 0), -reach - 1), Double(height) + reach)
                            axisTaps(at: sx, count: width, taps: taps, kernel: kernel, stretch: stretch, weights: &columnWeights, indices: &columns)
                            axisTaps(at: sy, count: height, taps: taps, kernel: kernel, stretch: stretch, weights: &rowWeights, indices: &rowStarts)
                            for c in 0..<channels {
                                let source = s.baseAddress! + c * plane
                                var sum: Float = 0
                                for j in 0..<taps where rowWeights[j] != 0 {
                                    let row = source + rowStarts[j] * width
                                    var line: Float = 0
                                    for k in 0..<taps { line += columnWeights[k] * row[columns[k]] }
                                    sum += rowWeights[j] * line
                                }
                                d[c * plane + i] = min(max(sum, 0), 1)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The `taps` source indices around `position` (clamped into 0..<count) and their normalised weights.
    @inline(__always)
    private static func axisTaps(at position: Double, count: Int, taps: Int, kernel: ResamplingKernel, stretch: Double,
                                 weights: inout [Float], indices: inout [Int]) {
        let first = Int(position.rounded(.down)) - taps / 2 + 1
        var total = 0.0
        for k in 0..<taps {
            let w = kernel.weight((position - Double(first + k)) / stretch)
            weights[k] = Float(w)
            total += w
            indices[k] = min(max(first + k, 0), count - 1)
        }
        let scale = Float(1 / total)
        for k in 0..<taps { weights[k] *= scale }
    }
}
