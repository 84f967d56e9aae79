import Foundation

/// The mean colour error of an output against its target: per channel, the mean of (output - target)
/// over the cropped region (Double sums). A model that learnt the GT shot's exposure or white balance
/// shows it here (a constant per-channel bias) while its structure may be right; `largest` is what
/// tables show (the largest |mean| over the channels).
public struct ColourErrorResult: Sendable, Equatable {
    /// Mean of (output - target) per channel, in [−1, 1] (images in [0, 1]).
    public var perChannel: [Double]
    public var basis: MeasurementBasis
    /// The largest |per-channel mean error|.
    public var largest: Double { perChannel.map(abs).max() ?? 0 }
}

extension ImagePair {
    public func colourError() -> ColourErrorResult {
        ColourErrorResult(perChannel: (0..<channels).map { meanOverCroppedChannel($0) { $0 } }, basis: basis)
    }

    /// PSNR (data range 1) after removing each channel's mean error from the output: the score of the
    /// structure alone, a separate number (never a replacement for `psnr()`). MSE_c after the removal is
    /// MSE_c - mean_c^2, accumulated in Double.
    public func psnrColourCorrected() -> PSNRResult {
        var mse = 0.0
        for c in 0..<channels {
            let mean = meanOverCroppedChannel(c) { $0 }
            mse += meanOverCroppedChannel(c) { ($0 - mean) * ($0 - mean) }
        }
        mse /= Double(channels)
        let value = mse <= 0 ? Double.infinity : 10 * log10(basis.dataRange * basis.dataRange / mse)
        return PSNRResult(value: value, meanSquaredError: max(mse, 0), basis: basis)
    }

    /// Mean of `f(output - target)` over one channel's cropped region (Double sums per row).
    func meanOverCroppedChannel(_ channel: Int, _ f: (Double) -> Double) -> Double {
        let border = basis.border, width = output.width, height = output.height
        var sum = 0.0
        output.pixels.withUnsafeBufferPointer { out in
            target.pixels.withUnsafeBufferPointer { tgt in
                for y in border..<(height - border) {
                    let start = (channel * height + y) * width + border
                    var rowSum = 0.0
                    for x in start..<(start + croppedWidth) { rowSum += f(Double(out[x]) - Double(tgt[x])) }
                    sum += rowSum
                }
            }
        }
        return sum / Double(croppedWidth * croppedHeight)
    }
}
