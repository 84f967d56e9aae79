import Foundation
import Testing
import Imaging
import Tensors
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

@Test(arguments: WarpInterpolation.allCases)
func planarImageWarpAgreesWithPointerWarp(_ interpolation: WarpInterpolation) {
    let (c, h, w) = (3, 16, 20)
    let (pixels, u, v) = randomCase(channels: c, height: h, width: w, seed: 5, reach: 3)
    let image = PlanarImage(width: w, height: h, channels: c, pixels: pixels)
    let flow = FlowField(width: w, height: h, u: u, v: v)
    let warped = Warp.backward(image: image, flow: flow, interpolation: interpolation)
    let naiveWarp = Warp.warpNaive(pixels, channels: c, height: h, width: w, flowU: u, flowV: v, interpolation: interpolation)
    #expect(zip(warped.pixels, naiveWarp).allSatisfy { abs($0 - $1) < 1e-5 })
    var grad = PlanarImage(width: w, height: h, channels: c)
    Warp.backwardGradient(gradOutput: image, flow: flow, interpolation: interpolation, gradImage: &grad)
    let naive = Warp.warpBackwardNaive(gradOutput: pixels, channels: c, height: h, width: w, flowU: u, flowV: v,
                                       interpolation: interpolation)
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
