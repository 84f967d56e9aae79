import Foundation
import Imaging
import Metrics
import Testing

/// Sums per class of pixels (blur-radius bands): squared errors that pool into one PSNR across images,
/// and the squared Laplacian of the luminance (fine detail), each against a naive twin and known values.
struct BandMetricsTests {
    /// A deterministic image with values in [0, 1].
    static func image(width: Int, height: Int, channels: Int = 3, seed: Int) -> PlanarImage {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let pixels = (0..<(width * height * channels)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24)
        }
        return PlanarImage(width: width, height: height, channels: channels, bitDepth: 16, pixels: pixels)
    }

    static func labels(width: Int, height: Int, classes: Int, seed: Int) -> PixelLabels {
        PixelLabels(width: width, height: height, classes: classes,
                    labels: (0..<(width * height)).map { Int8(($0 * 7 + seed) % (classes + 1)) - 1 })
    }

    /// The twin: luminance in Double from the definition, then the stencil pixel by pixel.
    static func naiveLaplacianSums(_ image: PlanarImage, labels: PixelLabels, border: Int) -> LabelSums {
        func luma(_ y: Int, _ x: Int) -> Double {
            if image.channels == 1 { return Double(image[0, y, x]) }
            return 0.2126 * Double(image[0, y, x]) + 0.7152 * Double(image[1, y, x]) + 0.0722 * Double(image[2, y, x])
        }
        var sums = LabelSums(classes: labels.classes)
        for y in border..<(image.height - border) {
            for x in border..<(image.width - border) {
                let label = Int(labels.labels[y * image.width + x])
                if label < 0 { continue }
                let l = luma(y, x - 1) + luma(y, x + 1) + luma(y - 1, x) + luma(y + 1, x) - 4 * luma(y, x)
                sums.sums[label] += l * l
                sums.pixels[label] += 1
            }
        }
        return sums
    }

    static func naiveSquaredErrors(_ output: PlanarImage, _ target: PlanarImage, labels: PixelLabels, border: Int) -> LabelSums {
        var sums = LabelSums(classes: labels.classes)
        for y in border..<(output.height - border) {
            for x in border..<(output.width - border) {
                let label = Int(labels.labels[y * output.width + x])
                if label < 0 { continue }
                for c in 0..<output.channels {
                    let d = Double(output[c, y, x]) - Double(target[c, y, x])
                    sums.sums[label] += d * d
                }
                sums.pixels[label] += 1
            }
        }
        return sums
    }

    @Test func aConstantImageHasNoDetail() throws {
        let image = PlanarImage(width: 12, height: 9, channels: 3, bitDepth: 8, repeating: 0.37)
        let labels = PixelLabels(width: 12, height: 9, classes: 1, labels: [Int8](repeating: 0, count: 12 * 9))
        let sums = try HighFrequencyEnergy.laplacianSums(image, labels: labels, border: 1)
        #expect(sums.sums == [0])
        #expect(sums.pixels == [10 * 7])
    }

    @Test func aCheckerboardHasSixteenPerPixel() throws {
        // Grey 0/1 checkerboard: every interior pixel differs by 1 from its four neighbours, Laplacian +-4.
        let width = 10, height = 8
        let grey = (0..<(width * height)).map { Float(($0 % width + $0 / width) % 2) }
        let rgb = PlanarImage(width: width, height: height, channels: 3, bitDepth: 8, pixels: grey + grey + grey)
        let labels = PixelLabels(width: width, height: height, classes: 2, labels: (0..<(width * height)).map { Int8(($0 / width) % 2) })
        let sums = try HighFrequencyEnergy.laplacianSums(rgb, labels: labels, border: 2)
        // Rows 2..<6, columns 2..<8: rows 2 and 4 are class 0, rows 3 and 5 class 1, 6 pixels each.
        #expect(sums.pixels == [12, 12])
        for sum in sums.sums { #expect(abs(sum - 12 * 16) < 1e-4, "\(sums.sums)") }
        // Rec. 709 weights sum to 1: a grey plane scores the same as its RGB form.
        let plane = PlanarImage(width: width, height: height, channels: 1, bitDepth: 8, pixels: grey)
        #expect(try HighFrequencyEnergy.laplacianSums(plane, labels: labels, border: 2).sums == [12 * 16, 12 * 16])
    }

    @Test func lumaIsRec709() {
        let image = PlanarImage(width: 3, height: 1, channels: 3, bitDepth: 8, pixels: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let y = HighFrequencyEnergy.luminance(image)
        #expect(abs(y[0] - 0.2126) < 1e-7 && abs(y[1] - 0.7152) < 1e-7 && abs(y[2] - 0.0722) < 1e-7)
    }

    @Test func laplacianSumsMatchTheNaiveTwin() throws {
        for (width, height, channels, border) in [(37, 23, 3, 1), (64, 50, 3, 4), (20, 31, 1, 3)] {
            let image = Self.image(width: width, height: height, channels: channels, seed: width)
            let labels = Self.labels(width: width, height: height, classes: 3, seed: height)
            let fast = try HighFrequencyEnergy.laplacianSums(image, labels: labels, border: border)
            let naive = Self.naiveLaplacianSums(image, labels: labels, border: border)
            #expect(fast.pixels == naive.pixels)
            for (a, b) in zip(fast.sums, naive.sums) { #expect(abs(a - b) <= 1e-5 * b && b > 0, "\(fast.sums) vs \(naive.sums)") }
        }
    }

    @Test func squaredErrorsMatchTheNaiveTwinAndPoolAcrossImages() throws {
        let width = 33, height = 21
        let a = Self.image(width: width, height: height, seed: 1), b = Self.image(width: width, height: height, seed: 2)
        let labels = Self.labels(width: width, height: height, classes: 3, seed: 5)
        for border in [0, 2] {
            let fast = try ImagePair(output: a, target: b, border: border).squaredErrorSums(by: labels)
            let naive = Self.naiveSquaredErrors(a, b, labels: labels, border: border)
            #expect(fast.pixels == naive.pixels)
            for (x, y) in zip(fast.sums, naive.sums) { #expect(abs(x - y) <= 1e-9 * y, "\(fast.sums) vs \(naive.sums)") }
        }
        // One class over every pixel: the band's PSNR is the plain PSNR.
        let all = PixelLabels(width: width, height: height, classes: 1, labels: [Int8](repeating: 0, count: width * height))
        let whole = try ImagePair(output: a, target: b).squaredErrorSums(by: all)
        let plain = try ImagePair(output: a, target: b).psnr().value
        #expect(abs(PooledPSNR.value(squaredError: whole.sums[0], samples: whole.pixels[0] * 3)! - plain) < 1e-9)

        // Pooled over two images = the PSNR of the two images side by side (one image twice as high).
        let c = Self.image(width: width, height: height, seed: 3), d = PlanarImage(width: width, height: height, channels: 3, bitDepth: 16,
                                                                                  pixels: c.pixels.map { $0 * 0.5 })
        var pooled = whole
        pooled.add(try ImagePair(output: c, target: d).squaredErrorSums(by: all))
        func stacked(_ top: PlanarImage, _ bottom: PlanarImage) -> PlanarImage {
            var pixels: [Float] = []
            let plane = width * height
            for ch in 0..<3 {
                pixels.append(contentsOf: top.pixels[(ch * plane)..<((ch + 1) * plane)])
                pixels.append(contentsOf: bottom.pixels[(ch * plane)..<((ch + 1) * plane)])
            }
            return PlanarImage(width: width, height: 2 * height, channels: 3, bitDepth: 16, pixels: pixels)
        }
        let concatenated = try ImagePair(output: stacked(a, c), target: stacked(b, d)).psnr().value
        let value = try #require(PooledPSNR.value(squaredError: pooled.sums[0], samples: pooled.pixels[0] * 3))
        #expect(abs(value - concatenated) < 1e-9, "pooled \(value) vs concatenated \(concatenated)")
        // and not the mean of the two PSNRs, which weighs the easy image as much as the hard one
        let second = try ImagePair(output: c, target: d).psnr().value
        let meanOfTwo = (plain + second) / 2
        #expect(abs(value - meanOfTwo) > 0.1)
        #expect(PooledPSNR.value(squaredError: 0, samples: 0) == nil && PooledPSNR.value(squaredError: 0, samples: 3) == .infinity)
    }

    @Test func unlabelledPixelsAndWrongSizesAreRefused() throws {
        let image = Self.image(width: 8, height: 8, seed: 9)
        let none = PixelLabels(width: 8, height: 8, classes: 2, labels: [Int8](repeating: -1, count: 64))
        #expect(try HighFrequencyEnergy.laplacianSums(image, labels: none, border: 1) == LabelSums(classes: 2))
        let wrong = PixelLabels(width: 4, height: 8, classes: 1, labels: [Int8](repeating: 0, count: 32))
        #expect(throws: MetricsError.self) { try HighFrequencyEnergy.laplacianSums(image, labels: wrong, border: 1) }
        #expect(throws: MetricsError.self) { try ImagePair(output: image, target: image).squaredErrorSums(by: wrong) }
    }
}
