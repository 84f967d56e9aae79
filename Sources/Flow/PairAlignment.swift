import Imaging
import Threading

/// The alignment recipe of a blurry/sharp pair, one for every stage that aligns: dense flows both ways
/// (`FlowEstimator`), a calibration mask per direction (`CalibrationMask`) and the colour map of the
/// target warped onto the source (`ColourAlignment`, fitted inside the forward mask). jdrl-flow (both
/// modes), the training data path (patches the manifest lacks flows for) and the loss's online flows
/// all align through it, so they agree on what a flow, a mask and a colour fit are.
///
/// Flow convention: `forward` brings `b` into `a`'s frame (a(p) matches b(p + forward(p))), `backward`
/// the reverse; each mask lies over the pixels of its flow's source image.
public struct PairAlignment: Sendable {
    public var flow = FlowParameters()
    public var maskMode: MaskMode
    public var mask = MaskParameters()
    public var colour = ColourFitParameters()
    public var workers: Int

    public init(maskMode: MaskMode, lambda: Float? = nil, workers: Int = Workers.count) {
        self.maskMode = maskMode
        self.workers = workers
        if let lambda { mask.lambda = lambda }
    }

    /// Both flows between `a` and `b`.
    public func flows(_ a: PlanarImage, _ b: PlanarImage) throws -> (forward: FlowEstimate, backward: FlowEstimate) {
        try FlowEstimator.estimateBothWays(a, b, parameters: flow, workers: workers)
    }

    /// The flow that brings `b` into `a`'s frame alone (when nothing needs the other direction).
    public func forwardFlow(_ a: PlanarImage, _ b: PlanarImage) throws -> FlowEstimate {
        try FlowEstimator.estimate(from: a, to: b, parameters: flow, workers: workers)
    }

    /// The mask over the source of `flow` (1 kept, 0 dropped); `other` is the flow of the opposite direction
    /// (the forward-backward mode needs it).
    public func mask(of flow: FlowField, other: FlowField?) throws -> PlanarImage {
        try CalibrationMask.make(maskMode, forward: flow, backward: other, parameters: mask)
    }

    /// Both directions' masks: over `a`'s pixels for `forward`, over `b`'s for `backward`.
    public func masks(forward: FlowField, backward: FlowField) throws -> (forward: PlanarImage, backward: PlanarImage) {
        (try mask(of: forward, other: backward), try mask(of: backward, other: forward))
    }

    /// a ~ gain * warp(b, forward) + offset per channel, low-pass, inside `mask` (over `a`'s pixels) when given.
    public func colourFit(_ a: PlanarImage, _ b: PlanarImage, forward: FlowField, mask: [Float]?) throws -> ColourFit {
        try ColourAlignment.estimate(from: a, to: b, flow: forward, mask: mask, parameters: colour, workers: workers)
    }
}
