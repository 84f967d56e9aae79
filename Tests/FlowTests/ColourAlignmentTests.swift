import Foundation
import Testing
import Imaging
import Tensors
import Flow

/// Photometric alignment: the per-channel gain and offset between a blurry image and the sharp one
/// warped into its frame, fitted on low frequencies inside the valid region.
@Suite struct ColourAlignmentTests {
    /// A colour texture in [0.1, 0.85] (three independent grey textures), so no channel clips after the relight.
    static func colourTexture(width: Int, height: Int, seed: UInt64) -> PlanarImage {
        var pixels: [Float] = []
        for c in 0..<3 {
            let grey = Synthetic.texture(width: width, height: height, seed: seed &+ UInt64(c) &* 7919)
            pixels += grey.pixels.map { 0.1 + 0.75 * ($0 - 0.05) / 0.9 }
        }
        return PlanarImage(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// Exposure and white balance of the second shot, on linear light (offsets keep every value in range).
    static let truth = ColourTransform(gain: [1.12, 0.97, 0.84], offset: [0.01, -0.005, 0.02], space: .linear)

    static func toLinear(_ v: Float) -> Float { v <= 0.04045 ? v / 12.92 : powf((v + 0.055) / 1.055, 2.4) }
    static func fromLinear(_ v: Float) -> Float { let c = min(max(v, 0), 1); return c <= 0.0031308 ? c * 12.92 : 1.055 * powf(c, 1 / 2.4) - 0.055 }
    static func map(_ image: PlanarImage, _ f: (Float) -> Float) -> PlanarImage {
        var out = image; out.pixels = image.pixels.map(f); return out
    }
    /// Defocus as light does it: the disc blur on linear values, encoded back to sRGB.
    static func defocusInLight(_ image: PlanarImage, nearRadius: Float, farRadius: Float) -> PlanarImage {
        map(Synthetic.defocus(map(image, toLinear), nearRadius: nearRadius, farRadius: farRadius), fromLinear)
    }

    /// B sharp; A = truth(defocus(B warped into A's frame)) plus a little seeded noise: the white balance
    /// and exposure of a second shot, under a spatially varying disc blur in linear light (radius 1 -> 5 px)
    /// and a misalignment with sub-pixel parts (zoom 0.6 %, shift (1.6, -0.7) px, 0.2 degrees).
    static func relitPair(width: Int = 192, height: Int = 160, seed: UInt64 = 31) -> (blurry: PlanarImage, sharp: PlanarImage, flow: FlowField) {
        let flow = Synthetic.flow(width: width, height: height, zoom: 1.006, rotationDegrees: 0.2, shiftX: 1.6, shiftY: -0.7)
        let sharp = colourTexture(width: width, height: height, seed: seed)
        var blurry = truth.applied(to: defocusInLight(Warp.backward(image: sharp, flow: flow), nearRadius: 1, farRadius: 5))
        var rng = SeededGenerator(seed: seed ^ 0xC0105)
        for i in blurry.pixels.indices { blurry.pixels[i] += 0.004 * (rng.uniform() - 0.5) }
        return (blurry, sharp, flow)
    }

    static func relativeGainError(_ fit: ColourTransform) -> Double {
        zip(fit.gain, truth.gain).map { abs($0 / $1 - 1) }.max()!
    }

    @Test func recoversGainAndOffsetThroughDefocusAndMisalignment() throws {
        // Given a relit, defocused, misaligned pair,
        let pair = Self.relitPair()
        // when the flow is estimated (geometry) and the colour map fitted on the warped sharp image,
        let flow = try FlowEstimator.estimate(from: pair.blurry, to: pair.sharp).flow
        let fit = try ColourAlignment.estimate(from: pair.blurry, to: pair.sharp, flow: flow)
        let gainError = Self.relativeGainError(fit.transform)
        let mapError = fit.transform.largestDifference(to: Self.truth)
        print("colour fit: \(fit.transform) (truth \(Self.truth)); gain error \(gainError), map error \(mapError), residual \(fit.residual)")
        // then every gain is within 1 % and the map within 1 % of full scale anywhere in [0, 1] (linear light).
        #expect(gainError < 0.01, "gains \(fit.transform.gain) vs \(Self.truth.gain)")
        #expect(mapError < 0.01, "map \(fit.transform) vs \(Self.truth)")
        // With the true flow the fit is at least as good.
        let exact = try ColourAlignment.estimate(from: pair.blurry, to: pair.sharp, flow: pair.flow)
        #expect(Self.relativeGainError(exact.transform) < 0.01 && exact.transform.largestDifference(to: Self.truth) < 0.01)
    }

    @Test func fitsOnlyInsideTheMaskAndIgnoresOutliers() throws {
        // Half the blurry image is spoilt (a bright object only one shot has); the mask excludes most of it.
        var pair = Self.relitPair(seed: 32)
        let w = pair.blurry.width, h = pair.blurry.height
        var mask = [Float](repeating: 1, count: w * h)
        for y in 0..<h { for x in 0..<(w / 2) {
            for c in 0..<3 { pair.blurry[c, y, x] = min(1, pair.blurry[c, y, x] + 0.3) }
            if x < w / 2 - 6 { mask[y * w + x] = 0 }      // the mask misses a 6 px strip: the robust weights handle it
        } }
        let masked = try ColourAlignment.estimate(from: pair.blurry, to: pair.sharp, flow: pair.flow, mask: mask)
        #expect(masked.transform.largestDifference(to: Self.truth) < 0.01, "\(masked.transform)")
        let unmasked = try ColourAlignment.estimate(from: pair.blurry, to: pair.sharp, flow: pair.flow)
        #expect(unmasked.transform.largestDifference(to: Self.truth) > 0.03, "without the mask the spoilt half must show")
    }

    @Test func identicalColoursGiveTheIdentityAndAFlatPatchKeepsItsMean() throws {
        let sharp = Self.colourTexture(width: 96, height: 96, seed: 5)
        let flow = FlowField(width: 96, height: 96)
        let identity = ColourTransform(gain: [1, 1, 1], offset: [0, 0, 0], space: .linear)
        let same = try ColourAlignment.estimate(from: Self.defocusInLight(sharp, nearRadius: 2, farRadius: 2), to: sharp, flow: flow)
        #expect(same.transform.largestDifference(to: identity) < 0.003, "\(same.transform)")
        // Fitted on sRGB values instead, the same pair shows the brightening that defocus in light gives
        // the sRGB means (what the linear fit avoids).
        var srgb = ColourFitParameters()
        srgb.space = .srgb
        let onValues = try ColourAlignment.estimate(from: Self.defocusInLight(sharp, nearRadius: 2, farRadius: 2), to: sharp, flow: flow,
                                                    parameters: srgb)
        #expect(onValues.transform.space == .srgb && onValues.transform.offset.allSatisfy { $0 > 0 }, "\(onValues.transform)")
        // A flat grey patch: gain and offset cannot be told apart; the fit keeps the mean colour.
        let flat = PlanarImage(width: 64, height: 64, channels: 3, repeating: 0.5)
        let tinted = ColourTransform(gain: [1.1, 1, 0.9], offset: [0, 0, 0], space: .linear).applied(to: flat)
        let fit = try ColourAlignment.estimate(from: tinted, to: flat, flow: FlowField(width: 64, height: 64))
        for c in 0..<3 {
            let mapped = fit.transform.gain[c] * Double(Self.toLinear(0.5)) + fit.transform.offset[c]
            #expect(abs(mapped - Double(Self.toLinear(tinted[c, 0, 0]))) < 1e-4)
        }
    }

    @Test func theTransformCommutesWithTheWarpAndInverts() throws {
        let pair = Self.relitPair(width: 64, height: 48)
        let t = ColourTransform(gain: Self.truth.gain, offset: Self.truth.offset, space: .srgb)
        let a = t.applied(to: Warp.backward(image: pair.sharp, flow: pair.flow), clampToUnit: false)
        let b = Warp.backward(image: t.applied(to: pair.sharp, clampToUnit: false), flow: pair.flow)
        #expect(zip(a.pixels, b.pixels).map { abs($0 - $1) }.max()! < 1e-5)
        // In linear light the map commutes with the warp to second order (bilinear weights on a curve).
        let al = Self.truth.applied(to: Warp.backward(image: pair.sharp, flow: pair.flow))
        let bl = Warp.backward(image: Self.truth.applied(to: pair.sharp), flow: pair.flow)
        #expect(zip(al.pixels, bl.pixels).map { abs($0 - $1) }.max()! < 2e-3)
        for map in [t, Self.truth] {
            let inverse = try #require(map.inverse)
            #expect(inverse.space == map.space)
            let back = inverse.applied(to: map.applied(to: pair.sharp, clampToUnit: false), clampToUnit: false)
            #expect(zip(back.pixels, pair.sharp.pixels).map { abs($0 - $1) }.max()! < 1e-4)
        }
        #expect(throws: ColourFitError.self) {
            _ = try ColourAlignment.estimate(from: pair.blurry, to: pair.sharp, flow: FlowField(width: 8, height: 8))
        }
        let nothing = [Float](repeating: 0, count: 64 * 48)
        #expect(throws: ColourFitError.noValidPixels(0)) {
            _ = try ColourAlignment.fit(reference: pair.blurry, aligned: pair.sharp, valid: nothing)
        }
    }
}
