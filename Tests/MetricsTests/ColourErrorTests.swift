import Foundation
import Imaging
import Metrics
import Testing

/// The colour error (per-channel mean of output - target) and the colour-corrected PSNR beside the plain one.
struct ColourErrorTests {
    static func image(_ width: Int, _ height: Int, seed: UInt64, bitDepth: Int = 8) -> PlanarImage {
        var state = seed
        var image = PlanarImage(width: width, height: height, channels: 3, bitDepth: bitDepth)
        for i in image.pixels.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            image.pixels[i] = 0.2 + 0.6 * Float(state >> 40) / Float(1 << 24)
        }
        return image
    }

    @Test func aConstantTintIsAColourErrorAndNothingElse() throws {
        let target = Self.image(40, 30, seed: 3)
        var output = target
        let tint: [Float] = [0.03, -0.05, 0.01]
        for c in 0..<3 { for i in (c * 1200)..<((c + 1) * 1200) { output.pixels[i] += tint[c] } }
        let pair = try ImagePair(output: output, target: target)
        let colour = pair.colourError()
        for c in 0..<3 { #expect(abs(colour.perChannel[c] - Double(tint[c])) < 1e-6) }
        #expect(abs(colour.largest - 0.05) < 1e-6)
        // The plain PSNR counts the tint; the colour-corrected one removes it (nothing is left).
        let mse = tint.map { Double($0 * $0) }.reduce(0, +) / 3
        #expect(abs(pair.psnr().value - 10 * log10(1 / mse)) < 1e-3)
        #expect(pair.psnrColourCorrected().value > 90)
    }

    @Test func colourCorrectedPSNRIsThePSNROfTheMeanFreeDifference() throws {
        // Given an output with structure errors and a tint, and a border crop,
        let target = Self.image(36, 28, seed: 5), noise = Self.image(36, 28, seed: 9)
        var output = target
        for i in output.pixels.indices { output.pixels[i] += 0.1 * (noise.pixels[i] - 0.5) + (i < 1008 ? 0.04 : -0.02) }
        let pair = try ImagePair(output: output, target: target, border: 3)
        // then the naive computation over the cropped region agrees,
        var expectedMSE = 0.0
        var means: [Double] = []
        for c in 0..<3 {
            var d: [Double] = []
            for y in 3..<25 { for x in 3..<33 { d.append(Double(output[c, y, x]) - Double(target[c, y, x])) } }
            let mean = d.reduce(0, +) / Double(d.count)
            means.append(mean)
            expectedMSE += d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d.count) / 3
        }
        #expect(zip(pair.colourError().perChannel, means).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(abs(pair.psnrColourCorrected().value - 10 * log10(1 / expectedMSE)) < 1e-6)
        // and removing the means can only help.
        #expect(pair.psnrColourCorrected().value > pair.psnr().value)
    }

    @Test func theJSONLineCarriesTheColourFields() throws {
        let target = Self.image(32, 32, seed: 1)
        var output = target
        for i in 0..<1024 { output.pixels[i] += 0.02 }
        let line = try ScoreCard(try ImagePair(output: output, target: target)).jsonLine(target: "t.png")
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let colour = try #require(fields["colour_error"] as? [Double])
        #expect(colour.count == 3 && abs(colour[0] - 0.02) < 1e-6 && abs(colour[1]) < 1e-9)
        #expect(abs((fields["colour_error_max"] as? Double ?? 0) - 0.02) < 1e-6)
        #expect((fields["psnr_colour_corrected"] as? Double ?? 0) > 90, "nothing but the tint (float rounding aside) is left")
        #expect(fields["psnr"] is Double)
    }
}
