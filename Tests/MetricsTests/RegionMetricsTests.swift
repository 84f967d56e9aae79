import Foundation
import Imaging
import Metrics
import Testing

/// Region-restricted PSNR/SSIM/MAE: the whole-image region gives the skimage-checked whole-image
/// metrics, and a partial region matches a naive per-pixel SSIM map (7x7 box, N/(N-1) covariance)
/// and naive squared/absolute errors averaged over the region's pixels only.
struct RegionMetricsTests {
    let width = 23, height = 17
    func image(_ seed: UInt64) -> PlanarImage {
        var state = seed
        let pixels: [Float] = (0..<(3 * 23 * 17)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        return PlanarImage(width: width, height: height, channels: 3, bitDepth: 16, pixels: pixels)
    }

    @Test func theWholeImageRegionIsTheWholeImageMetric() throws {
        let pair = try ImagePair(output: image(1), target: image(2))
        let all = PixelRegion(width: width, height: height, inside: [Bool](repeating: true, count: width * height), name: "all")
        let region = try #require(try pair.scores(in: all))
        #expect(abs(region.psnr - pair.psnr().value) < 1e-10)
        #expect(abs(region.ssim - (try pair.ssim().value)) < 1e-12)
        #expect(abs(region.mae - pair.mae().value) < 1e-12)
        #expect(region.pixels == width * height)
    }

    @Test func aPartialRegionMatchesNaiveSums() throws {
        let output = image(3), target = image(4)
        let inside = (0..<(width * height)).map { p in (p % width) * 2 + (p / width) > 20 }  // a diagonal half-plane
        let region = PixelRegion(width: width, height: height, inside: inside, name: "half")
        let scores = try #require(try ImagePair(output: output, target: target).scores(in: region))

        let plane = width * height
        var squared = 0.0, absolute = 0.0, samples = 0
        var ssimSum = [Double](repeating: 0, count: 3), ssimCount = 0
        for c in 0..<3 {
            func at(_ img: PlanarImage, _ x: Int, _ y: Int) -> Double { Double(img.pixels[c * plane + y * width + x]) }
            for y in 0..<height { for x in 0..<width where inside[y * width + x] {
                let d = at(output, x, y) - at(target, x, y)
                squared += d * d; absolute += abs(d); samples += 1
            } }
            for y in 3..<(height - 3) { for x in 3..<(width - 3) where inside[y * width + x] {
                var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
                for dy in -3...3 { for dx in -3...3 {
                    let a = at(target, x + dx, y + dy), b = at(output, x + dx, y + dy)
                    sx += a; sy += b; sxx += a * a; syy += b * b; sxy += a * b
                } }
                let ux = sx / 49, uy = sy / 49, norm = 49.0 / 48.0
                let vx = norm * (sxx / 49 - ux * ux), vy = norm * (syy / 49 - uy * uy), vxy = norm * (sxy / 49 - ux * uy)
                let c1 = 0.0001, c2 = 0.0009
                ssimSum[c] += (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
                if c == 0 { ssimCount += 1 }
            } }
        }
        let mse = squared / Double(samples)
        #expect(abs(scores.psnr - 10 * log10(1 / mse)) < 1e-9)
        #expect(abs(scores.mae - absolute / Double(samples)) < 1e-12)
        let naiveSSIM = ssimSum.map { $0 / Double(ssimCount) }.reduce(0, +) / 3
        #expect(abs(scores.ssim - naiveSSIM) < 1e-9, "region SSIM \(scores.ssim) vs naive \(naiveSSIM)")
        #expect(scores.pixels == inside.filter { $0 }.count)
        #expect(scores.basis.targetName.contains("half"))
    }

    @Test func anEmptyRegionHasNoScore() throws {
        let none = PixelRegion(width: width, height: height, inside: [Bool](repeating: false, count: width * height), name: "none")
        #expect(try ImagePair(output: image(5), target: image(6)).scores(in: none) == nil)
    }
}
