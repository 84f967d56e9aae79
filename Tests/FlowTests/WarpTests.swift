import Foundation
import Testing
import Imaging
import Flow

/// A random planar image and a flow that sends some samples past every border.
private func randomCase(channels: Int, height: Int, width: Int, seed: UInt64, reach: Float)
    -> (image: [Float], u: [Float], v: [Float]) {
    var rng = SeededGenerator(seed: seed)
    let image = (0..<(channels * height * width)).map { _ in rng.uniform() }
    let u = (0..<(height * width)).map { _ in rng.uniform(-reach...reach) }
    let v = (0..<(height * width)).map { _ in rng.uniform(-reach...reach) }
    return (image, u, v)
}

@Test func warpMatchesNaiveIncludingClampedBorders() {
    let (c, h, w) = (3, 37, 41)
    let (image, u, v) = randomCase(channels: c, height: h, width: w, seed: 1, reach: 9)
    var fast = [Float](repeating: 0, count: image.count)
    Warp.warp(image, channels: c, height: h, width: w, flowU: u, flowV: v, into: &fast)
    let naive = Warp.warpNaive(image, channels: c, height: h, width: w, flowU: u, flowV: v)
    let worst = zip(fast, naive).map { abs($0 - $1) }.max()!
    #expect(worst < 1e-5, "largest difference \(worst)")
}

@Test func warpIsBorderPaddedLikeGridSample() {
    // A 1x3 ramp: sampling left of the image repeats the first pixel, right of it the last,
    // and half-way between pixels 0 and 1 averages them (align_corners=True, border padding).
    let image: [Float] = [10, 20, 40]
    let u: [Float] = [-5, 0.5, 7], v: [Float] = [0, 0, 0]
    var out = [Float](repeating: 0, count: 3)
    Warp.warp(image, channels: 1, height: 1, width: 3, flowU: u, flowV: v, into: &out)
    #expect(out == [10, 30, 40])
}

@Test func warpGradientMatchesNaiveAndAccumulates() {
    let (c, h, w) = (2, 23, 29)
    let (gradOut, u, v) = randomCase(channels: c, height: h, width: w, seed: 2, reach: 6)
    var grad = [Float](repeating: 1, count: gradOut.count)    // accumulates onto existing values
    Warp.warpBackward(gradOutput: gradOut, channels: c, height: h, width: w, flowU: u, flowV: v, gradSource: &grad)
    let naive = Warp.warpBackwardNaive(gradOutput: gradOut, channels: c, height: h, width: w, flowU: u, flowV: v)
    let worst = zip(grad, naive).map { abs($0 - 1 - $1) }.max()!
    #expect(worst < 1e-5, "largest difference \(worst)")
}

@Test func warpGradientPassesFiniteDifferenceCheck() {
    // Loss L(src) = sum(g * warp(src)); dL/dsrc must equal warpBackward(g). Finite differences in
    // Double on a small case, every source entry checked (including clamped border taps).
    let (c, h, w) = (2, 7, 9)
    let (src, u, v) = randomCase(channels: c, height: h, width: w, seed: 3, reach: 5)
    var rng = SeededGenerator(seed: 4)
    let g = (0..<src.count).map { _ in rng.uniform(-1...1) }
    func loss(_ s: [Float]) -> Double {
        var out = [Float](repeating: 0, count: s.count)
        Warp.warp(s, channels: c, height: h, width: w, flowU: u, flowV: v, into: &out)
        return zip(out, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    var analytic = [Float](repeating: 0, count: src.count)
    Warp.warpBackward(gradOutput: g, channels: c, height: h, width: w, flowU: u, flowV: v, gradSource: &analytic)
    let epsilon: Float = 1e-2
    var worst = 0.0
    for i in src.indices {
        var plus = src, minus = src
        plus[i] += epsilon; minus[i] -= epsilon
        let numeric = (loss(plus) - loss(minus)) / Double(2 * epsilon)
        worst = max(worst, abs(numeric - Double(analytic[i])))
    }
    #expect(worst < 2e-3, "largest finite-difference mismatch \(worst)")
    // The adjoint identity <W x, y> = <x, W^T y> on the same case.
    let lhs = loss(src)
    let rhs = zip(src, analytic).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(abs(lhs - rhs) < 1e-3 * max(1, abs(lhs)))
}

@Test func planarImageWarpAgreesWithPointerWarp() {
    let (c, h, w) = (3, 16, 20)
    let (pixels, u, v) = randomCase(channels: c, height: h, width: w, seed: 5, reach: 3)
    let image = PlanarImage(width: w, height: h, channels: c, pixels: pixels)
    let flow = FlowField(width: w, height: h, u: u, v: v)
    let warped = Warp.backward(image: image, flow: flow)
    let naiveWarp = Warp.warpNaive(pixels, channels: c, height: h, width: w, flowU: u, flowV: v)
    #expect(zip(warped.pixels, naiveWarp).allSatisfy { abs($0 - $1) < 1e-5 })
    var grad = PlanarImage(width: w, height: h, channels: c)
    Warp.backwardGradient(gradOutput: image, flow: flow, gradImage: &grad)
    let naive = Warp.warpBackwardNaive(gradOutput: pixels, channels: c, height: h, width: w, flowU: u, flowV: v)
    #expect(zip(grad.pixels, naive).allSatisfy { abs($0 - $1) < 1e-5 })
}

@Test func floFilesRoundTripAndRejectGarbage() throws {
    var rng = SeededGenerator(seed: 6)
    let flow = FlowField(width: 13, height: 7, u: (0..<91).map { _ in rng.uniform(-20...20) },
                         v: (0..<91).map { _ in rng.uniform(-20...20) })
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("flowtests-\(UUID().uuidString).flo")
    defer { try? FileManager.default.removeItem(at: url) }
    try FlowFile.write(flow, to: url)
    #expect(try FlowFile.read(url) == flow)
    #expect(try Data(contentsOf: url).count == 12 + 13 * 7 * 8)
    #expect(throws: FlowFileError.self) { try FlowFile.decode(Data(repeating: 0, count: 40)) }
}
