import Foundation
import Testing
import Imaging
import Flow

/// The alignment recipe every stage shares: flows both ways, a mask per direction, the colour fit.
@Suite struct PairAlignmentTests {
    @Test func theRecipeAlignsARelitMisalignedPair() throws {
        let pair = ColourAlignmentTests.relitPair()
        let alignment = PairAlignment(maskMode: .forwardBackward, lambda: 0.3, workers: 2)
        let (forward, backward) = try alignment.flows(pair.blurry, pair.sharp)
        let error = Synthetic.endpointError(forward.flow, pair.flow, border: 16)
        #expect(error < 0.3, "forward flow: mean endpoint error \(error) px inside")

        let (mask, cycleMask) = try alignment.masks(forward: forward.flow, backward: backward.flow)
        var parameters = MaskParameters()
        parameters.lambda = 0.3
        #expect(mask.pixels == (try CalibrationMask.make(.forwardBackward, forward: forward.flow, backward: backward.flow, parameters: parameters)).pixels)
        #expect(cycleMask.pixels == (try CalibrationMask.make(.forwardBackward, forward: backward.flow, backward: forward.flow, parameters: parameters)).pixels)
        let kept = Double(mask.pixels.filter { $0 > 0.5 }.count) / Double(mask.pixels.count)
        #expect(kept > 0.5 && kept <= 1, "kept fraction \(kept)")
        #expect(try alignment.mask(of: forward.flow, other: backward.flow).pixels == mask.pixels)

        let fit = try alignment.colourFit(pair.blurry, pair.sharp, forward: forward.flow, mask: mask.pixels)
        #expect(ColourAlignmentTests.relativeGainError(fit.transform) < 0.01, "gains \(fit.transform.gain)")
        #expect(fit.transform.space == .linear)
    }

    /// The single direction (jdrl-flow's direct mode without a consistency mask) is the recipe's forward flow.
    @Test func theForwardFlowAloneMatchesTheBothWaysForwardFlow() throws {
        let pair = ColourAlignmentTests.relitPair(width: 128, height: 96, seed: 5)
        let alignment = PairAlignment(maskMode: .referenceColorWheel, workers: 2)
        let alone = try alignment.forwardFlow(pair.blurry, pair.sharp).flow
        let both = try alignment.flows(pair.blurry, pair.sharp).forward.flow
        #expect(alone.u == both.u && alone.v == both.v)
        #expect(alignment.mask.lambda == MaskParameters().lambda)
    }
}
