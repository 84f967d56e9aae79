import Testing
import Tensors

/// A random planar image and a flow that sends some samples past every border.
private func randomCase(channels: Int, height: Int, width: Int, seed: UInt64, reach: Float)
    -> (image: [Float], u: [Float], v: [Float]) {
    var rng = SeededGenerator(seed: seed)
    let image = randomBuffer(channels * height * width, in: 0...1, &rng)
    let u = randomBuffer(height * width, in: -reach...reach, &rng)
    let v = randomBuffer(height * width, in: -reach...reach, &rng)
    return (image, u, v)
}

private func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max()!
}

@Suite struct WarpTests {
    @Test(arguments: WarpInterpolation.allCases)
    func warpMatchesNaiveIncludingBorders(_ interpolation: WarpInterpolation) {
        let (c, h, w) = (3, 37, 41)
        let (image, u, v) = randomCase(channels: c, height: h, width: w, seed: 1, reach: 9)
        var fast = [Float](repeating: 0, count: image.count)
        Warp.warp(image, channels: c, height: h, width: w, flowU: u, flowV: v, interpolation: interpolation, into: &fast)
        let naive = Warp.warpNaive(image, channels: c, height: h, width: w, flowU: u, flowV: v, interpolation: interpolation)
        #expect(largestDifference(fast, naive) < 1e-5)
    }

    @Test(arguments: WarpInterpolation.allCases)
    func adjointMatchesNaiveAndAccumulates(_ interpolation: WarpInterpolation) {
        let (c, h, w) = (2, 23, 29)
        let (gradOut, u, v) = randomCase(channels: c, height: h, width: w, seed: 2, reach: 6)
        var grad = [Float](repeating: 1, count: gradOut.count)    // accumulates onto existing values
        Warp.warpBackward(gradOutput: gradOut, channels: c, height: h, width: w, flowU: u, flowV: v,
                          interpolation: interpolation, gradSource: &grad)
        let naive = Warp.warpBackwardNaive(gradOutput: gradOut, channels: c, height: h, width: w, flowU: u, flowV: v,
                                           interpolation: interpolation)
        #expect(largestDifference(grad.map { $0 - 1 }, naive) < 1e-5)
    }

    @Test func bilinearIsBorderPaddedLikeGridSample() {
        // A 1x3 ramp: sampling left of the image repeats the first pixel, right of it the last,
        // and half-way between pixels 0 and 1 averages them (align_corners=True, border padding).
        let image: [Float] = [10, 20, 40]
        var out = [Float](repeating: 0, count: 3)
        Warp.warp(image, channels: 1, height: 1, width: 3, flowU: [-5, 0.5, 7], flowV: [0, 0, 0], into: &out)
        #expect(out == [10, 30, 40])
    }

    @Test func bicubicUsesKeysWeightsAndClampsEachTapLikeGridSample() {
        // Keys (a = -0.5) half-way between pixels weighs the four taps -1/16, 9/16, 9/16, -1/16.
        // x=0 samples at -0.5: taps -2, -1, 0, 1 clamp to 0, 0, 0, 1 (PyTorch's border padding clamps
        // taps, not the position): 10 * 17/16 - 20/16 = 9.375 (position clamping would give 10).
        // x=1 on a pixel centre returns it; x=2 at 1.5: (-10 + 180 + 360 - 80) / 16 = 28.125;
        // x=3 far right repeats the last pixel. One row: the vertical taps all clamp onto it.
        let image: [Float] = [10, 20, 40, 80]
        var out = [Float](repeating: 0, count: 4)
        Warp.warp(image, channels: 1, height: 1, width: 4, flowU: [-0.5, 0, -0.5, 7], flowV: [0, 0, 0, -3],
                  interpolation: .bicubic, into: &out)
        #expect(largestDifference(out, [9.375, 20, 28.125, 80]) < 1e-5, "\(out)")
    }

    @Test func bicubicReproducesAQuadraticAwayFromTheBorder() {
        // Keys' a = -0.5 kernel is third-order accurate: it interpolates quadratics exactly.
        let (h, w) = (12, 14)
        let image = (0..<(h * w)).map { i -> Float in let x = Float(i % w), y = Float(i / w); return 0.01 * x * x + 0.02 * x * y - 0.03 * y + 1 }
        let u = [Float](repeating: 0.3, count: h * w), v = [Float](repeating: -0.7, count: h * w)
        var out = [Float](repeating: 0, count: h * w)
        Warp.warp(image, channels: 1, height: h, width: w, flowU: u, flowV: v, interpolation: .bicubic, into: &out)
        for y in 2..<(h - 2) {
            for x in 2..<(w - 2) {
                let sx = Float(x) + 0.3, sy = Float(y) - 0.7
                let exact = 0.01 * sx * sx + 0.02 * sx * sy - 0.03 * sy + 1
                #expect(abs(out[y * w + x] - exact) < 1e-4)
            }
        }
    }

    @Test(arguments: WarpInterpolation.allCases)
    func adjointPassesFiniteDifferencesAndTheInnerProductIdentity(_ interpolation: WarpInterpolation) {
        // L(src) = <g, W src>; dL/dsrc = W^T g. Central differences in Double on every source entry,
        // border taps included; then <W x, y> = <x, W^T y> on the same case.
        let (c, h, w) = (2, 7, 9)
        let (src, u, v) = randomCase(channels: c, height: h, width: w, seed: 3, reach: 5)
        var rng = SeededGenerator(seed: 4)
        let g = randomBuffer(src.count, in: -1...1, &rng)
        func loss(_ s: [Float]) -> Double {
            var out = [Float](repeating: 0, count: s.count)
            Warp.warp(s, channels: c, height: h, width: w, flowU: u, flowV: v, interpolation: interpolation, into: &out)
            return zip(out, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        var analytic = [Float](repeating: 0, count: src.count)
        Warp.warpBackward(gradOutput: g, channels: c, height: h, width: w, flowU: u, flowV: v,
                          interpolation: interpolation, gradSource: &analytic)
        var values = src
        let numeric = centralDifference(&values, at: Array(src.indices), step: 1e-2, loss: loss)
        let mismatch = worstGradientMismatch(analytic: analytic.map(Double.init), numeric: numeric, absoluteFloor: 1)
        #expect(mismatch < 2e-3, "worst finite-difference mismatch \(mismatch)")
        #expect(analytic.contains { abs($0) > 0.5 }, "the check must see non-trivial gradients")
        let lhs = loss(src)
        let rhs = zip(src, analytic).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)), "<W x, y> = \(lhs), <x, W^T y> = \(rhs)")
    }

    @Test(arguments: WarpInterpolation.allCases)
    func nonFiniteFlowSamplesThePixelItself(_ interpolation: WarpInterpolation) {
        let image: [Float] = [1, 2, 3, 4, 5, 6]
        var out = [Float](repeating: 0, count: 6)
        let u: [Float] = [.nan, .infinity, 0, -.infinity, .nan, 0], v: [Float] = [0, 0, .nan, 0, 0, .infinity]
        Warp.warp(image, channels: 1, height: 2, width: 3, flowU: u, flowV: v, interpolation: interpolation, into: &out)
        #expect(out == image)
    }
}
