import Foundation
import Imaging

/// Fine detail as energy: the mean squared 4-neighbour Laplacian of the luminance. It weighs each
/// spatial frequency by its fourth power, so it follows the finest detail an image holds, which a soft
/// resampler or a blur takes away first.
public enum DetailEnergy {
    /// The energy over the pixels at least `border` from every edge. Luminance: Rec. 709 weights of R,
    /// G, B; a one-channel image is its own luminance.
    public static func laplacian(_ image: PlanarImage, border: Int) -> Double {
        let width = image.width, height = image.height, plane = image.planeSize
        let margin = max(border, 1)
        guard width > 2 * margin, height > 2 * margin else { return 0 }
        let weights: [Float] = image.channels >= 3 ? [0.2126, 0.7152, 0.0722] : [1]
        func luminance(_ i: Int) -> Float {
            var sum: Float = 0
            for (c, weight) in weights.enumerated() { sum += weight * image.pixels[c * plane + i] }
            return sum
        }
        var total = 0.0
        for y in margin..<(height - margin) {
            for x in margin..<(width - margin) {
                let i = y * width + x
                let l = luminance(i - 1) + luminance(i + 1) + luminance(i - width) + luminance(i + width) - 4 * luminance(i)
                total += Double(l) * Double(l)
            }
        }
        return total / Double((width - 2 * margin) * (height - 2 * margin))
    }

    /// `image`'s energy as a fraction of `reference`'s, over the same interior region.
    public static func retained(_ image: PlanarImage, of reference: PlanarImage, border: Int) -> Double {
        precondition(image.width == reference.width && image.height == reference.height, "image sizes differ")
        return laplacian(image, border: border) / laplacian(reference, border: border)
    }
}
