import Flow
import Foundation
import Imaging
import Models
import Tensors

/// The loss settings of `train:` that the loss reads.
public struct LossSettings: Sendable, Equatable {
    public var mode: LossMode
    public var alpha: Float
    public var lambda: Float
    public var eps: Float
    public var flowSource: FlowSource
    public var maskMode: MaskMode
    public var ablation: AblationSection
    /// The blur-map prior's pseudo-supervision weight (nil: no prior, or not supervised).
    public var priorWeight: Float?
    /// The interpolation of the deformed GT's warp and the cycle term's warp (and its adjoint).
    public var warpInterpolation: WarpInterpolation

    public init(_ train: TrainSection, prior: BlurPriorSection? = nil) {
        priorWeight = prior.map { Float($0.weight) }
        mode = train.lossMode
        alpha = Float(train.alpha)
        lambda = Float(train.lambda)
        eps = Float(train.charbonnierEps)
        flowSource = train.flowSource
        maskMode = train.maskMode
        ablation = train.ablation
        warpInterpolation = train.lossWarp
    }

    /// Whether R takes part in the joint stage.
    public var usesReblur: Bool { mode == .jdrl && !ablation.noReblur }

    /// The weight of `term` in the total.
    public func weight(of term: LossTerm) -> Double {
        switch term {
        case .deblur, .cycle: 1
        case .reblur: Double(alpha)
        case .prior: Double(priorWeight ?? 0)
        }
    }
}

/// The flows and masks of the joint stage for one batch (N x H x W planes each).
/// `outToGT`: out(p) matches GT(p + f(p)) (warps GT onto the output); `gtToOut` the reverse.
public struct JointFlows {
    public var outToGTU: UnsafePointer<Float>
    public var outToGTV: UnsafePointer<Float>
    public var gtToOutU: UnsafePointer<Float>
    public var gtToOutV: UnsafePointer<Float>
    /// M (over the output's pixels, from outToGT) and M' (over GT's pixels, from gtToOut); all ones without masks.
    public var mask: UnsafePointer<Float>
    public var cycleMask: UnsafePointer<Float>
}

/// JDRL's adaptive deblurring loss plus the reblurring loss (docs/method.md, "The adaptive deblurring loss"):
///
///   baseline:        Charb(out, GT)
///   initialisation:  Charb(out, warp(GT, flow(blurry -> GT)))                       (no mask, no R)
///   joint:           Charb(M*out, M*warp(GT, flow(out -> GT)))                       l_deblur
///                  + Charb(M'*GT, M'*warp(out, flow(GT -> out)))                    l_cycle
///                  + alpha * Charb(R(out, blurry), blurry)                          l_reblur
///                  + w * Charb(E(blurry), KPN seeds of R)        with network_g.prior:  l_prior
///
/// Charbonnier is the mean over all elements (masked ones count, contributing eps). Flows and masks
/// are constants (the reference's frozen PWC-Net); the gradient reaches `out` through the warp of the
/// cycle term (the warp's adjoint) and through R. All buffers are allocated once for (batch, size).
/// GT here is `batch.sharp`: with train.colour_alignment gain_offset the data path (PatchCache) has
/// already mapped it onto the blurry image's colours (per-channel gain and offset, a constant; it
/// commutes with the warp), so the deblur, cycle and initialisation terms all compare in those colours.
public final class JDRLLoss {
    public let settings: LossSettings
    public let batchSize: Int
    public let size: Int

    private var plane: Int { size * size }
    private var imageCount: Int { batchSize * 3 * plane }
    private var pixelCount: Int { batchSize * plane }

    /// dL/dout of the last `backward` (N x 3 x H x W).
    public let gradOut: UnsafeMutablePointer<Float>
    let warpedGT: UnsafeMutablePointer<Float>
    let warpedOut: UnsafeMutablePointer<Float>
    let gradWarpedOut: UnsafeMutablePointer<Float>
    let reblurred: UnsafeMutablePointer<Float>
    let gradReblurred: UnsafeMutablePointer<Float>
    let expandedMask: UnsafeMutablePointer<Float>
    let expandedCycleMask: UnsafeMutablePointer<Float>
    // Online flows and masks (flow source `online`), and all-ones masks (no_mask).
    let onlineOutToGTU, onlineOutToGTV, onlineGTToOutU, onlineGTToOutV: UnsafeMutablePointer<Float>
    let onlineMask, onlineCycleMask, ones: UnsafeMutablePointer<Float>
    /// How online flows and masks are made: jdrl-flow's recipe with the config's mask mode and lambda.
    let alignment: PairAlignment
    // The prior's predicted seeds and the pseudo-supervision's gradients (allocated on first use).
    private var predictedSeeds: [Float] = [], gradPredictedSeeds: [Float] = [], gradRawSeeds: [Float] = []

    public init(settings: LossSettings, batchSize: Int, size: Int) {
        self.settings = settings
        self.batchSize = batchSize
        self.size = size
        alignment = PairAlignment(maskMode: settings.maskMode, lambda: settings.lambda)
        let images = batchSize * 3 * size * size, pixels = batchSize * size * size
        func make(_ count: Int, _ value: Float = 0) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
            p.initialize(repeating: value, count: count)
            return p
        }
        gradOut = make(images); warpedGT = make(images); warpedOut = make(images); gradWarpedOut = make(images)
        reblurred = make(images); gradReblurred = make(images); expandedMask = make(images); expandedCycleMask = make(images)
        onlineOutToGTU = make(pixels); onlineOutToGTV = make(pixels); onlineGTToOutU = make(pixels); onlineGTToOutV = make(pixels)
        onlineMask = make(pixels, 1); onlineCycleMask = make(pixels, 1); ones = make(pixels, 1)
    }

    deinit {
        for p in [gradOut, warpedGT, warpedOut, gradWarpedOut, reblurred, gradReblurred, expandedMask, expandedCycleMask,
                  onlineOutToGTU, onlineOutToGTV, onlineGTToOutU, onlineGTToOutV, onlineMask, onlineCycleMask, ones] {
            p.deallocate()
        }
    }

    // MARK: Flows of the joint stage

    /// The joint stage's flows: the manifest's blurry<->GT flows (standing in for out<->GT), or flows
    /// estimated now between the current output and GT (detached: computed from values, no gradient).
    public func jointFlows(out: UnsafePointer<Float>, batch: TrainingBatch) throws -> JointFlows {
        let masksOff = settings.ablation.noMask
        switch settings.flowSource {
        case .manifest:
            return JointFlows(outToGTU: batch.blurryToSharpU, outToGTV: batch.blurryToSharpV,
                              gtToOutU: batch.sharpToBlurryU, gtToOutV: batch.sharpToBlurryV,
                              mask: masksOff ? ones : batch.blurryToSharpMask,
                              cycleMask: masksOff ? ones : batch.sharpToBlurryMask)
        case .online:
            for sample in 0..<batchSize {
                let output = Self.image(out + sample * 3 * plane, size: size)
                let gt = Self.image(batch.sharp + sample * 3 * plane, size: size)
                let (forward, backward) = try alignment.flows(output, gt)
                let at = sample * plane
                Self.store(forward.flow, u: onlineOutToGTU + at, v: onlineOutToGTV + at)
                Self.store(backward.flow, u: onlineGTToOutU + at, v: onlineGTToOutV + at)
                if !masksOff {
                    let (m, mc) = try alignment.masks(forward: forward.flow, backward: backward.flow)
                    (onlineMask + at).update(from: m.pixels, count: plane)
                    (onlineCycleMask + at).update(from: mc.pixels, count: plane)
                }
            }
            return JointFlows(outToGTU: onlineOutToGTU, outToGTV: onlineOutToGTV, gtToOutU: onlineGTToOutU, gtToOutV: onlineGTToOutV,
                              mask: masksOff ? ones : onlineMask, cycleMask: masksOff ? ones : onlineCycleMask)
        }
    }

    // MARK: Terms

    /// The terms this loss computes in `stage`, given the flows and networks that take part, in `LossTerm` order.
    public func terms(in stage: TrainingStage, flows: JointFlows?, reblur: ReblurNetwork?, prior: PriorGuidedNetwork?) -> [LossTerm] {
        guard stage == .joint else { return [.deblur] }
        var terms: [LossTerm] = [.deblur]
        if deforms, flows != nil, !settings.ablation.noCycle { terms.append(.cycle) }
        if settings.usesReblur, reblur != nil {
            terms.append(.reblur)
            if settings.priorWeight != nil, prior != nil { terms.append(.prior) }
        }
        return terms
    }

    private var deforms: Bool { settings.mode == .jdrl && !settings.ablation.noDeformation }

    // MARK: Forward

    /// The loss terms for output `out` (N x 3 x H x W). In the joint stage with R, this runs R's forward
    /// (its activations are what `backward` uses), so call `backward` after the `forward` of the same step.
    public func forward(stage: TrainingStage, out: UnsafePointer<Float>, batch: TrainingBatch,
                        flows: JointFlows?, reblur: ReblurNetwork?, prior: PriorGuidedNetwork? = nil) -> LossTerms {
        var result = LossTerms()
        for term in terms(in: stage, flows: flows, reblur: reblur, prior: prior) {
            let value = forward(term, stage: stage, out: out, batch: batch, flows: flows, reblur: reblur, prior: prior)
            result[term] = value
            result.total += settings.weight(of: term) * value
        }
        return result
    }

    /// One term's unweighted value; fills the buffers its `backward` reads.
    private func forward(_ term: LossTerm, stage: TrainingStage, out: UnsafePointer<Float>, batch: TrainingBatch,
                         flows: JointFlows?, reblur: ReblurNetwork?, prior: PriorGuidedNetwork?) -> Double {
        let eps = settings.eps, count = imageCount
        switch term {
        case .deblur:
            switch stage {
            case .baseline:
                return Charbonnier.loss(out, batch.sharp, mask: nil, count: count, eps: eps)
            case .initialisation:
                if deforms {
                    warpEach(batch.sharp, u: batch.blurryToSharpU, v: batch.blurryToSharpV, into: warpedGT)
                } else {
                    warpedGT.update(from: batch.sharp, count: count)
                }
                return Charbonnier.loss(out, warpedGT, mask: nil, count: count, eps: eps)
            case .joint:
                guard deforms, let flows else { return Charbonnier.loss(out, batch.sharp, mask: nil, count: count, eps: eps) }
                warpEach(batch.sharp, u: flows.outToGTU, v: flows.outToGTV, into: warpedGT)
                expand(flows.mask, into: expandedMask)
                return Charbonnier.loss(out, warpedGT, mask: expandedMask, count: count, eps: eps)
            }
        case .cycle:
            let flows = flows!
            warpEach(out, u: flows.gtToOutU, v: flows.gtToOutV, into: warpedOut)
            expand(flows.cycleMask, into: expandedCycleMask)
            return Charbonnier.loss(warpedOut, batch.sharp, mask: expandedCycleMask, count: count, eps: eps)
        case .reblur:
            reblur!.reblur(deblurred: out, blurry: batch.blurry, into: reblurred, n: batchSize, h: size, w: size)
            return Charbonnier.loss(reblurred, batch.blurry, mask: nil, count: count, eps: eps)
        case .prior:
            let seeds = seedCount
            if predictedSeeds.count != seeds { predictedSeeds = [Float](repeating: 0, count: seeds) }
            predictedSeeds.withUnsafeMutableBufferPointer { prior!.copyScaledSeeds(into: $0.baseAddress!) }
            return Charbonnier.loss(predictedSeeds, reblur!.rawSeeds, mask: nil, count: seeds, eps: eps)
        }
    }

    // MARK: Backward

    /// dL/dout into `gradOut` (overwritten) and, in the joint stage, R's parameter gradients (accumulated).
    /// Uses the buffers the `forward` of the same step filled.
    /// With a prior in the joint stage, its seeds' gradient goes to `prior` (before its backward).
    public func backward(stage: TrainingStage, out: UnsafePointer<Float>, batch: TrainingBatch,
                         flows: JointFlows?, reblur: ReblurNetwork?, prior: PriorGuidedNetwork? = nil) {
        gradOut.update(repeating: 0, count: imageCount)
        let terms = terms(in: stage, flows: flows, reblur: reblur, prior: prior)
        for term in terms {
            backward(term, scale: Float(settings.weight(of: term)), stage: stage, out: out, batch: batch, flows: flows,
                     reblur: reblur, prior: prior)
        }
        // R's backward takes every term that reads its output or its seeds, so it runs after them.
        if terms.contains(.reblur), let reblur {
            if terms.contains(.prior) {
                reblur.backpropagate(gradReblurred: gradReblurred, gradDeblurred: gradOut, gradRawSeeds: gradRawSeeds)
            } else {
                reblur.backpropagate(gradReblurred: gradReblurred, gradDeblurred: gradOut, gradRawSeeds: nil)
            }
        }
    }

    /// One term's gradient, times its weight: into `gradOut` (accumulated), or for the terms on R, into
    /// `gradReblurred` and the seeds' gradients that R's backward then takes.
    private func backward(_ term: LossTerm, scale: Float, stage: TrainingStage, out: UnsafePointer<Float>, batch: TrainingBatch,
                          flows: JointFlows?, reblur: ReblurNetwork?, prior: PriorGuidedNetwork?) {
        let eps = settings.eps, count = imageCount
        switch term {
        case .deblur:
            switch stage {
            case .baseline:
                Charbonnier.backward(out, batch.sharp, mask: nil, count: count, eps: eps, scale: scale, gradA: gradOut, gradB: nil)
            case .initialisation:
                Charbonnier.backward(out, warpedGT, mask: nil, count: count, eps: eps, scale: scale, gradA: gradOut, gradB: nil)
            case .joint:
                if deforms, flows != nil {
                    Charbonnier.backward(out, warpedGT, mask: expandedMask, count: count, eps: eps, scale: scale, gradA: gradOut, gradB: nil)
                } else {
                    Charbonnier.backward(out, batch.sharp, mask: nil, count: count, eps: eps, scale: scale, gradA: gradOut, gradB: nil)
                }
            }
        case .cycle:
            let flows = flows!
            gradWarpedOut.update(repeating: 0, count: count)
            Charbonnier.backward(warpedOut, batch.sharp, mask: expandedCycleMask, count: count, eps: eps, scale: scale,
                                 gradA: gradWarpedOut, gradB: nil)
            for sample in 0..<batchSize {
                let image = sample * 3 * plane, pixels = sample * plane
                Warp.warpBackward(gradOutput: gradWarpedOut + image, channels: 3, height: size, width: size,
                                  flowU: flows.gtToOutU + pixels, flowV: flows.gtToOutV + pixels,
                                  interpolation: settings.warpInterpolation, gradSource: gradOut + image)
            }
        case .reblur:
            gradReblurred.update(repeating: 0, count: count)
            Charbonnier.backward(reblurred, batch.blurry, mask: nil, count: count, eps: eps, scale: scale,
                                 gradA: gradReblurred, gradB: nil)
        case .prior:
            let seeds = seedCount
            if gradRawSeeds.count != seeds { gradRawSeeds = [Float](repeating: 0, count: seeds); gradPredictedSeeds = gradRawSeeds }
            for i in 0..<seeds { gradRawSeeds[i] = 0; gradPredictedSeeds[i] = 0 }
            Charbonnier.backward(predictedSeeds, reblur!.rawSeeds, mask: nil, count: seeds, eps: eps, scale: scale,
                                 gradA: &gradPredictedSeeds, gradB: &gradRawSeeds)
            prior!.addSeedGradient(gradPredictedSeeds)
        }
    }

    // MARK: Helpers

    private var seedCount: Int { batchSize * BlurMapPrior.seedCount * plane }

    private func warpEach(_ source: UnsafePointer<Float>, u: UnsafePointer<Float>, v: UnsafePointer<Float>,
                          into destination: UnsafeMutablePointer<Float>) {
        for sample in 0..<batchSize {
            let image = sample * 3 * plane, pixels = sample * plane
            Warp.warp(source + image, channels: 3, height: size, width: size, flowU: u + pixels, flowV: v + pixels,
                      interpolation: settings.warpInterpolation, into: destination + image)
        }
    }

    /// Per-pixel mask -> per-element mask (shared by R, G, B), as Charbonnier takes one weight per element.
    private func expand(_ mask: UnsafePointer<Float>, into expanded: UnsafeMutablePointer<Float>) {
        for sample in 0..<batchSize {
            for channel in 0..<3 {
                (expanded + (sample * 3 + channel) * plane).update(from: mask + sample * plane, count: plane)
            }
        }
    }

    static func image(_ pointer: UnsafePointer<Float>, size: Int) -> PlanarImage {
        PlanarImage(width: size, height: size, channels: 3, pixels: Array(UnsafeBufferPointer(start: pointer, count: 3 * size * size)))
    }

    static func store(_ flow: FlowField, u: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>) {
        u.update(from: flow.u, count: flow.u.count)
        v.update(from: flow.v, count: flow.v.count)
    }
}
