import Foundation
import Imaging
import Tensors
import Flow

/// Test material made here, from a seed: smooth random textures, a known flow, blur and an
/// illumination change. Nothing is read from disk, so every number a test checks is reproducible.
struct SeededGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {       // SplitMix64
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func uniform(_ range: ClosedRange<Float>) -> Float { range.lowerBound + (range.upperBound - range.lowerBound) * uniform() }
}

enum Synthetic {
    /// Plain separable Gaussian with clamped borders (the tests' own, independent of the module's).
    static func blur(_ plane: [Float], width: Int, height: Int, sigma: Float) -> [Float] {
        let radius = Int((3 * sigma).rounded(.up))
        var taps = (-radius...radius).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +); taps = taps.map { $0 / total }
        var across = plane, out = plane
        for y in 0..<height { for x in 0..<width {
            var acc: Float = 0
            for t in -radius...radius { acc += taps[t + radius] * plane[y * width + min(max(x + t, 0), width - 1)] }
            across[y * width + x] = acc
        } }
        for y in 0..<height { for x in 0..<width {
            var acc: Float = 0
            for t in -radius...radius { acc += taps[t + radius] * across[min(max(y + t, 0), height - 1) * width + x] }
            out[y * width + x] = acc
        } }
        return out
    }

    /// A photo-like grey texture in [0.05, 0.95]: noise smoothed at several scales plus a few edges.
    static func texture(width: Int, height: Int, seed: UInt64) -> PlanarImage {
        var rng = SeededGenerator(seed: seed)
        var sum = [Float](repeating: 0, count: width * height)
        for (sigma, weight) in [(Float(1.5), Float(0.5)), (4, 1), (12, 1.5)] {
            let noise = (0..<(width * height)).map { _ in rng.uniform() - 0.5 }
            let smooth = blur(noise, width: width, height: height, sigma: sigma)
            for i in sum.indices { sum[i] += weight * smooth[i] * sigma }
        }
        // Hard-edged discs: the kind of structure a defocused background smears.
        for _ in 0..<12 {
            let cx = rng.uniform(0...Float(width)), cy = rng.uniform(0...Float(height))
            let r = rng.uniform(4...Float(max(width, height)) / 8), level = rng.uniform(-0.3...0.3)
            for y in 0..<height { for x in 0..<width where hypotf(Float(x) - cx, Float(y) - cy) < r { sum[y * width + x] += level } }
        }
        let lo = sum.min()!, hi = sum.max()!
        let pixels = sum.map { 0.05 + 0.9 * ($0 - lo) / (hi - lo) }
        return PlanarImage(width: width, height: height, channels: 1, pixels: pixels)
    }

    /// A similarity flow plus an optional smooth non-rigid wobble of amplitude `wobble` pixels.
    static func flow(width: Int, height: Int, zoom: Double, rotationDegrees: Double, shiftX: Double, shiftY: Double,
                     wobble: Float = 0) -> FlowField {
        var field = GlobalMotion.similarity(zoom: zoom, rotationDegrees: rotationDegrees, shiftX: shiftX, shiftY: shiftY,
                                            width: width, height: height).flow(width: width, height: height)
        for y in 0..<height { for x in 0..<width {
            let fx = Float(x) / Float(width), fy = Float(y) / Float(height)
            field.u[y * width + x] += wobble * sinf(2 * .pi * (1.3 * fx + 0.2)) * cosf(2 * .pi * 0.8 * fy)
            field.v[y * width + x] += wobble * cosf(2 * .pi * (0.9 * fx)) * sinf(2 * .pi * (1.1 * fy + 0.3))
        } }
        return field
    }

    /// Disc blur whose radius grows from `nearRadius` (left) to `farRadius` (right): a defocused background.
    static func defocus(_ image: PlanarImage, nearRadius: Float, farRadius: Float) -> PlanarImage {
        var out = image
        let w = image.width, h = image.height
        for c in 0..<image.channels {
            for y in 0..<h { for x in 0..<w {
                let radius = nearRadius + (farRadius - nearRadius) * Float(x) / Float(w - 1)
                let reach = Int(radius.rounded(.up))
                var acc: Float = 0, weight: Float = 0
                for dy in -reach...reach { for dx in -reach...reach where Float(dx * dx + dy * dy) <= radius * radius + 0.5 {
                    acc += image[c, min(max(y + dy, 0), h - 1), min(max(x + dx, 0), w - 1)]; weight += 1
                } }
                out[c, y, x] = acc / weight
            } }
        }
        return out
    }

    /// The pair a test aligns: B is the sharp texture; A is B brought into A's frame by `flow`
    /// (so A(p) ~ B(p + flow(p)) exactly), then defocused and relit (gain 0.85, offset, ramp).
    static func blurryVersusSharp(width: Int, height: Int, flow: FlowField, seed: UInt64,
                                  nearRadius: Float = 1, farRadius: Float = 6) -> (blurry: PlanarImage, sharp: PlanarImage) {
        let sharp = texture(width: width, height: height, seed: seed)
        var blurry = defocus(Warp.backward(image: sharp, flow: flow), nearRadius: nearRadius, farRadius: farRadius)
        for y in 0..<height { for x in 0..<width {
            blurry[0, y, x] = 0.85 * blurry[0, y, x] + 0.04 + 0.05 * Float(y) / Float(height)
        } }
        return (blurry, sharp)
    }

    /// Mean endpoint error between two flows, ignoring a border band.
    static func endpointError(_ a: FlowField, _ b: FlowField, border: Int) -> Double {
        var sum = 0.0, count = 0
        for y in border..<(a.height - border) { for x in border..<(a.width - border) {
            let i = y * a.width + x
            sum += Double(hypotf(a.u[i] - b.u[i], a.v[i] - b.v[i])); count += 1
        } }
        return sum / Double(count)
    }
}
