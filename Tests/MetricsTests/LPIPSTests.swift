import Foundation
import Imaging
import Metrics
import Testing

/// LPIPS against the lpips package's AlexNet network rebuilt in torch with random seeded weights at
/// reduced widths 8/16/24/16/16 (Fixtures/make_lpips_fixture.py explains why; the Swift network reads
/// the widths from the safetensors shapes, so the same code runs the full-width pretrained weights).
struct LPIPSParityTests {
    struct Expected: Decodable {
        struct Case: Decodable { var a: String; var b: String; var height: Int; var width: Int; var distance: Double; var perTap: [Double] }
        var widths: [Int]
        var weights: String
        var cases: [Case]
    }

    @Test func distancesMatchTorchOnRandomWeights() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Fixtures.data("lpips_expected.json"))
        let network = try LPIPSNetwork(weightsAt: Fixtures.folder.appendingPathComponent(expected.weights))
        #expect(network.widths == expected.widths)
        var worst = 0.0
        for item in expected.cases {
            let a = try Fixtures.rawImage(item.a, width: item.width, height: item.height, channels: 3, bitDepth: 8)
            let b = try Fixtures.rawImage(item.b, width: item.width, height: item.height, channels: 3, bitDepth: 8)
            let (value, perTap) = try network.distance(a, b)
            #expect(abs(value - item.distance) <= 1e-5 * max(1, item.distance), "\(item.a): \(value) vs torch \(item.distance)")
            for (ours, theirs) in zip(perTap, item.perTap) {
                #expect(abs(ours - theirs) <= 1e-5 * max(1, theirs), "\(item.a) per tap: \(perTap) vs \(item.perTap)")
            }
            worst = max(worst, abs(value - item.distance))
            // Symmetric and zero for identical inputs, as LPIPS is.
            #expect(abs(try network.distance(b, a).value - value) < 1e-6)
            #expect(try network.distance(a, a).value == 0)
        }
        print("LPIPS max |ours - torch| = \(worst)")
    }

    @Test func missingOrMalformedWeightsAreNamed() throws {
        let missing = Fixtures.folder.appendingPathComponent("no-such-weights.safetensors")
        #expect(throws: SafetensorsError.self) { try LPIPSNetwork(weightsAt: missing) }
        // A file that is not safetensors at all.
        #expect(throws: SafetensorsError.self) {
            try LPIPSNetwork(weightsAt: Fixtures.folder.appendingPathComponent("metric_pairs.json"))
        }
    }

    @Test func pairResultCarriesWeightsAndBasis() throws {
        let network = try LPIPSNetwork(weightsAt: Fixtures.folder.appendingPathComponent("lpips_small.safetensors"))
        let a = try Fixtures.rawImage("lpips_pair0_a.raw", width: 64, height: 64, channels: 3, bitDepth: 8)
        let b = try Fixtures.rawImage("lpips_pair0_b.raw", width: 64, height: 64, channels: 3, bitDepth: 8)
        let result = try ImagePair(output: b, target: a, targetName: "GT", border: 0).lpips(network)
        #expect(result.weightsName == "lpips_small.safetensors" && result.basis.targetName == "GT")
        #expect(result.value > 0)
        #expect(throws: MetricsError.self) { try ImagePair(output: b, target: a, border: 17).lpips(network) }
    }
}
