// The warp's naive twins: the reference the fast gather/scatter of `Warp` is tested against. Written
// from the definitions (a list of taps per sample, the kernel as a function of distance, explicit
// per-tap bounds handling) and sharing no code with `BilinearTap` / `BicubicTap`.

extension Warp {
    /// dst = W src, one sample at a time.
    public static func warpNaive(_ src: [Float], channels: Int, height: Int, width: Int, flowU: [Float], flowV: [Float],
                                 interpolation: WarpInterpolation = .bilinear) -> [Float] {
        var dst = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    for (weight, sx, sy) in naiveTaps(x: x, y: y, u: flowU[i], v: flowV[i], width: width, height: height, interpolation) {
                        dst[(c * height + y) * width + x] += weight * src[(c * height + sy) * width + sx]
                    }
                }
            }
        }
        return dst
    }

    /// The naive adjoint: gradSource (returned, not accumulated) = W^T gradOutput.
    public static func warpBackwardNaive(gradOutput: [Float], channels: Int, height: Int, width: Int, flowU: [Float], flowV: [Float],
                                         interpolation: WarpInterpolation = .bilinear) -> [Float] {
        var grad = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x
                    let g = gradOutput[(c * height + y) * width + x]
                    for (weight, sx, sy) in naiveTaps(x: x, y: y, u: flowU[i], v: flowV[i], width: width, height: height, interpolation) {
                        grad[(c * height + sy) * width + sx] += weight * g
                    }
                }
            }
        }
        return grad
    }

    /// Keys' cubic convolution kernel (a = -0.5) at distance d.
    static func keysKernel(_ d: Double) -> Double {
        let a = -0.5, s = abs(d)
        if s <= 1 { return (a + 2) * s * s * s - (a + 3) * s * s + 1 }
        if s < 2 { return a * s * s * s - 5 * a * s * s + 8 * a * s - 4 * a }
        return 0
    }

    private static func naiveTaps(x: Int, y: Int, u: Float, v: Float, width: Int, height: Int,
                                  _ interpolation: WarpInterpolation) -> [(Float, Int, Int)] {
        var sx = Double(x) + Double(u.isFinite ? u : 0), sy = Double(y) + Double(v.isFinite ? v : 0)
        switch interpolation {
        case .bilinear:
            // The position is clamped into the image; a tap past the last row/column then has zero weight.
            sx = Swift.min(Swift.max(sx, 0), Double(width - 1))
            sy = Swift.min(Swift.max(sy, 0), Double(height - 1))
            let fx = sx.rounded(.down), fy = sy.rounded(.down)
            var taps: [(Float, Int, Int)] = []
            for dy in 0...1 {
                for dx in 0...1 {
                    let cx = Int(fx) + dx, cy = Int(fy) + dy
                    let weight = (1 - abs(sx - Double(cx))) * (1 - abs(sy - Double(cy)))
                    if cx < width && cy < height { taps.append((Float(weight), cx, cy)) }
                }
            }
            return taps
        case .bicubic:
            // The position stays where the flow puts it; each tap index is clamped into the image.
            let fx = Int(sx.rounded(.down)), fy = Int(sy.rounded(.down))
            var taps: [(Float, Int, Int)] = []
            for cy in (fy - 1)...(fy + 2) {
                for cx in (fx - 1)...(fx + 2) {
                    let weight = keysKernel(sx - Double(cx)) * keysKernel(sy - Double(cy))
                    taps.append((Float(weight), Swift.min(Swift.max(cx, 0), width - 1), Swift.min(Swift.max(cy, 0), height - 1)))
                }
            }
            return taps
        }
    }
}
