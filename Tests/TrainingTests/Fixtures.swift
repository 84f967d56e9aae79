import Foundation
import Imaging
import Seeding
import Training

/// Small deterministic test data: a textured sharp image, a blurred and shifted "blurry" partner and
/// the exact flows between them (a constant shift), i.e. a misaligned pair with known ground truth.
enum Fixtures {
    /// A smooth random texture in [0.05, 0.95], 3 channels (sums of a few seeded sinusoids).
    static func texture(width: Int, height: Int, seed: UInt64) -> PlanarImage {
        var g = SplitMix64(state: seed)
        var image = PlanarImage(width: width, height: height, channels: 3)
        var waves: [(Double, Double, Double, Double)] = []
        for _ in 0..<6 { waves.append((g.unitDouble() * 0.6 + 0.05, g.unitDouble() * 0.6 + 0.05, g.unitDouble() * 6.28, g.unitDouble())) }
        for c in 0..<3 {
            for y in 0..<height {
                for x in 0..<width {
                    var value = 0.0
                    for (k, wave) in waves.enumerated() {
                        let phase = wave.2 + Double(c) * 0.7 * Double(k % 2)
                        value += wave.3 * sin(wave.0 * Double(x) + wave.1 * Double(y) + phase)
                    }
                    image[c, y, x] = Float(0.5 + 0.45 * tanh(value / 2))
                }
            }
        }
        return image
    }

    /// 3x3 box blur with clamped borders.
    static func boxBlur(_ image: PlanarImage) -> PlanarImage {
        var out = image
        for c in 0..<image.channels {
            for y in 0..<image.height {
                for x in 0..<image.width {
                    var sum: Float = 0
                    for dy in -1...1 {
                        for dx in -1...1 {
                            sum += image[c, min(max(y + dy, 0), image.height - 1), min(max(x + dx, 0), image.width - 1)]
                        }
                    }
                    out[c, y, x] = sum / 9
                }
            }
        }
        return out
    }

    /// A misaligned pair: sharp = texture; blurry = blur(texture shifted by (du, dv)), so
    /// blurry(p) matches sharp(p + (du, dv)) (blurryToSharp = (du, dv), sharpToBlurry = -(du, dv)).
    static func pair(id: Int64, size: Int, shift: (Float, Float), seed: UInt64) -> TrainingPatch {
        let sharp = texture(width: size, height: size, seed: seed)
        var forward = FlowField(width: size, height: size)
        var backward = FlowField(width: size, height: size)
        for i in 0..<(size * size) {
            forward.u[i] = shift.0; forward.v[i] = shift.1
            backward.u[i] = -shift.0; backward.v[i] = -shift.1
        }
        let shifted = warp(sharp, forward)
        let ones = PlanarImage(width: size, height: size, channels: 1, repeating: 1)
        return TrainingPatch(id: id, blurry: boxBlur(shifted), sharp: sharp, blurryToSharp: forward, sharpToBlurry: backward,
                             blurryToSharpMask: ones, sharpToBlurryMask: ones)
    }

    /// Bilinear backward warp with border clamping (the project convention), naive, for expectations.
    static func warp(_ image: PlanarImage, _ flow: FlowField) -> PlanarImage {
        var out = image
        for c in 0..<image.channels {
            for y in 0..<image.height {
                for x in 0..<image.width {
                    let i = y * image.width + x
                    let sx = min(max(Float(x) + flow.u[i], 0), Float(image.width - 1))
                    let sy = min(max(Float(y) + flow.v[i], 0), Float(image.height - 1))
                    let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                    let x1 = min(x0 + 1, image.width - 1), y1 = min(y0 + 1, image.height - 1)
                    let fx = sx - Float(x0), fy = sy - Float(y0)
                    let top = image[c, y0, x0] * (1 - fx) + image[c, y0, x1] * fx
                    let bottom = image[c, y1, x0] * (1 - fx) + image[c, y1, x1] * fx
                    out[c, y, x] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return out
    }

    static func temporaryDirectory(_ label: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-training-\(label)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
