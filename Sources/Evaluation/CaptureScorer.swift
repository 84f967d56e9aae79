import Flow
import Foundation
import Imaging
import Manifest
import Metrics
import Tensors

/// One capture's images, loaded once for every method scored on it.
struct LoadedCapture {
    let capture: Capture
    let blurry: PlanarImage
    let gt: PlanarImage
    /// Synthesised captures: the aligned sharp image and the defocused region (nil otherwise).
    let reference: SynthesisedReference?

    /// Loads both files (RGB, own bit depth). Pairs a few pixels apart in size (ingest tolerates
    /// that) are both cropped to the common top-left region. `pairs`: jdrl-synth's pairs folder.
    init(_ capture: Capture, pairs: URL? = nil) throws {
        self.capture = capture
        var blurry = try ImageFile.loadPlanar(URL(fileURLWithPath: capture.blurryPath)).image
        var gt = try ImageFile.loadPlanar(URL(fileURLWithPath: capture.sharpPath)).image
        if blurry.width != gt.width || blurry.height != gt.height {
            let w = min(blurry.width, gt.width), h = min(blurry.height, gt.height)
            blurry = blurry.crop(x: 0, y: 0, width: w, height: h)
            gt = gt.crop(x: 0, y: 0, width: w, height: h)
        }
        self.blurry = blurry
        self.gt = gt
        reference = try pairs.flatMap { try SynthesisedReference.find(for: capture, in: $0, width: blurry.width, height: blurry.height) }
    }
}

/// The scores of one image against the GT and against the GT deformed onto it (and, for synthesised
/// captures, against the aligned sharp image).
struct CaptureScores {
    let gt: ScoreCard
    let deformedGT: ScoreCard
    /// Against the synthesised capture's aligned sharp image, whole and on its defocused region.
    let alignedSharp: ScoreCard?
    let defocused: RegionScores?
    /// Synthesised captures: sums per blur-radius band (pooled PSNR, fine detail).
    let bands: BandScores?
    /// What the metrics read (the scored image's bit depth; the GT's is in the basis).
    let bitDepth: Int
    /// Mean displacement (px) of the global map scored -> blurry input (0 when the input itself is scored).
    let shiftToInput: Double

    /// `scored` is the method's output (or the blurry input itself), on its bit depth's grid.
    /// `input`: the blurry image the method was given (nil: `scored` is that input).
    init(scored: PlanarImage, input: PlanarImage? = nil, gt: PlanarImage, reference: SynthesisedReference? = nil,
         settings: EvaluationSettings, lpips: LPIPSNetwork?) throws {
        let target = gt.rgbForMetrics()
        self.gt = try ScoreCard(ImagePair(output: scored, target: target, targetName: "GT", border: settings.border), lpips: lpips)
        // flow(scored -> GT): scored(p) matches GT(p + flow(p)); the backward warp brings GT into scored's frame.
        let flow = try FlowEstimator.estimate(from: scored, to: target, parameters: settings.flow)
        // Bicubic: a bilinear warp softens the GT, and a softened target scores a smoothed output above a
        // sharp one. Clamped to [0, 1], the images' range (the cubic overshoots a little at hard edges).
        var deformed = Warp.backward(image: target, flow: flow.flow, interpolation: .bicubic)
        deformed.pixels = deformed.pixels.map { min(max($0, 0), 1) }
        deformedGT = try ScoreCard(ImagePair(output: scored, target: deformed, targetName: "deformed GT (\(settings.alignerName))",
                                             border: settings.border), lpips: lpips)
        if let reference {
            let pair = try ImagePair(output: scored, target: reference.alignedSharp, targetName: "aligned sharp", border: settings.border)
            alignedSharp = try ScoreCard(pair, lpips: lpips)
            defocused = try pair.scores(in: reference.defocused)
        } else {
            alignedSharp = nil
            defocused = nil
        }
        bands = try reference.map { try BandScores(scored: scored, reference: $0, border: settings.border) }
        bitDepth = scored.bitDepth
        shiftToInput = try input.map { try InputShift.meanDisplacement(from: scored, to: $0, parameters: settings.flow.global) } ?? 0
    }

    func rows(method: EvaluatedMethod, capture: Capture, settings: EvaluationSettings) -> [Evaluation] {
        let now = Date()
        func row(_ card: ScoreCard, _ target: EvaluationTarget) -> Evaluation {
            Evaluation(method: method.methodColumn, checkpointPath: method.checkpointPath, captureId: capture.id,
                       imageName: capture.name, split: capture.split.rawValue, target: target, aligner: settings.alignerName,
                       bitDepth: bitDepth, psnr: card.psnr.value, ssim: card.ssim.value, mae: card.mae.value,
                       lpips: card.lpips?.value, createdAt: now, colourError: Array(card.colourError.perChannel.prefix(3)),
                       psnrColourCorrected: card.psnrColourCorrected.value.isFinite ? card.psnrColourCorrected.value : nil,
                       shiftToInputPx: shiftToInput)
        }
        var rows = [row(gt, .gt), row(deformedGT, .deformedGt)]
        if let alignedSharp { rows.append(row(alignedSharp, .alignedSharp)) }
        if let defocused {
            rows.append(Evaluation(method: method.methodColumn, checkpointPath: method.checkpointPath, captureId: capture.id,
                                   imageName: capture.name, split: capture.split.rawValue, target: .alignedSharpDefocused,
                                   aligner: settings.alignerName, bitDepth: bitDepth, psnr: defocused.psnr, ssim: defocused.ssim,
                                   mae: defocused.mae, lpips: nil, createdAt: now, shiftToInputPx: shiftToInput))
        }
        return rows
    }
}
