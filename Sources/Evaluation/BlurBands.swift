import Foundation
import Imaging
import Manifest
import Metrics

/// One scored image's sums per blur-radius band of a synthesised capture, against its aligned sharp
/// image: the squared error (pooled later into one PSNR per band over all images) and the squared
/// Laplacian of the luminance of the scored and of the sharp image (their ratio: how much of the sharp
/// image's fine detail the scored image holds there).
struct BandScores {
    /// Pixels this close to an edge stay out of the Laplacian sums: the synthesiser's and the tiled
    /// network's edge handling (padding) make detail there that is not the image's.
    static let laplacianBorder = 4

    let errors: LabelSums
    let channels: Int
    let scoredDetail: LabelSums
    let sharpDetail: LabelSums

    /// The band of each pixel of a blur-radius map (px).
    static func labels(radii: [Float], width: Int, height: Int) -> PixelLabels {
        PixelLabels(width: width, height: height, classes: BlurBand.allCases.count,
                    labels: radii.map { Int8(BlurBand.of(radius: $0).index) })
    }

    /// `border`: the metrics' border crop (the Laplacian sums leave `laplacianBorder` more).
    init(scored: PlanarImage, reference: SynthesisedReference, border: Int) throws {
        let pair = try ImagePair(output: scored, target: reference.alignedSharp, targetName: "aligned sharp", border: border)
        errors = try pair.squaredErrorSums(by: reference.bands)
        channels = pair.channels
        scoredDetail = try HighFrequencyEnergy.laplacianSums(scored, labels: reference.bands, border: border + Self.laplacianBorder)
        sharpDetail = try HighFrequencyEnergy.laplacianSums(reference.alignedSharp, labels: reference.bands, border: border + Self.laplacianBorder)
    }

    /// One row per band (bands without pixels included: they pool as nothing).
    func rows(method: EvaluatedMethod, capture: Capture) -> [EvaluationBandScore] {
        guard let captureID = capture.id else { return [] }
        let now = Date()
        return BlurBand.allCases.map { band in
            let i = band.index
            return EvaluationBandScore(method: method.methodColumn, checkpointPath: method.checkpointPath, captureId: captureID,
                                       imageName: capture.name, split: capture.split.rawValue, band: band,
                                       pixels: errors.pixels[i], channels: channels, squaredError: errors.sums[i],
                                       hfPixels: scoredDetail.pixels[i], hfScored: scoredDetail.sums[i], hfSharp: sharpDetail.sums[i],
                                       createdAt: now)
        }
    }
}
