import Checks
import Threading

/// Backward warping of planar images by a flow, and its adjoint with respect to the warped image
/// (the JDRL loss backpropagates through `warp(out, flow)` to `out`; the flow is a constant).
///
/// Convention (the project's): for pixel p of A, A(p) matches B(p + flow(p)). The warp samples the
/// source B at p + flow(p) and writes it at p, bringing B into A's frame. Pixel centres sit at integer
/// coordinates (PyTorch `grid_sample` with `align_corners=True`). A non-finite flow vector samples p
/// itself. Border handling differs by interpolation as PyTorch's `padding_mode='border'` does:
/// bilinear clamps the sample position into the image, bicubic clamps each of its 16 taps (see
/// `BilinearTap`, `BicubicTap`); both repeat the edge outwards.
/// Layout: planar CHW Float, `channels` planes of `height * width`; flowU/flowV are one plane each
/// (horizontal / vertical displacement in pixels), shared by all channels. Callers own all memory.
public enum Warp {
    /// dst[c, p] = interpolate(src[c], p + flow(p)). `dst` must not alias `src`.
    public static func warp(_ src: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                            flowU: UnsafePointer<Float>, flowV: UnsafePointer<Float>,
                            interpolation: WarpInterpolation = .bilinear,
                            into dst: UnsafeMutablePointer<Float>, workers: Int = Workers.count) {
        require(channels > 0 && height > 0 && width > 0, "warp needs a non-empty image")
        switch interpolation {
        case .bilinear: warp(BilinearTap.self, src, channels: channels, height: height, width: width, flowU: flowU, flowV: flowV, into: dst, workers: workers)
        case .bicubic: warp(BicubicTap.self, src, channels: channels, height: height, width: width, flowU: flowU, flowV: flowV, into: dst, workers: workers)
        }
    }

    /// One loop for every interpolation: the tap type is a generic parameter, so each is compiled on its own.
    private static func warp<Tap: WarpTap>(_: Tap.Type, _ src: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                           flowU: UnsafePointer<Float>, flowV: UnsafePointer<Float>,
                                           into dst: UnsafeMutablePointer<Float>, workers: Int) {
        let plane = height * width
        Threading.Parallel.rows(height, workers: workers) { rows in
            for y in rows {
                for x in 0..<width {
                    let i = y * width + x
                    let tap = Tap(x: x, y: y, u: flowU[i], v: flowV[i], width: width, height: height)
                    for c in 0..<channels { dst[c * plane + i] = tap.sample(src + c * plane, width: width) }
                }
            }
        }
    }

    /// The adjoint of `warp` for the source: gradSource[c] += W^T gradOutput[c], i.e. every output
    /// pixel's gradient is scattered to the source pixels it was interpolated from, with the same
    /// weights and the same border handling. Accumulates (+=): zero `gradSource` first if you want the
    /// gradient alone. Parallel over channels (scatters of different channels never collide; one
    /// channel runs on one thread).
    public static func warpBackward(gradOutput: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                    flowU: UnsafePointer<Float>, flowV: UnsafePointer<Float>,
                                    interpolation: WarpInterpolation = .bilinear,
                                    gradSource: UnsafeMutablePointer<Float>, workers: Int = Workers.count) {
        require(channels > 0 && height > 0 && width > 0, "warp needs a non-empty image")
        switch interpolation {
        case .bilinear: scatter(BilinearTap.self, gradOutput, channels: channels, height: height, width: width, flowU: flowU, flowV: flowV, into: gradSource, workers: workers)
        case .bicubic: scatter(BicubicTap.self, gradOutput, channels: channels, height: height, width: width, flowU: flowU, flowV: flowV, into: gradSource, workers: workers)
        }
    }

    private static func scatter<Tap: WarpTap>(_: Tap.Type, _ gradOutput: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                              flowU: UnsafePointer<Float>, flowV: UnsafePointer<Float>,
                                              into gradSource: UnsafeMutablePointer<Float>, workers: Int) {
        let plane = height * width
        Threading.Parallel.rows(channels, workers: workers, minimumRowsPerChunk: 1) { range in
            for c in range {
                let g = gradOutput + c * plane, s = gradSource + c * plane
                for y in 0..<height {
                    for x in 0..<width {
                        let i = y * width + x
                        Tap(x: x, y: y, u: flowU[i], v: flowV[i], width: width, height: height).scatter(g[i], into: s, width: width)
                    }
                }
            }
        }
    }
}
