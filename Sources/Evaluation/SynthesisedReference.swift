import Foundation
import Imaging
import Manifest
import Metrics
import Synthesis

/// What a synthesised capture knows beyond its (misaligned) GT: the sharp image in the blurry frame
/// and where the image is defocused. jdrl-synth writes both into `<pairs>/<capture name>/`
/// (`sharp_aligned.png`, `blur_radius.png` with radius = sample / `radiusScale` of `synth.json`;
/// `SyntheticPair.FileName`). Scoring against it needs no aligner, so the gain of a model over its
/// blurry input is measured without the aligner's error.
struct SynthesisedReference {
    let alignedSharp: PlanarImage
    let defocused: PixelRegion
    /// Each pixel's blur-radius band (`BlurBand.index`): the pooled per-band scores.
    let bands: PixelLabels

    /// Pixels blurred by more than this disk radius count as defocused (1 px: below it a disk blur
    /// barely changes an 8-bit image).
    static let defocusRadius: Float = 1
    static let regionName = "blur radius > 1 px"

    /// The pair folder's reference for `capture`, or nil when there is none or it is not this capture's
    /// (its blurry file's content hash must equal the capture's, so a re-synthesised folder is not
    /// mixed with older captures). `size` is the blurry image as scored (the reference must match it).
    static func find(for capture: Capture, in pairs: URL, width: Int, height: Int) throws -> SynthesisedReference? {
        // Capture names keep the file's extension (`free.png`); pair folders are named by the photo (`free`).
        let folder = pairs.appendingPathComponent(URL(fileURLWithPath: capture.name).deletingPathExtension().lastPathComponent)
        let names = SyntheticPair.FileName.self
        let metadataURL = folder.appendingPathComponent(names.metadata)
        guard let data = FileManager.default.contents(atPath: metadataURL.path) else { return nil }
        guard let blurryHash = capture.blurryHash,
              (try? ContentHash.of(fileAt: folder.appendingPathComponent(names.blurry))) == blurryHash else { return nil }
        let metadata = try JSONDecoder().decode(SynthesisMetadata.self, from: data)
        // Older folders hold the sharp image with the photo's illumination, not the blurry shot's.
        guard metadata.format == SynthesisMetadata.currentFormat else { return nil }
        let sharp = try ImageFile.loadPlanar(folder.appendingPathComponent(names.alignedSharp)).image.rgbForMetrics()
        let radius = try ImageFile.loadPlanar(folder.appendingPathComponent(names.blurRadius)).image
        guard sharp.width == width, sharp.height == height, radius.width == width, radius.height == height else { return nil }
        // Samples in [0, 1] of a 16-bit image: radius = sample * 65535 / radiusScale.
        let toRadius = Float(65535 / metadata.radiusScale)
        let radii = radius.pixels[0..<(width * height)].map { $0 * toRadius }
        let inside = radii.map { $0 > defocusRadius }
        return SynthesisedReference(alignedSharp: sharp, defocused: PixelRegion(width: width, height: height, inside: inside, name: regionName),
                                    bands: BandScores.labels(radii: radii, width: width, height: height))
    }
}
