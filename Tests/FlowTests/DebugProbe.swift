import Foundation
import Testing
import Imaging
import Flow

// Temporary probe (removed before merge): prints EPE for a few pair variants.
@Test func probeDenseVariants() throws {
    guard ProcessInfo.processInfo.environment["FLOW_PROBE"] != nil else { return }
    let (w, h) = (320, 256)
    let truth = Synthetic.flow(width: w, height: h, zoom: 1.012, rotationDegrees: 0.2, shiftX: 2.5, shiftY: 1.75, wobble: 1)
    for (near, far) in [(Float(0), Float(0)), (1, 1), (1, 6)] {
        let sharp = Synthetic.texture(width: w, height: h, seed: 13)
        var blurry = Warp.backward(image: sharp, flow: truth)
        if far > 0 { blurry = Synthetic.defocus(blurry, nearRadius: near, farRadius: far) }
        for global in [true, false] {
            var p = FlowParameters(); p.denseEnabled = !global
            let e = try FlowEstimator.estimate(from: blurry, to: sharp, parameters: p)
            print("blur \(near)-\(far) global-only \(global): EPE \(Synthetic.endpointError(e.flow, truth, border: 16)) zoom \(e.motion.zoom) rot \(e.motion.rotationDegrees) shift \(e.motion.shiftX) \(e.motion.shiftY)")
        }
    }
}
