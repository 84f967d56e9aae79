import Foundation
import Testing
import Imaging
import Synthesis

/// A small sharp scene: smooth shading, a few flat objects with hard edges, fine stripes.
func sceneImage(width: Int = 320, height: Int = 169) -> PlanarImage {
    var image = PlanarImage(width: width, height: height, channels: 3)
    for y in 0..<height {
        for x in 0..<width {
            let fx = Float(x) / Float(width), fy = Float(y) / Float(height)
            let texture = 0.15 * sinf(Float(x) * 0.35) * sinf(Float(y) * 0.3)
            var rgb: [Float] = [0.3 + 0.4 * fx + texture, 0.5 + 0.2 * sinf(fy * 6), 0.4 + 0.3 * fy - texture]
            if (x - 90) * (x - 90) + (y - 80) * (y - 80) < 40 * 40 { rgb = [0.9, 0.2, 0.1] }
            if x > 200 && x < 280 && y > 30 && y < 130 { rgb = [0.1, 0.3 + 0.3 * sinf(Float(x) * 0.8), 0.8] }
            for c in 0..<3 { image[c, y, x] = rgb[c] }
        }
    }
    return image
}

@Test func sameSeedGivesIdenticalFiles() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-synth-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let sharp = sceneImage()
    // Different thread counts too: rows are independent, so the bytes must not depend on scheduling.
    try PairSynthesizer.synthesize(sharp: sharp, seed: 42, threads: 1).write(to: folder.appendingPathComponent("a"))
    try PairSynthesizer.synthesize(sharp: sharp, seed: 42, threads: 2).write(to: folder.appendingPathComponent("b"))
    try PairSynthesizer.synthesize(sharp: sharp, seed: 43, threads: 2).write(to: folder.appendingPathComponent("c"))
    for name in ["blurry.png", "gt.png", "sharp_aligned.png", "blurry_to_gt.flo", "gt_to_blurry.flo", "blur_radius.png", "synth.json"] {
        let a = try Data(contentsOf: folder.appendingPathComponent("a/\(name)"))
        let b = try Data(contentsOf: folder.appendingPathComponent("b/\(name)"))
        #expect(a == b, "\(name) differs between two runs with the same seed")
    }
    let blurryA = try Data(contentsOf: folder.appendingPathComponent("a/blurry.png"))
    let blurryC = try Data(contentsOf: folder.appendingPathComponent("c/blurry.png"))
    #expect(blurryA != blurryC, "another seed should give another pair")
}

/// Mean absolute difference over the pixels at least `margin` from every border.
func interiorError(_ a: PlanarImage, _ b: PlanarImage, margin: Int) -> Float {
    var sum: Float = 0, count = 0
    for c in 0..<a.channels { for y in margin..<(a.height - margin) { for x in margin..<(a.width - margin) {
        sum += abs(a[c, y, x] - b[c, y, x]); count += 1
    } } }
    return sum / Float(count)
}

@Test func trueFlowWarpsTheGTOntoTheAlignedSharpImage() throws {
    let sharp = sceneImage()
    let pair = PairSynthesizer.synthesize(sharp: sharp, seed: 7, threads: 2)
    // blurry(p) matches gt(p + flow(p)): sampling the GT there gives the photo in the blurry frame.
    let warped = Resample.backwardWarp(pair.gt, by: pair.blurryToGT, kernel: PairSynthesizer.gtKernel, footprint: pair.metadata.transform.zoom, threads: 2)
    let aligned = interiorError(warped, sharp, margin: 12)
    let unaligned = interiorError(pair.gt, sharp, margin: 12)
    #expect(aligned < 0.01, "warped GT differs from the aligned sharp image by \(aligned)")
    #expect(aligned < unaligned / 2, "the warp should remove most of the misalignment (\(aligned) vs \(unaligned))")

    // The two flows are inverse to each other: following one then the other returns to the start.
    let width = pair.blurryToGT.width
    var worst: Float = 0
    for y in 20..<(sharp.height - 20) { for x in 20..<(width - 20) {
        let i = y * width + x
        let qx = Float(x) + pair.blurryToGT.u[i], qy = Float(y) + pair.blurryToGT.v[i]
        let j = Int(qy.rounded()) * width + Int(qx.rounded())
        let backX = qx + pair.gtToBlurry.u[j], backY = qy + pair.gtToBlurry.v[j]
        worst = max(worst, abs(backX - Float(x)), abs(backY - Float(y)))
    } }
    #expect(worst < 0.05, "flows are not inverse: round trip misses by \(worst) px")
}

@Test func misalignmentStaysWithinSDDLikeBounds() {
    let pair = PairSynthesizer.synthesize(sharp: sceneImage(), seed: 11, threads: 2)
    let t = pair.metadata.transform
    #expect(abs(t.zoom - 1) <= 0.015)
    #expect(abs(t.rotationDegrees) <= 0.3)
    let maxShift = 12.0 * 320 / 4096
    #expect(abs(t.shiftX) <= maxShift && abs(t.shiftY) <= maxShift)
}

@Test func blurMapSpansZeroToTheMaximumRadius() throws {
    let sharp = sceneImage()
    let pair = PairSynthesizer.synthesize(sharp: sharp, seed: 3, threads: 2)
    let maxRadius = Float(pair.metadata.maxBlurRadius)
    #expect(abs(maxRadius - 0.008 * 320) < 1e-4)
    #expect(pair.blurRadius.allSatisfy { $0 >= 0 && $0 <= maxRadius + 1e-4 })
    #expect(pair.blurRadius.min()! < 0.25 * maxRadius, "something should be nearly in focus")
    #expect(pair.blurRadius.max()! > 0.25 * maxRadius, "something should be out of focus")

    // The 16-bit file stores radius * 1000.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-synth-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try pair.write(to: folder)
    let stored = try ImageFile.loadRGB(folder.appendingPathComponent("blur_radius.png"))
    #expect(stored.bitDepth == 16)
    let samples = try PixelConversion.planar(from: stored.image)
    let i = pair.blurRadius.indices.max { pair.blurRadius[$0] < pair.blurRadius[$1] }!
    #expect(abs(samples.pixels[i] * 65535 / 1000 - pair.blurRadius[i]) < 0.001)
}

@Test func diskBlurOfAFlatImageIsFlatAndDefocusKeepsBrightness() {
    // Compositing renormalises coverage: a flat scene stays flat whatever the depth layout.
    let flat = PlanarImage(width: 64, height: 40, channels: 3, repeating: 0.5)
    var depth = [Float](repeating: 0.2, count: 64 * 40)
    for y in 0..<40 { for x in 32..<64 { depth[y * 64 + x] = 0.9 } }
    let out = DefocusRenderer.render(linear: flat, depth: depth, radius: { 6 * $0 }, threads: 2)
    #expect(out.pixels.allSatisfy { abs($0 - 0.5) < 1e-5 })
}

@Test func aSharpForegroundDoesNotTakeInBackgroundLight() {
    // Left half: bright, near and in focus (radius 0). Right half: dark, far and very blurred.
    // The in-focus foreground must stay exactly bright; the background near the edge may lighten.
    var image = PlanarImage(width: 80, height: 20, channels: 1)
    var depth = [Float](repeating: 0, count: 80 * 20)
    for y in 0..<20 { for x in 0..<80 {
        image[0, y, x] = x < 40 ? 1 : 0.1
        depth[y * 80 + x] = x < 40 ? 0 : 1
    } }
    let out = DefocusRenderer.render(linear: image, depth: depth, radius: { $0 < 0.5 ? 0 : 8 }, threads: 1)
    for y in 0..<20 { for x in 0..<40 { #expect(abs(out[0, y, x] - 1) < 1e-5) } }
    #expect(out[0, 10, 70] < 0.2)
}

/// The aligned sharp image is the blurry shot in focus: the photo with the blurry image's gain and
/// gamma, so a model that keeps its input's colours is not charged for the GT shot's exposure.
@Test func alignedSharpCarriesTheBlurryShotsIllumination() throws {
    let sharp = sceneImage()
    let pair = PairSynthesizer.synthesize(sharp: sharp, seed: 7, threads: 2)
    let gain = pair.metadata.gain, gamma = pair.metadata.gamma
    #expect(abs(gain - 1) > 0.001 || abs(gamma - 1) > 0.001, "seed 7 should change the illumination")
    var worst: Float = 0
    for i in sharp.pixels.indices {
        let expected = Float(min(max(gain * pow(Double(sharp.pixels[i]), gamma), 0), 1))
        worst = max(worst, abs(pair.alignedSharp.pixels[i] - expected))
    }
    #expect(worst < 1e-6, "aligned sharp is not gain * sharp^gamma (worst \(worst))")
    // Per channel mean in linear light (defocus moves light, it does not add or remove it; in sRGB a
    // blurred high-contrast scene is brighter): blurry ~ aligned sharp, not ~ the photo.
    let plane = sharp.planeSize
    func mean(_ image: PlanarImage, _ c: Int) -> Float {
        SRGB.toLinear(Array(image.pixels[(c * plane)..<((c + 1) * plane)]), threads: 2).reduce(0, +) / Float(plane)
    }
    for c in 0..<3 {
        let toAligned = abs(mean(pair.blurry, c) - mean(pair.alignedSharp, c))
        let photoToAligned = abs(mean(sharp, c) - mean(pair.alignedSharp, c))
        #expect(toAligned < 0.004, "channel \(c): blurry mean is \(toAligned) from the aligned sharp image's")
        #expect(toAligned < photoToAligned, "channel \(c): blurry should share the aligned sharp image's illumination, not the photo's")
    }
    #expect(pair.metadata.format == SynthesisMetadata.currentFormat)
}
