import Foundation
import Imaging
import Metrics
import Testing

/// The JSON line jdrl-eval prints: the interface keys, LPIPS never invented, and the basis.
struct ScoreCardTests {
    func fixturePair() throws -> ImagePair {
        let pair = try #require(try MetricPairsFile.load().pairs.first { $0.name == "rgb8" })
        let (output, target) = try pair.images()
        return try ImagePair(output: output, target: target, targetName: "GT")
    }

    func decode(_ line: String) throws -> [String: Any] {
        #expect(!line.contains("\n"))
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func withoutWeightsLPIPSIsNullWithAReason() throws {
        let pair = try fixturePair()
        let fields = try decode(try ScoreCard(pair).jsonLine(target: "t \"quoted\".png"))
        #expect(abs((fields["psnr"] as? Double ?? 0) - pair.psnr().value) < 1e-12)
        #expect(abs((fields["ssim"] as? Double ?? 0) - (try pair.ssim().value)) < 1e-12)
        #expect(abs((fields["mae"] as? Double ?? 0) - pair.mae().value) < 1e-12)
        #expect(fields["lpips"] is NSNull)
        #expect((fields["lpips_note"] as? String)?.contains("no weights") == true)
        let against = try #require(fields["measured_against"] as? [String: Any])
        #expect(against["target"] as? String == "t \"quoted\".png")
        #expect(against["target_bit_depth"] as? Int == 8 && against["border"] as? Int == 0)
        #expect(against["ssim_window"] as? String == "uniform")
    }

    @Test func withWeightsLPIPSIsANumberAndNamesTheWeights() throws {
        let network = try LPIPSNetwork(weightsAt: Fixtures.folder.appendingPathComponent("lpips_small.safetensors"))
        let pair = try fixturePair()
        let fields = try decode(try ScoreCard(pair, window: .gaussian, lpips: network).jsonLine(target: "t.png"))
        #expect(abs((fields["lpips"] as? Double ?? -1) - (try pair.lpips(network).value)) < 1e-12)
        #expect(fields["lpips_note"] == nil)
        let against = try #require(fields["measured_against"] as? [String: Any])
        #expect(against["lpips_weights"] as? String == "lpips_small.safetensors")
        #expect(against["ssim_window"] as? String == "gaussian")
    }

    @Test func identicalImagesGiveNullPSNRWithANote() throws {
        let pair = try fixturePair()
        let same = try ImagePair(output: pair.target, target: pair.target)
        let fields = try decode(try ScoreCard(same).jsonLine(target: "t.png"))
        #expect(fields["psnr"] is NSNull && fields["psnr_note"] is String)
        #expect(fields["ssim"] as? Double == 1 && fields["mae"] as? Double == 0)
    }
}
