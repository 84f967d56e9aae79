import Checks
import Foundation
import Imaging
import Threading

/// Backward warping of planar images by a flow, and the gradient of that warp with respect to the
/// warped image (the JDRL loss backpropagates through `warp(out, flow)` to `out`; the flow is a constant).
///
/// Convention (the project's): for pixel p of A, A(p) matches B(p + flow(p)). The warp samples the
/// source B at p + flow(p) and writes it at p, bringing B into A's frame.
/// Sampling: bilinear on pixel coordinates (pixel centres at integers, like PyTorch `grid_sample`
/// with `align_corners=True`). Border mode: the sample position is clamped into the image
/// [0, width-1] x [0, height-1] first (PyTorch `padding_mode='border'`), so positions outside repeat
/// the edge. A non-finite flow vector samples p itself.
/// Layout: planar CHW Float, `channels` planes of `height * width`; flowU/flowV are one plane each
/// (horizontal / vertical displacement in pixels), shared by all channels. Callers own all memory.
public enum Warp {
    /// dst[c, p] = bilinear(src[c], clamp(p + flow(p))). `dst` must not alias `src`.
    public static func warp(_ src: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                            flowU: UnsafePointer<Float>, flowV: UnsafePointer<Float>,
                            into dst: UnsafeMutablePointer<Float>, workers: Int = Workers.count) {
        let plane = height * width
        Parallel.rows(height, workers: workers) { rows in
            for y in rows {
                for x in 0..<width {
                    let i = y * width + x
                    let tap = BilinearTap(x: x, y: y, u: flowU[i], v: flowV[i], width: width, height: height)
                    for c in 0..<channels {
                        dst[c * plane + i] = tap.sample(src + c * plane, width: width)
                    }
                }
            }
        }
    }

    /// The adjoint of `warp` for the source: gradSource[c] += W^T gradOutput[c], i.e. every output
    /// pixel's gradient is scattered to the four source pixels it was interpolated from, with the
    /// same bilinear weights and the same clamping. Accumulates (+=): zero `gradSource` first if
    /// you want the gradient alone. Parallel over channels (scatters of different channels never
    /// collide; one channel runs on one thread).
    public static func warpBackward(gradOutput: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                    flowU: UnsafePointer<Float>, flowV: UnsafePointer<Float>,
                                    gradSource: UnsafeMutablePointer<Float>, workers: Int = Workers.count) {
        let plane = height * width
        func scatter(_ c: Int) {
            let g = gradOutput + c * plane, s = gradSource + c * plane
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    BilinearTap(x: x, y: y, u: flowU[i], v: flowV[i], width: width, height: height)
                        .scatter(g[i], into: s, width: width)
                }
            }
        }
        Parallel.rows(channels, workers: workers, minimumRowsPerChunk: 1) { range in for c in range { scatter(c) } }
    }

    // MARK: PlanarImage conveniences (same convention and border mode as above)

    /// `output` = `image` (B) sampled at p + flow(p), clamped to the image; resized to match if needed.
    public static func backward(image: PlanarImage, flow: FlowField, output: inout PlanarImage) {
        require(image.width == flow.width && image.height == flow.height, "image and flow sizes differ")
        if output.width != image.width || output.height != image.height || output.channels != image.channels {
            output = PlanarImage(width: image.width, height: image.height, channels: image.channels, bitDepth: image.bitDepth)
        }
        output.bitDepth = image.bitDepth
        image.pixels.withUnsafeBufferPointer { src in
        flow.u.withUnsafeBufferPointer { u in
        flow.v.withUnsafeBufferPointer { v in
        output.pixels.withUnsafeMutableBufferPointer { dst in
            warp(src.baseAddress!, channels: image.channels, height: image.height, width: image.width,
                 flowU: u.baseAddress!, flowV: v.baseAddress!, into: dst.baseAddress!)
        }}}}
    }

    /// `image` (B) brought into A's frame: sampled at p + flow(p), clamped to the image.
    public static func backward(image: PlanarImage, flow: FlowField) -> PlanarImage {
        var output = PlanarImage(width: image.width, height: image.height, channels: image.channels, bitDepth: image.bitDepth)
        backward(image: image, flow: flow, output: &output)
        return output
    }

    /// gradImage += d(warp)/d(image)^T gradOutput (same convention and clamping as `backward`).
    public static func backwardGradient(gradOutput: PlanarImage, flow: FlowField, gradImage: inout PlanarImage) {
        require(gradOutput.width == flow.width && gradOutput.height == flow.height, "gradient and flow sizes differ")
        require(gradImage.width == gradOutput.width && gradImage.height == gradOutput.height
                     && gradImage.channels == gradOutput.channels, "gradImage must have gradOutput's shape")
        gradOutput.pixels.withUnsafeBufferPointer { g in
        flow.u.withUnsafeBufferPointer { u in
        flow.v.withUnsafeBufferPointer { v in
        gradImage.pixels.withUnsafeMutableBufferPointer { s in
            warpBackward(gradOutput: g.baseAddress!, channels: gradOutput.channels, height: gradOutput.height,
                         width: gradOutput.width, flowU: u.baseAddress!, flowV: v.baseAddress!, gradSource: s.baseAddress!)
        }}}}
    }

    // MARK: Naive twins (the reference the fast versions are tested against)

    /// Straight from the definition, one sample at a time, with explicit per-corner bounds handling.
    public static func warpNaive(_ src: [Float], channels: Int, height: Int, width: Int, flowU: [Float], flowV: [Float]) -> [Float] {
        var dst = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    for (weight, sx, sy) in naiveCorners(x: x, y: y, u: flowU[y * width + x], v: flowV[y * width + x], width: width, height: height) {
                        dst[(c * height + y) * width + x] += weight * src[(c * height + sy) * width + sx]
                    }
                }
            }
        }
        return dst
    }

    /// The naive adjoint: gradSource (returned, not accumulated) = W^T gradOutput.
    public static func warpBackwardNaive(gradOutput: [Float], channels: Int, height: Int, width: Int, flowU: [Float], flowV: [Float]) -> [Float] {
        var grad = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let g = gradOutput[(c * height + y) * width + x]
                    for (weight, sx, sy) in naiveCorners(x: x, y: y, u: flowU[y * width + x], v: flowV[y * width + x], width: width, height: height) {
                        grad[(c * height + sy) * width + sx] += weight * g
                    }
                }
            }
        }
        return grad
    }

    private static func naiveCorners(x: Int, y: Int, u: Float, v: Float, width: Int, height: Int) -> [(Float, Int, Int)] {
        var sx = Float(x) + (u.isFinite ? u : 0), sy = Float(y) + (v.isFinite ? v : 0)
        sx = Swift.min(Swift.max(sx, 0), Float(width - 1))
        sy = Swift.min(Swift.max(sy, 0), Float(height - 1))
        let fx = sx.rounded(.down), fy = sy.rounded(.down)
        let ax = sx - fx, ay = sy - fy
        var corners: [(Float, Int, Int)] = []
        for (dx, wx) in [(0, 1 - ax), (1, ax)] {
            for (dy, wy) in [(0, 1 - ay), (1, ay)] {
                let cx = Int(fx) + dx, cy = Int(fy) + dy
                // A corner past the last row/column only occurs with zero weight after clamping.
                if cx < width && cy < height { corners.append((wx * wy, cx, cy)) }
            }
        }
        return corners
    }
}

/// The four source taps and weights of one bilinear sample at (x + u, y + v), clamped to the image.
struct BilinearTap {
    let i00: Int
    let dx: Int, dy: Int      // offsets to the right / lower neighbour (0 at the last column / row)
    let w00: Float, w10: Float, w01: Float, w11: Float

    @inline(__always)
    init(x: Int, y: Int, u: Float, v: Float, width: Int, height: Int) {
        self.init(sx: Float(x) + (u.isFinite ? u : 0), sy: Float(y) + (v.isFinite ? v : 0), width: width, height: height)
    }

    @inline(__always)
    init(sx rawX: Float, sy rawY: Float, width: Int, height: Int) {
        let sx = min(max(rawX, 0), Float(width - 1)), sy = min(max(rawY, 0), Float(height - 1))
        let x0 = Int(sx), y0 = Int(sy)          // floor: both are non-negative
        let ax = sx - Float(x0), ay = sy - Float(y0)
        i00 = y0 * width + x0
        dx = x0 + 1 < width ? 1 : 0
        dy = y0 + 1 < height ? width : 0
        w00 = (1 - ax) * (1 - ay); w10 = ax * (1 - ay)
        w01 = (1 - ax) * ay; w11 = ax * ay
    }

    @inline(__always)
    func sample(_ plane: UnsafePointer<Float>, width: Int) -> Float {
        let p = plane + i00
        return w00 * p[0] + w10 * p[dx] + w01 * p[dy] + w11 * p[dy + dx]
    }

    @inline(__always)
    func scatter(_ value: Float, into plane: UnsafeMutablePointer<Float>, width: Int) {
        let p = plane + i00
        p[0] += w00 * value; p[dx] += w10 * value
        p[dy] += w01 * value; p[dy + dx] += w11 * value
    }
}
