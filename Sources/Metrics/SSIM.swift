import Foundation
import Threading

/// The SSIM window. `.uniform` is the reference convention (skimage `structural_similarity` defaults:
/// 7x7 box, sample covariance N/(N-1)); `.gaussian` is skimage's `gaussian_weights=True, sigma=1.5,
/// use_sample_covariance=False` (11x11, the window of Wang et al. 2004).
public enum SSIMWindow: String, Sendable, Codable, CaseIterable {
    case uniform
    case gaussian

    /// Half-width: the map loses this many pixels on each side before averaging (skimage's
    /// `pad = (win_size - 1) // 2`), so every averaged window lies inside the image.
    var radius: Int { self == .uniform ? 3 : 5 }

    /// Separable 1-D weights summing to 1 (the 2-D window is their outer product).
    var weights: [Double] {
        switch self {
        case .uniform:
            return [Double](repeating: 1.0 / 7.0, count: 7)
        case .gaussian:
            // scipy.ndimage.gaussian_filter with sigma 1.5 and truncate 3.5: radius int(3.5*1.5+0.5) = 5.
            let sigma = 1.5
            let raw = (-5...5).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
            let total = raw.reduce(0, +)
            return raw.map { $0 / total }
        }
    }

    /// Bessel factor applied to the variances and the covariance.
    var covarianceNormalisation: Double {
        switch self {
        case .uniform: return 49.0 / 48.0
        case .gaussian: return 1.0
        }
    }
}

public struct SSIMResult: Sendable, Equatable {
    /// Mean over channels of each channel's mean SSIM.
    public var value: Double
    public var perChannel: [Double]
    public var window: SSIMWindow
    public var basis: MeasurementBasis
}

extension ImagePair {
    /// SSIM as skimage `structural_similarity(target, output, channel_axis=2, data_range=1)` (or its
    /// Gaussian variant): K1 0.01, K2 0.03, Double accumulation, per-channel map averaged over the
    /// pixels whose window lies inside the (border-cropped) image, then averaged over channels.
    public func ssim(window: SSIMWindow = .uniform) throws -> SSIMResult {
        let side = 2 * window.radius + 1
        guard croppedWidth >= side, croppedHeight >= side else {
            throw MetricsError.imageTooSmall(width: croppedWidth, height: croppedHeight, window: side)
        }
        let validRows = croppedHeight - 2 * window.radius
        // Bands of map rows per channel: enough tasks to keep both cores busy, each band pays one
        // full window of row reads to prime its running sums.
        let bands = max(1, min(validRows / 32, 16))
        let plane = output.planeSize, border = basis.border, stride = output.width
        let sums: [Double] = output.pixels.withUnsafeBufferPointer { out in
            target.pixels.withUnsafeBufferPointer { tgt in
                Parallel.map(channels * bands) { task in
                    let channel = task / bands
                    let origin = channel * plane + border * stride + border
                    let scorer = SSIMBandScorer(window: window, width: croppedWidth, rowStride: stride,
                                                dataRange: basis.dataRange)
                    return scorer.sumOfMap(target: tgt.baseAddress! + origin, output: out.baseAddress! + origin,
                                           mapRows: Parallel.range(task % bands, of: bands, count: validRows))
                }
            }
        }
        let pixelsPerChannel = Double(validRows * (croppedWidth - 2 * window.radius))
        let perChannel = (0..<channels).map { c in sums[(c * bands)..<((c + 1) * bands)].reduce(0, +) / pixelsPerChannel }
        return SSIMResult(value: perChannel.reduce(0, +) / Double(channels), perChannel: perChannel,
                          window: window, basis: basis)
    }
}
