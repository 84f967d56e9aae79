import Foundation
import Testing
import Imaging
import Flow

/// A smooth flow (mostly a shift, a little zoom) with a 20x20 block overwritten by large vectors
/// pointing up-left, whose colour-wheel hue is blue (dark in grey).
private func corruptedFlow() -> (flow: FlowField, block: [Int]) {
    let (w, h) = (120, 100)
    var flow = GlobalMotion.similarity(zoom: 1.003, rotationDegrees: 0, shiftX: 3, shiftY: 2, width: w, height: h).flow(width: w, height: h)
    var block: [Int] = []
    for y in 40..<60 { for x in 70..<90 {
        flow.u[y * w + x] = -0.5 * 30; flow.v[y * w + x] = -0.866 * 30
        block.append(y * w + x)
    } }
    return (flow, block)
}

@Test func everyMaskModeZeroesACorruptedRegion() throws {
    let (flow, block) = corruptedFlow()
    // The backward flow of the uncorrupted motion: consistent everywhere except in the block.
    let clean = try #require(GlobalMotion.similarity(zoom: 1.003, rotationDegrees: 0, shiftX: 3, shiftY: 2,
                                                     width: flow.width, height: flow.height).inverse)
    let backward = clean.flow(width: flow.width, height: flow.height)
    for mode in MaskMode.allCases {
        let mask = try CalibrationMask.make(mode, forward: flow, backward: backward)
        #expect(mask.width == flow.width && mask.height == flow.height && mask.channels == 1)
        let inBlock = block.map { mask.pixels[$0] }.reduce(0, +)
        let blockSet = Set(block)
        let outside = mask.pixels.indices.filter { !blockSet.contains($0) }
        let keptOutside = outside.map { mask.pixels[$0] }.reduce(0, +) / Float(outside.count)
        #expect(inBlock == 0, "\(mode): \(inBlock) pixels of the corrupted block kept")
        #expect(keptOutside > 0.9, "\(mode): only \(keptOutside) of the clean flow kept")
    }
}

@Test func forwardBackwardMaskNeedsTheOtherDirection() {
    let (flow, _) = corruptedFlow()
    #expect(throws: MaskError.needsBackwardFlow) { try CalibrationMask.make(.forwardBackward, forward: flow) }
}

@Test func paperMaskKeepsTheBandAroundTheMeanMagnitude() {
    // Magnitudes 1, 2, 3 (mean 2): only 2 lies in [1.3, 2.7].
    let flow = FlowField(width: 3, height: 1, u: [1, 0, 3], v: [0, 2, 0])
    #expect(CalibrationMask.paperMagnitude(flow) == [0, 1, 0])
}

@Test func colorWheelHasTheMiddleburyColours() {
    #expect(ColorWheel.colors.count == 55)
    // Segment starts: red, yellow, green, cyan, blue, magenta.
    let starts = [0, 15, 21, 25, 36, 49].map { ColorWheel.colors[$0] }
    let expected = [(255, 0, 0), (255, 255, 0), (0, 255, 0), (0, 255, 255), (0, 0, 255), (255, 0, 255)]
    for (got, want) in zip(starts, expected) { #expect(got.r == want.0 && got.g == want.1 && got.b == want.2) }
    // Zero flow renders white; a unit flow to the right is red (hue angle atan2(-0, -1) = -pi:
    // the wheel's first colour), to the left it is half-way round, colour 27 (cyan-blue: 0, 209, 255).
    let flow = FlowField(width: 3, height: 1, u: [0, 1, -1], v: [0, 0, 0])
    let bytes = ColorWheel.renderBytes(flow, radius: 1)
    #expect(Array(bytes[0..<3]) == [255, 255, 255])
    #expect(Array(bytes[3..<6]) == [255, 0, 0])
    #expect(Array(bytes[6..<9]) == [0, 209, 255])
    let image = ColorWheel.render(flow, radius: 1)
    #expect(image.channels == 3 && image.pixels[0] == 1 && image.pixels[2 * 3 + 1] == 0)
}
