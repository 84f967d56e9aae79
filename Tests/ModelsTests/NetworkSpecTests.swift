import Foundation
import Models
import Tensors
import Testing

/// `NetworkSpec.make` is the one way from a `network_g` description to a network.
@Suite struct NetworkSpecTests {
    static func same(_ a: ParameterArena, _ b: ParameterArena) -> Bool {
        a.count == b.count && a.entries == b.entries && (0..<a.count).allSatisfy { a.values[$0] == b.values[$0] }
    }

    @Test func makeBuildsTheNetworkTheSpecNames() throws {
        let nafnet = NAFNetConfig(width: 8, encoderBlocks: [1, 1], middleBlocks: 1, decoderBlocks: [1, 1])
        let unet = try #require(try NetworkSpec(widths: [8, 16], dropout: 0.4, residual: true).make(seed: 3) as? UNet)
        #expect(unet.config == UNetConfig(widths: [8, 16], dropout: 0.4, residual: true))
        #expect(Self.same(unet.parameters, try UNet(config: unet.config, seed: 3).parameters))

        let plain = try #require(try NetworkSpec(type: .nafnet, widths: [], dropout: 0, residual: true, nafnet: nafnet).make(seed: 4) as? NAFNet)
        #expect(Self.same(plain.parameters, try NAFNet(config: nafnet, seed: 4).parameters))

        let spec = NetworkSpec(type: .nafnet, widths: [], dropout: 0, residual: true, nafnet: nafnet, prior: BlurPriorSection())
        let prior = try #require(try spec.make(seed: 5) as? PriorGuidedNetwork)
        #expect(Self.same(prior.parameters, try PriorGuidedNetwork.nafnet(nafnet, seed: 5).parameters))
        #expect(prior.backbone is NAFNet && prior.summary == spec.summary && spec.sizeMultiple == 4)

        // A nafnet spec without its section is refused, not crashed on.
        #expect(throws: NetworkSpecError.self) { try NetworkSpec(type: .nafnet, widths: [], dropout: 0, residual: true).make(seed: 1) }
    }

    @Test func theSpecRoundTripsThroughJSON() throws {
        let spec = NetworkSpec(type: .nafnet, widths: [], dropout: 0, residual: true,
                               nafnet: NAFNetConfig(width: 8, encoderBlocks: [1], middleBlocks: 2, decoderBlocks: [1]),
                               prior: BlurPriorSection(weight: 0.25, rampStart: 0.01))
        let data = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(NetworkSpec.self, from: data) == spec)
        #expect(String(decoding: data, as: UTF8.self).contains(#""type":"nafnet""#))
    }
}
