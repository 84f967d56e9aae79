import Foundation
import Threading

/// A partition of an image's pixels into a few numbered classes (one plane: width x height; -1 = no
/// class), e.g. blur-radius bands of a synthesised capture. Sums per class over every pixel of an image
/// can be added across images and turned into one pooled number per class.
public struct PixelLabels: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// How many classes there are (labels are 0..<classes, or -1).
    public let classes: Int
    public let labels: [Int8]

    public init(width: Int, height: Int, classes: Int, labels: [Int8]) {
        precondition(labels.count == width * height, "labels need one entry per pixel")
        precondition(classes > 0 && classes <= Int(Int8.max), "between 1 and 127 classes")
        precondition(labels.allSatisfy { $0 >= -1 && Int($0) < classes }, "a label is -1 or below the class count")
        self.width = width; self.height = height; self.classes = classes; self.labels = labels
    }

    /// Pixels per class over the whole plane.
    public var pixelCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels where label >= 0 { counts[Int(label)] += 1 }
        return counts
    }
}

/// Per-class sums of a per-pixel quantity and how many pixels entered each.
public struct LabelSums: Sendable, Equatable {
    public var sums: [Double]
    public var pixels: [Int]

    public init(classes: Int) {
        sums = [Double](repeating: 0, count: classes)
        pixels = [Int](repeating: 0, count: classes)
    }

    public mutating func add(_ other: LabelSums) {
        for i in sums.indices { sums[i] += other.sums[i]; pixels[i] += other.pixels[i] }
    }
}

/// One PSNR for many pixels: the squared errors summed over every pixel (and channel) of a set,
/// possibly across images, divided by their count once, so the regions with the most error weigh
/// most (unlike a mean of per-image PSNRs).
public enum PooledPSNR {
    /// PSNR with data range 1 of `squaredError` summed over `samples` values; nil without samples,
    /// infinity without error.
    public static func value(squaredError: Double, samples: Int) -> Double? {
        guard samples > 0 else { return nil }
        let mse = squaredError / Double(samples)
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }
}

extension ImagePair {
    /// Squared (output - target) summed over all channels per class of `labels` (the border crop applies);
    /// `pixels` counts pixels, not samples (samples = pixels x channels). Rows in parallel, Double sums.
    public func squaredErrorSums(by labels: PixelLabels) throws -> LabelSums {
        guard labels.width == output.width, labels.height == output.height else {
            throw MetricsError.sizeMismatch(output: "\(output.height)x\(output.width)", target: "labels \(labels.height)x\(labels.width)")
        }
        let border = basis.border, width = output.width, plane = output.planeSize, channels = self.channels
        return output.pixels.withUnsafeBufferPointer { out in
            target.pixels.withUnsafeBufferPointer { tgt in
                labels.labels.withUnsafeBufferPointer { label in
                    Parallel.reduceRows(croppedHeight, initial: LabelSums(classes: labels.classes), { rows in
                        var partial = LabelSums(classes: labels.classes)
                        for row in rows {
                            let y = row + border
                            for x in border..<(width - border) {
                                let index = y * width + x
                                let l = Int(label[index])
                                guard l >= 0 else { continue }
                                var sum = 0.0
                                for c in 0..<channels {
                                    let d = Double(out[c * plane + index]) - Double(tgt[c * plane + index])
                                    sum += d * d
                                }
                                partial.sums[l] += sum
                                partial.pixels[l] += 1
                            }
                        }
                        return partial
                    }, combine: { $0.add($1) })
                }
            }
        }
    }
}
