import Foundation
import Imaging
import Metrics
import Testing

/// PSNR, SSIM (both windows) and MAE against scikit-image on held-out pairs (8/16-bit, RGB/grey,
/// border 0 and 4): values from metrics_skimage.py, committed in Fixtures/metric_pairs.json.
struct SkimageParityTests {
    @Test func psnrSSIMAndMAEMatchScikitImage() throws {
        var worst = (psnr: 0.0, ssim: 0.0, mae: 0.0)
        for pair in try MetricPairsFile.load().pairs {
            let (output, target) = try pair.images()
            for border in [0, 4] {
                let expected = try #require(pair.expected["border\(border)"])
                let scored = try ImagePair(output: output, target: target, targetName: "GT", border: border)
                let psnr = scored.psnr().value, ssim = try scored.ssim().value, mae = scored.mae().value
                #expect(abs(psnr - expected.psnr!) < 1e-4, "\(pair.name) border \(border): PSNR \(psnr) vs \(expected.psnr!)")
                #expect(abs(ssim - expected.ssim) < 1e-4, "\(pair.name) border \(border): SSIM \(ssim) vs \(expected.ssim)")
                #expect(abs(mae - expected.mae!) < 1e-6, "\(pair.name) border \(border): MAE \(mae) vs \(expected.mae!)")
                worst = (max(worst.psnr, abs(psnr - expected.psnr!)), max(worst.ssim, abs(ssim - expected.ssim)),
                         max(worst.mae, abs(mae - expected.mae!)))
            }
        }
        print("max |ours - skimage|: PSNR \(worst.psnr) dB, SSIM \(worst.ssim), MAE \(worst.mae)")
    }

    @Test func gaussianWindowMatchesScikitImage() throws {
        for pair in try MetricPairsFile.load().pairs {
            let (output, target) = try pair.images()
            let expected = try #require(pair.expected["gaussian"]).ssim
            let ssim = try ImagePair(output: output, target: target).ssim(window: .gaussian)
            #expect(abs(ssim.value - expected) < 1e-4, "\(pair.name): Gaussian SSIM \(ssim.value) vs \(expected)")
            #expect(ssim.window == .gaussian)
        }
    }
}

struct PixelMetricsBehaviourTests {
    let image = PlanarImage(width: 20, height: 16, channels: 3, bitDepth: 16,
                            pixels: (0..<(20 * 16 * 3)).map { Float(($0 * 37) % 97) / 128 })  // exact in Float

    @Test func identicalImagesScorePerfectly() throws {
        let pair = try ImagePair(output: image, target: image)
        #expect(pair.psnr().value == .infinity)
        #expect(abs(try pair.ssim().value - 1) < 1e-12)
        #expect(pair.mae().value == 0)
    }

    @Test func knownOffsetGivesKnownPSNRAndMAE() throws {
        var shifted = image
        shifted.pixels = image.pixels.map { $0 + 0.125 }
        let pair = try ImagePair(output: shifted, target: image)
        #expect(abs(pair.psnr().value - 10 * log10(1 / (0.125 * 0.125))) < 1e-9)
        #expect(abs(pair.mae().value - 0.125) < 1e-9)
    }

    @Test func resultsSayWhatTheyWereMeasuredAgainst() throws {
        var output = image
        output.bitDepth = 8
        let pair = try ImagePair(output: output, target: image, targetName: "deformed GT", border: 2)
        let ssim = try pair.ssim()
        #expect(ssim.basis == MeasurementBasis(targetName: "deformed GT", targetBitDepth: 16, outputBitDepth: 8, border: 2))
        #expect(pair.psnr().basis.border == 2 && pair.mae().basis.targetName == "deformed GT")
    }

    @Test func borderCropOnlySeesTheInside() throws {
        // Differences only in a 3-pixel frame: a border of 3 must make the images identical.
        var output = image
        for c in 0..<3 { for y in 0..<16 { for x in 0..<20 where y < 3 || y >= 13 || x < 3 || x >= 17 {
            output[c, y, x] = 1 - output[c, y, x]
        } } }
        #expect(try ImagePair(output: output, target: image, border: 0).psnr().value < 30)
        #expect(try ImagePair(output: output, target: image, border: 3).psnr().value == .infinity)
    }

    @Test func mismatchedSizesAndOversizedBordersAreRejected() throws {
        let smaller = PlanarImage(width: 19, height: 16, channels: 3)
        #expect(throws: MetricsError.sizeMismatch(output: "3x16x19", target: "3x16x20")) {
            try ImagePair(output: smaller, target: image)
        }
        #expect(throws: MetricsError.borderTooLarge(border: 8, width: 20, height: 16)) {
            try ImagePair(output: image, target: image, border: 8)
        }
        #expect(throws: MetricsError.imageTooSmall(width: 6, height: 6, window: 7)) {
            let tiny = PlanarImage(width: 6, height: 6, channels: 3)
            return try ImagePair(output: tiny, target: tiny).ssim()
        }
    }

    /// 4096x2160 RGB is scored whole (no tiling or subsampling shortcut): a brightness change lowers
    /// SSIM, the image against itself scores exactly 1. Speed is jdrl-bench's business (`make perf
    /// ONLY=metrics`), not a wall-clock bound here.
    @Test func ssimAtFullResolution() throws {
        let width = 4096, height = 2160
        var state: UInt32 = 12345
        let pixels = (0..<(3 * width * height)).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24)
        }
        let target = PlanarImage(width: width, height: height, channels: 3, pixels: pixels)
        var output = target
        output.pixels = pixels.map { min(1, $0 * 0.9 + 0.05) }
        let ssim = try ImagePair(output: output, target: target).ssim()
        #expect(ssim.value > 0.5 && ssim.value < 1)
        #expect(abs(try ImagePair(output: target, target: target).ssim().value - 1) < 1e-9)
    }
}
