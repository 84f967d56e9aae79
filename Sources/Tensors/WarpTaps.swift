// One output pixel's source taps and weights, shared by a warp's forward pass (gather) and its adjoint
// (scatter), so that the adjoint uses exactly the forward's weights and border handling.

/// The 2x2 taps of one bilinear sample at (x + u, y + v). Border: the position is clamped into
/// [0, width-1] x [0, height-1] first (PyTorch `padding_mode='border'` for bilinear). Public and
/// inlinable: Flow's estimator samples its pyramids with it in its inner loops.
@frozen
public struct BilinearTap: WarpTap {
    public let i00: Int
    public let dx: Int, dy: Int      // offsets to the right / lower neighbour (0 at the last column / row)
    public let w00: Float, w10: Float, w01: Float, w11: Float

    /// The sample at pixel (x, y) displaced by (u, v); a non-finite displacement samples the pixel itself.
    @inlinable @inline(__always)
    public init(x: Int, y: Int, u: Float, v: Float, width: Int, height: Int) {
        self.init(sx: Float(x) + (u.isFinite ? u : 0), sy: Float(y) + (v.isFinite ? v : 0), width: width, height: height)
    }

    /// The sample at position (sx, sy).
    @inlinable @inline(__always)
    public init(sx rawX: Float, sy rawY: Float, width: Int, height: Int) {
        let sx = min(max(rawX, 0), Float(width - 1)), sy = min(max(rawY, 0), Float(height - 1))
        let x0 = Int(sx), y0 = Int(sy)          // floor: both are non-negative
        let ax = sx - Float(x0), ay = sy - Float(y0)
        i00 = y0 * width + x0
        dx = x0 + 1 < width ? 1 : 0
        dy = y0 + 1 < height ? width : 0
        w00 = (1 - ax) * (1 - ay); w10 = ax * (1 - ay)
        w01 = (1 - ax) * ay; w11 = ax * ay
    }

    /// The interpolated value of `plane` (row length `width`, the one the tap was made for).
    @inlinable @inline(__always)
    public func sample(_ plane: UnsafePointer<Float>, width: Int) -> Float {
        let p = plane + i00
        return w00 * p[0] + w10 * p[dx] + w01 * p[dy] + w11 * p[dy + dx]
    }

    /// The adjoint of `sample`: `value` spread onto the four taps with the same weights (accumulated).
    @inlinable @inline(__always)
    public func scatter(_ value: Float, into plane: UnsafeMutablePointer<Float>, width: Int) {
        let p = plane + i00
        p[0] += w00 * value; p[dx] += w10 * value
        p[dy] += w01 * value; p[dy + dx] += w11 * value
    }
}

/// The 4x4 taps of one bicubic sample at (x + u, y + v): Keys' cubic convolution with a = -0.5 on the
/// columns floor(sx)-1 ... floor(sx)+2 and the same rows. Border (as PyTorch's bicubic `grid_sample`
/// with `padding_mode='border'`): the position is not clamped, each tap's index is, so the source
/// behaves as if its edge pixels were repeated outwards. Positions are first limited to
/// [-2, width+1] x [-2, height+1]; beyond that every tap already lands on the edge, so the limit
/// changes no value and keeps far-off flows from overflowing the index arithmetic.
struct BicubicTap: WarpTap {
    let x0: Int, x1: Int, x2: Int, x3: Int           // clamped columns
    let r0: Int, r1: Int, r2: Int, r3: Int           // clamped rows, times width
    let wx: SIMD4<Float>, wy: SIMD4<Float>

    @inline(__always)
    init(x: Int, y: Int, u: Float, v: Float, width: Int, height: Int) {
        let sx = min(max(Float(x) + (u.isFinite ? u : 0), -2), Float(width + 1))
        let sy = min(max(Float(y) + (v.isFinite ? v : 0), -2), Float(height + 1))
        let fx = sx.rounded(.down), fy = sy.rounded(.down)
        let ix = Int(fx), iy = Int(fy)
        let lastX = width - 1, lastY = height - 1
        x0 = min(max(ix - 1, 0), lastX); x1 = min(max(ix, 0), lastX)
        x2 = min(max(ix + 1, 0), lastX); x3 = min(max(ix + 2, 0), lastX)
        r0 = min(max(iy - 1, 0), lastY) * width; r1 = min(max(iy, 0), lastY) * width
        r2 = min(max(iy + 1, 0), lastY) * width; r3 = min(max(iy + 2, 0), lastY) * width
        wx = Self.weights(sx - fx)
        wy = Self.weights(sy - fy)
    }

    /// Keys' weights (a = -0.5) of the taps at distances 1 + t, t, 1 - t, 2 - t from the sample,
    /// t in [0, 1): |d| <= 1: (a+2)|d|^3 - (a+3)|d|^2 + 1; 1 < |d| < 2: a|d|^3 - 5a|d|^2 + 8a|d| - 4a.
    @inline(__always)
    static func weights(_ t: Float) -> SIMD4<Float> {
        let a: Float = -0.5
        let far0 = t + 1, near1 = t, near2 = 1 - t, far3 = 2 - t
        func near(_ d: Float) -> Float { ((a + 2) * d - (a + 3)) * d * d + 1 }
        func far(_ d: Float) -> Float { ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
        return SIMD4(far(far0), near(near1), near(near2), far(far3))
    }

    @inline(__always)
    private func row(_ p: UnsafePointer<Float>) -> Float {
        wx[0] * p[x0] + wx[1] * p[x1] + wx[2] * p[x2] + wx[3] * p[x3]
    }

    @inline(__always)
    func sample(_ plane: UnsafePointer<Float>, width: Int) -> Float {
        wy[0] * row(plane + r0) + wy[1] * row(plane + r1) + wy[2] * row(plane + r2) + wy[3] * row(plane + r3)
    }

    @inline(__always)
    private func scatterRow(_ value: Float, into p: UnsafeMutablePointer<Float>) {
        p[x0] += wx[0] * value; p[x1] += wx[1] * value
        p[x2] += wx[2] * value; p[x3] += wx[3] * value
    }

    @inline(__always)
    func scatter(_ value: Float, into plane: UnsafeMutablePointer<Float>, width: Int) {
        scatterRow(wy[0] * value, into: plane + r0); scatterRow(wy[1] * value, into: plane + r1)
        scatterRow(wy[2] * value, into: plane + r2); scatterRow(wy[3] * value, into: plane + r3)
    }
}

/// What the warp needs of an interpolation: its taps and weights for one output pixel, read (`sample`)
/// and written back with the same weights (`scatter`, the adjoint).
protocol WarpTap {
    init(x: Int, y: Int, u: Float, v: Float, width: Int, height: Int)
    func sample(_ plane: UnsafePointer<Float>, width: Int) -> Float
    func scatter(_ value: Float, into plane: UnsafeMutablePointer<Float>, width: Int)
}
