import Foundation
import Testing
import Imaging
import Flow

@Test func globalAlignmentRecoversZoomShiftRotationFromBlurredRelitPair() throws {
    // Given a sharp texture and a blurry, relit view of it under a known similarity
    // (zoom 1.2%, rotation 0.3 degrees, shift (3.5, -2.25) px),
    let (w, h) = (320, 256)
    let truth = GlobalMotion.similarity(zoom: 1.012, rotationDegrees: 0.3, shiftX: 3.5, shiftY: -2.25, width: w, height: h)
    let pair = Synthetic.blurryVersusSharp(width: w, height: h, flow: truth.flow(width: w, height: h), seed: 11)
    // when the global aligner fits blurry -> sharp,
    let fit = try FlowEstimator.alignGlobally(from: pair.blurry, to: pair.sharp)
    print("global fit: zoom \(fit.motion.zoom) rot \(fit.motion.rotationDegrees) shift \(fit.motion.shiftX),\(fit.motion.shiftY) rho \(fit.correlation)")
    // then it recovers the similarity tightly.
    #expect(abs(fit.motion.zoom - 1.012) < 1e-4)
    #expect(abs(fit.motion.rotationDegrees - 0.3) < 0.005)
    #expect(abs(fit.motion.shiftX - 3.5) < 0.02)
    #expect(abs(fit.motion.shiftY + 2.25) < 0.02)
    #expect(fit.correlation > 0.9)
}

@Test func affineModelAlsoRecoversASimilarity() throws {
    let (w, h) = (256, 256)
    let truth = GlobalMotion.similarity(zoom: 0.99, rotationDegrees: -0.4, shiftX: -4, shiftY: 1.5, width: w, height: h)
    let pair = Synthetic.blurryVersusSharp(width: w, height: h, flow: truth.flow(width: w, height: h), seed: 12)
    var parameters = GlobalAlignmentParameters()
    parameters.model = .affine
    let fit = try FlowEstimator.alignGlobally(from: pair.blurry, to: pair.sharp, parameters: parameters)
    #expect(abs(fit.motion.zoom - 0.99) < 5e-4)
    #expect(abs(fit.motion.rotationDegrees + 0.4) < 0.03)
    #expect(abs(fit.motion.shiftX + 4) < 0.08 && abs(fit.motion.shiftY - 1.5) < 0.08)
}

@Test func denseFlowFollowsANonRigidResidualOnABlurryPair() throws {
    // A similarity plus a smooth wobble of 1 px the global model cannot explain.
    let (w, h) = (320, 256)
    let truth = Synthetic.flow(width: w, height: h, zoom: 1.012, rotationDegrees: 0.2, shiftX: 2.5, shiftY: 1.75, wobble: 1)
    let pair = Synthetic.blurryVersusSharp(width: w, height: h, flow: truth, seed: 13, nearRadius: 1, farRadius: 2)
    var nonRigid = FlowParameters()
    nonRigid.dense = .nonRigid
    let estimate = try FlowEstimator.estimate(from: pair.blurry, to: pair.sharp, parameters: nonRigid)
    var globalOnly = FlowParameters()
    globalOnly.denseEnabled = false
    let global = try FlowEstimator.estimate(from: pair.blurry, to: pair.sharp, parameters: globalOnly)
    let epe = Synthetic.endpointError(estimate.flow, truth, border: 16)
    let globalEPE = Synthetic.endpointError(global.flow, truth, border: 16)
    print("dense EPE \(epe), global-only EPE \(globalEPE), residual \(estimate.residualMeanPixels)")
    #expect(epe < 0.25)
    #expect(epe < 0.5 * globalEPE)
}

@Test func forwardAndBackwardFlowsAreConsistentForASmoothInvertibleMotion() throws {
    let (w, h) = (256, 256)
    let truth = Synthetic.flow(width: w, height: h, zoom: 1.01, rotationDegrees: 0.25, shiftX: -3, shiftY: 2, wobble: 0.5)
    let pair = Synthetic.blurryVersusSharp(width: w, height: h, flow: truth, seed: 14, nearRadius: 1, farRadius: 3)
    let (forward, backward) = try FlowEstimator.estimateBothWays(pair.blurry, pair.sharp)
    let trip = Consistency.roundTrip(forward: forward.flow, backward: backward.flow)
    var sum = 0.0, count = 0
    for y in 16..<(h - 16) { for x in 16..<(w - 16) {
        sum += Double(hypotf(trip.u[y * w + x], trip.v[y * w + x])); count += 1
    } }
    print("mean round trip \(sum / Double(count))")
    #expect(sum / Double(count) < 0.15)
    let mask = Consistency.mask(forward: forward.flow, backward: backward.flow)
    #expect(Double(mask.reduce(0, +)) / Double(mask.count) > 0.9)
}

@Test func consistencyOfAnExactInversePairIsNearZero() throws {
    let (w, h) = (200, 150)
    let motion = GlobalMotion.similarity(zoom: 1.015, rotationDegrees: 0.5, shiftX: 4, shiftY: -3, width: w, height: h)
    let forward = motion.flow(width: w, height: h)
    let backward = try #require(motion.inverse).flow(width: w, height: h)
    let trip = Consistency.roundTrip(forward: forward, backward: backward)
    let worst = (0..<(w * h)).map { hypotf(trip.u[$0], trip.v[$0]) }.max()!
    // Bilinear interpolation of an affine field is exact away from clamped borders; inside them too
    // only where p + f stays in the image, so look at the whole image but allow the border clamp.
    #expect(worst < 0.2)
    let interior = (10..<(h - 10)).flatMap { y in (10..<(w - 10)).map { x in hypotf(trip.u[y * w + x], trip.v[y * w + x]) } }.max()!
    #expect(interior < 1e-3)
}

@Test func estimatorRejectsMismatchedSizes() {
    let a = PlanarImage(width: 64, height: 64, channels: 1), b = PlanarImage(width: 64, height: 60, channels: 1)
    #expect(throws: FlowError.self) { try FlowEstimator.estimate(from: a, to: b) }
}

/// The settings' JSON is the input of every stored flow's parameters hash: a refactor that changes it
/// (a renamed or regrouped field, a new default) silently makes every manifest recompute its flows.
@Test func defaultFlowSettingsKeepTheirFingerprint() {
    #expect(FlowParameters().fingerprint == #"{"dense":{"confidencePower":8,"damping":1,"finestLevel":1,"illuminationSigma":8,"#
        + #""iterationsPerLevel":2,"levels":1,"maximumStep":1,"preBlurSigma":1,"robustScale":0.5,"windowRadius":16},"#
        + #""denseEnabled":true,"global":{"coarsestSide":24,"illuminationSigma":8,"iterationsPerLevel":40,"#
        + #""maximumPixels":600000,"model":"similarity","preBlurSigma":1.5,"tolerancePixels":0.01}}"#)
}
