import Foundation
import Threading

/// A pixel region of an image (one plane: width x height, true = inside), e.g. the defocused part
/// of a synthesised capture (blur radius > 1 px). Metrics restricted to it answer "did the model
/// help where the image was blurry?", which a whole-image mean dilutes with the in-focus area.
public struct PixelRegion: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let inside: [Bool]
    /// What the region is, for reports (e.g. "blur radius > 1 px").
    public let name: String

    public init(width: Int, height: Int, inside: [Bool], name: String) {
        precondition(inside.count == width * height, "a region needs one flag per pixel")
        self.width = width; self.height = height; self.inside = inside; self.name = name
    }

    public var pixelCount: Int { inside.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// PSNR, SSIM and MAE over a region only.
public struct RegionScores: Sendable, Equatable {
    public var psnr: Double
    public var ssim: Double
    public var mae: Double
    /// Pixels the PSNR/MAE averaged over (per channel); SSIM averages the map over the region's
    /// pixels whose window lies inside the image.
    public var pixels: Int
    public var basis: MeasurementBasis
}

extension ImagePair {
    /// The metrics of `psnr()`, `ssim(window:)` and `mae()` restricted to `region`'s pixels (all
    /// channels; the border crop still applies). nil if the region holds no scored pixel.
    public func scores(in region: PixelRegion, window: SSIMWindow = .uniform) throws -> RegionScores? {
        guard region.width == output.width, region.height == output.height else {
            throw MetricsError.sizeMismatch(output: "\(output.height)x\(output.width)", target: "region \(region.height)x\(region.width)")
        }
        let border = basis.border, width = output.width, plane = output.planeSize
        var squared = 0.0, absolute = 0.0, count = 0
        output.pixels.withUnsafeBufferPointer { out in
            target.pixels.withUnsafeBufferPointer { tgt in
                for y in border..<(output.height - border) {
                    for x in border..<(width - border) where region.inside[y * width + x] {
                        count += 1
                        for c in 0..<channels {
                            let d = Double(out[c * plane + y * width + x]) - Double(tgt[c * plane + y * width + x])
                            squared += d * d
                            absolute += abs(d)
                        }
                    }
                }
            }
        }
        guard count > 0 else { return nil }
        let samples = Double(count * channels)
        let mse = squared / samples
        let psnr = mse == 0 ? Double.infinity : 10 * log10(basis.dataRange * basis.dataRange / mse)

        let side = 2 * window.radius + 1
        guard croppedWidth >= side, croppedHeight >= side else {
            throw MetricsError.imageTooSmall(width: croppedWidth, height: croppedHeight, window: side)
        }
        let validRows = croppedHeight - 2 * window.radius
        let origin = border * width + border
        let perChannel: [(Double, Int)] = output.pixels.withUnsafeBufferPointer { out in
            target.pixels.withUnsafeBufferPointer { tgt in
                region.inside.withUnsafeBufferPointer { inside in
                    Parallel.map(channels) { c in
                        let scorer = SSIMBandScorer(window: window, width: croppedWidth, rowStride: width, dataRange: basis.dataRange)
                        return scorer.sumOfMap(target: tgt.baseAddress! + c * plane + origin, output: out.baseAddress! + c * plane + origin,
                                               mapRows: 0..<validRows, mask: inside.baseAddress! + origin)
                    }
                }
            }
        }
        guard let mapPixels = perChannel.first?.1, mapPixels > 0 else { return nil }
        let ssim = perChannel.reduce(0) { $0 + $1.0 / Double($1.1) } / Double(channels)
        return RegionScores(psnr: psnr, ssim: ssim, mae: absolute / samples, pixels: count,
                            basis: MeasurementBasis(targetName: basis.targetName + " (" + region.name + ")", targetBitDepth: basis.targetBitDepth,
                                                    outputBitDepth: basis.outputBitDepth, border: basis.border, dataRange: basis.dataRange))
    }
}
