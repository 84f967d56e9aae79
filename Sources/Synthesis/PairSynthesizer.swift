import Foundation
import Imaging
import Seeding
import Threading

/// Knobs of the SDD-like pair generator. Defaults follow SDD's measured misalignment (zoom about
/// +-1.5 %, shifts up to ~12 px at 4096 px width) and a blur strong enough to matter at the width used.
public struct SynthesisParameters: Sendable, Codable, Equatable {
    /// Zoom is drawn from 1 +- this.
    public var maxZoomDeviation = 0.015
    /// Largest shift per axis, in pixels at 4096 px width (scaled with the image width).
    public var maxShiftAt4096 = 12.0
    public var maxRotationDegrees = 0.3
    /// Largest blur radius as a fraction of the image width (0.008: 8 px at 1024, 33 px at 4096).
    public var maxBlurRadiusFraction = 0.008
    /// Illumination change of the blurry image: gain in 1 +- this, gamma in 1 +- `maxGammaDeviation`.
    public var maxGainDeviation = 0.04
    public var maxGammaDeviation = 0.05
    /// Sensor noise: variance = shot * value + read^2 (values in [0, 1]); each drawn from these ranges.
    public var shotNoise: ClosedRange<Double> = 0.00005...0.0003
    public var readNoise: ClosedRange<Double> = 0.001...0.004
    public var depthLevels = 12
    public var superpixels = 160

    public init() {}
}

/// One synthetic capture. Frames: `blurry` and `alignedSharp` share pixel coordinates and illumination
/// (`alignedSharp` is what the blurry shot would have been in focus: the same gain and gamma, no
/// noise); `gt` is the sharp second shot, with the photo's own illumination, seen through `transform`
/// (gt(T(p)) = scene(p)). Flows follow the project convention A(p) matches B(p + flow(p)).
public struct SyntheticPair: Sendable {
    public var blurry: PlanarImage
    public var gt: PlanarImage
    public var alignedSharp: PlanarImage
    /// blurry(p) matches gt(p + flow(p)).
    public var blurryToGT: FlowField
    /// gt(q) matches blurry(q + flow(q)).
    public var gtToBlurry: FlowField
    /// Disk radius in pixels at each pixel of the blurry frame.
    public var blurRadius: [Float]
    public var metadata: SynthesisMetadata
}

/// Everything drawn from the seed, written next to the images as `synth.json`.
public struct SynthesisMetadata: Sendable, Codable, Equatable {
    /// What the files mean. 2: `sharp_aligned.png` carries the blurry shot's illumination (before: the
    /// photo's). 3: `gt.png` is resampled with Lanczos-12 (before: bilinear, which softened it).
    /// Folders written by an older synthesiser lack the key or hold an older value and are made again.
    public var format: Int?
    public static let currentFormat = 3
    public var seed: UInt64
    public var width: Int
    public var height: Int
    public var transform: SimilarityTransform
    public var focusDepth: Double
    public var maxBlurRadius: Double
    public var gain: Double
    public var gamma: Double
    public var shotNoise: Double
    public var readNoise: Double
    /// How to read `blur_radius.png`: radius in pixels = sample / radiusScale (16-bit samples).
    public var radiusScale: Double
    public var parameters: SynthesisParameters
    /// The fraction of the aligned sharp image's fine detail (Laplacian energy) the GT keeps when the
    /// true flow maps it back onto the blurry frame (`GTDetail`).
    public var gtDetailRetained: Double?
}

public enum PairSynthesizer {
    /// 16-bit blur-map samples per pixel of radius (1/1000 px resolution, radii up to 65 px).
    public static let radiusScale = 1000.0
    /// SDD's frame: 4096 x 2160.
    public static let sddAspect = 4096.0 / 2160.0
    /// The resampler that renders the misaligned GT.
    public static let gtKernel = ResamplingKernel.lanczos(12)

    /// Loads a sharp photo as RGB, resizes it (Lanczos3) to `width` and centre-crops it to `aspect`
    /// (width / height) when given. Keeps the file's bit depth.
    public static func prepareSharp(photo: URL, width: Int? = nil, aspect: Double? = sddAspect) throws -> (image: PlanarImage, notes: [String]) {
        let loaded = try ImageFile.loadRGB(photo)
        var image = loaded.image
        var notes = loaded.notes
        if let width, width != image.width {
            image = try image.resized(scale: Double(width) / Double(image.width))
            notes.append("resized to \(image.width)x\(image.height)")
        }
        if let aspect {
            let wantHeight = Int((Double(image.width) / aspect).rounded())
            if wantHeight < image.height {
                image = try image.cropped(x: 0, y: (image.height - wantHeight) / 2, width: image.width, height: wantHeight)
            } else {
                let wantWidth = Int((Double(image.height) * aspect).rounded())
                if wantWidth < image.width { image = try image.cropped(x: (image.width - wantWidth) / 2, y: 0, width: wantWidth, height: image.height) }
            }
            notes.append("centre-cropped to \(image.width)x\(image.height)")
        }
        return (try PixelConversion.planar(from: image), notes)
    }

    public static func synthesize(sharp: PlanarImage, seed: UInt64, parameters: SynthesisParameters = .init(),
                                  threads: Int = ProcessInfo.processInfo.activeProcessorCount) -> SyntheticPair {
        var rng = SplitMix64(state: seed)
        let width = sharp.width, height = sharp.height
        let widthScale = Double(width) / 4096

        // Misalignment of the GT.
        let transform = SimilarityTransform(
            zoom: 1 + rng.uniform(-parameters.maxZoomDeviation, parameters.maxZoomDeviation),
            rotationDegrees: rng.uniform(-parameters.maxRotationDegrees, parameters.maxRotationDegrees),
            shiftX: rng.uniform(-1, 1) * parameters.maxShiftAt4096 * widthScale,
            shiftY: rng.uniform(-1, 1) * parameters.maxShiftAt4096 * widthScale,
            centreX: Double(width - 1) / 2, centreY: Double(height - 1) / 2)
        let gain = 1 + rng.uniform(-parameters.maxGainDeviation, parameters.maxGainDeviation)
        let gamma = 1 + rng.uniform(-parameters.maxGammaDeviation, parameters.maxGammaDeviation)
        let shot = rng.uniform(parameters.shotNoise.lowerBound, parameters.shotNoise.upperBound)
        let read = rng.uniform(parameters.readNoise.lowerBound, parameters.readNoise.upperBound)

        // Scene depth and the lens focus: focus on one depth present in the scene.
        var depthParameters = DepthMap.Parameters()
        depthParameters.segments = parameters.superpixels
        let depthMap = DepthMap.make(from: sharp, parameters: depthParameters, rng: &rng, threads: threads)
        let focusDepth = Double(depthMap.depth[Int(rng.next() % UInt64(depthMap.depth.count))])
        let maxRadius = Float(parameters.maxBlurRadiusFraction * Double(width))
        let radiusOf: (Float) -> Float = { maxRadius * min(1, abs($0 - Float(focusDepth)) / 0.6) }

        // Defocus in linear light.
        let linear = PlanarImage(width: width, height: height, channels: sharp.channels, bitDepth: sharp.bitDepth,
                                 pixels: SRGB.toLinear(sharp.pixels, threads: threads))
        var layering = DefocusRenderer.Layering()
        layering.levels = parameters.depthLevels
        let defocused = DefocusRenderer.render(linear: linear, depth: depthMap.depth, radius: radiusOf, layering: layering, threads: threads)

        // Back to sRGB with an illumination change and sensor noise (per-row streams: thread-count independent).
        let illuminate: (Float) -> Double = { gain * pow(Double($0), gamma) }
        var blurry = PlanarImage(width: width, height: height, channels: sharp.channels, bitDepth: sharp.bitDepth,
                                 pixels: SRGB.fromLinear(defocused.pixels, threads: threads, clampingToUnit: true))
        let plane = blurry.planeSize, channels = blurry.channels
        blurry.pixels.withUnsafeMutableBufferPointer { buffer in
            let pixels = buffer
            Parallel.rows(height, workers: threads, minimumRowsPerChunk: 1) { rows in
                for y in rows {
                    var rowRNG = SplitMix64(seed: seed, stream: UInt64(y) + 1)
                    for c in 0..<channels {
                        for x in 0..<width {
                            let i = c * plane + y * width + x
                            let lit = illuminate(pixels[i])
                            let sigma = (shot * max(lit, 0) + read * read).squareRoot()
                            pixels[i] = Float(min(max(lit + sigma * rowRNG.gaussian(), 0), 1))
                        }
                    }
                }
            }
        }
        // The target a deblurring model is scored against: the blurry shot's illumination, in focus, noiseless.
        var alignedSharp = sharp
        alignedSharp.pixels = sharp.pixels.map { Float(min(max(illuminate($0), 0), 1)) }

        // The misaligned GT: gt(q) = sharp(T^-1(q)), i.e. a backward warp of the sharp image by the inverse flow.
        // Lanczos-12, the kernel stretched by the footprint 1 / zoom where the GT zooms out (an anti-alias
        // low-pass). Mapped back by the true flow, the embedded photos' GTs keep 94-98 % of their fine
        // detail this way; bilinear kept 22-50 %, Lanczos-3 72-96 % (docs/resampling.md).
        let gtToBlurry = transform.inverseFlow(width: width, height: height)
        let blurryToGT = transform.forwardFlow(width: width, height: height)
        let gt = Resample.backwardWarp(sharp, by: gtToBlurry, kernel: gtKernel, footprint: 1 / transform.zoom, threads: threads)
        let retained = GTDetail.retained(gt: gt, sharp: sharp, blurryToGT: blurryToGT, zoom: transform.zoom, kernel: gtKernel, threads: threads)
        let blurRadius = depthMap.depth.map(radiusOf)

        let metadata = SynthesisMetadata(format: SynthesisMetadata.currentFormat, seed: seed, width: width, height: height, transform: transform, focusDepth: focusDepth,
                                         maxBlurRadius: Double(maxRadius), gain: gain, gamma: gamma, shotNoise: shot, readNoise: read,
                                         radiusScale: radiusScale, parameters: parameters, gtDetailRetained: retained)
        return SyntheticPair(blurry: blurry, gt: gt, alignedSharp: alignedSharp,
                             blurryToGT: blurryToGT, gtToBlurry: gtToBlurry,
                             blurRadius: blurRadius, metadata: metadata)
    }
}

extension SyntheticPair {
    /// File names inside a pair's folder.
    public enum FileName {
        public static let blurry = "blurry.png"
        public static let gt = "gt.png"
        public static let alignedSharp = "sharp_aligned.png"
        public static let blurryToGT = "blurry_to_gt.flo"
        public static let gtToBlurry = "gt_to_blurry.flo"
        public static let blurRadius = "blur_radius.png"
        /// Written last: its presence means the folder is complete.
        public static let metadata = "synth.json"
    }

    /// The blur-radius map as a 16-bit single-channel image (sample = radius * radiusScale).
    public var blurRadiusImage: PlanarImage {
        let scale = Float(metadata.radiusScale / 65535)
        return PlanarImage(width: blurry.width, height: blurry.height, channels: 1, bitDepth: 16,
                           pixels: blurRadius.map { min($0 * scale, 1) })
    }

    /// Writes every output into `folder`; `synth.json` goes last, so a folder without it is incomplete.
    public func write(to folder: URL, compression: Int = 1) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try blurry.savePNG(to: folder.appendingPathComponent(FileName.blurry), compression: compression)
        try gt.savePNG(to: folder.appendingPathComponent(FileName.gt), compression: compression)
        try alignedSharp.savePNG(to: folder.appendingPathComponent(FileName.alignedSharp), compression: compression)
        try FlowFile.write(blurryToGT, to: folder.appendingPathComponent(FileName.blurryToGT))
        try FlowFile.write(gtToBlurry, to: folder.appendingPathComponent(FileName.gtToBlurry))
        try blurRadiusImage.savePNG(to: folder.appendingPathComponent(FileName.blurRadius), compression: compression)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(metadata).write(to: folder.appendingPathComponent(FileName.metadata), options: .atomic)
    }
}
