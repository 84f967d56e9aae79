import Foundation
import Threading

/// PSNR with data range 1, as skimage `peak_signal_noise_ratio(target, output, data_range=1)`:
/// MSE over all channels and pixels of the cropped region, accumulated in Double.
/// Identical images give `value == .infinity` (JSON writers must say so rather than print a number).
public struct PSNRResult: Sendable, Equatable {
    public var value: Double
    public var meanSquaredError: Double
    public var basis: MeasurementBasis
}

/// Mean absolute error over all channels and pixels of the cropped region (Double accumulation).
public struct MAEResult: Sendable, Equatable {
    public var value: Double
    public var basis: MeasurementBasis
}

extension ImagePair {
    public func psnr() -> PSNRResult {
        let mse = meanOverCroppedRegion { d in d * d }
        let value = mse == 0 ? Double.infinity : 10 * log10(basis.dataRange * basis.dataRange / mse)
        return PSNRResult(value: value, meanSquaredError: mse, basis: basis)
    }

    public func mae() -> MAEResult {
        MAEResult(value: meanOverCroppedRegion { d in abs(d) }, basis: basis)
    }

    /// Mean of `f(output - target)` over the cropped region; rows in parallel, Double sums per row.
    @inline(__always)
    func meanOverCroppedRegion(_ f: (Double) -> Double) -> Double {
        let border = basis.border, width = output.width, height = output.height
        let rows = channels * croppedHeight, rowLength = croppedWidth
        let tasks = min(rows, 64)
        let partials: [Double] = output.pixels.withUnsafeBufferPointer { out in
            target.pixels.withUnsafeBufferPointer { tgt in
                Parallel.map(tasks) { task in
                    var sum = 0.0
                    for row in Parallel.range(task, of: tasks, count: rows) {
                        let channel = row / croppedHeight, y = row % croppedHeight + border
                        let start = (channel * height + y) * width + border
                        var rowSum = 0.0
                        for x in start..<(start + rowLength) { rowSum += f(Double(out[x]) - Double(tgt[x])) }
                        sum += rowSum
                    }
                    return sum
                }
            }
        }
        return partials.reduce(0, +) / Double(rows * rowLength)
    }
}
