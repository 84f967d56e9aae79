import Foundation
import Imaging
import Threading

/// How much fine detail an image holds: the squared 4-neighbour Laplacian of its luminance,
/// (Y(x-1,y) + Y(x+1,y) + Y(x,y-1) + Y(x,y+1) - 4 Y(x,y))^2, summed per class of pixels. Divided by the
/// same sum of a reference over the same pixels it says what share of the reference's detail is left:
/// 1 = as much as the sharp image, below 1 = smoothed (a blurry input, or a model that smooths),
/// above 1 = more (noise, ringing, oversharpening).
public enum HighFrequencyEnergy {
    /// Rec. 709 luma weights, applied to the stored (gamma-encoded) values as every metric here reads them.
    public static let lumaWeights: (r: Float, g: Float, b: Float) = (0.2126, 0.7152, 0.0722)
    public static let lumaName = "Rec. 709 weights: 0.2126 R + 0.7152 G + 0.0722 B of the stored values"

    /// The luminance plane: Rec. 709 weights for RGB (extra channels ignored), the plane itself for grey.
    public static func luminance(_ image: PlanarImage) -> [Float] {
        let plane = image.planeSize
        guard image.channels >= 3 else { return Array(image.pixels[0..<plane]) }
        let w = lumaWeights
        var luma = [Float](repeating: 0, count: plane)
        image.pixels.withUnsafeBufferPointer { p in
            luma.withUnsafeMutableBufferPointer { out in
                for i in 0..<plane { out[i] = w.r * p[i] + w.g * p[plane + i] + w.b * p[2 * plane + i] }
            }
        }
        return luma
    }

    /// Squared Laplacian of the luminance summed per class of `labels`, over the pixels at least
    /// `border` (>= 1, so that every neighbour exists) from each edge; `pixels` counts them per class.
    public static func laplacianSums(_ image: PlanarImage, labels: PixelLabels, border: Int) throws -> LabelSums {
        guard labels.width == image.width, labels.height == image.height else {
            throw MetricsError.sizeMismatch(output: "\(image.height)x\(image.width)", target: "labels \(labels.height)x\(labels.width)")
        }
        let border = max(border, 1)
        guard 2 * border < image.width, 2 * border < image.height else {
            throw MetricsError.borderTooLarge(border: border, width: image.width, height: image.height)
        }
        let luma = luminance(image), width = image.width
        return luma.withUnsafeBufferPointer { y in
            labels.labels.withUnsafeBufferPointer { label in
                Parallel.reduceRows(image.height - 2 * border, initial: LabelSums(classes: labels.classes), { rows in
                    var partial = LabelSums(classes: labels.classes)
                    for row in rows {
                        let base = (row + border) * width
                        for x in border..<(width - border) {
                            let i = base + x
                            let l = Int(label[i])
                            guard l >= 0 else { continue }
                            let laplacian = Double(y[i - 1]) + Double(y[i + 1]) + Double(y[i - width]) + Double(y[i + width]) - 4 * Double(y[i])
                            partial.sums[l] += laplacian * laplacian
                            partial.pixels[l] += 1
                        }
                    }
                    return partial
                }, combine: { $0.add($1) })
            }
        }
    }
}
