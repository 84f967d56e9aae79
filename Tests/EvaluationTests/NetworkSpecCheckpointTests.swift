import Evaluation
import Foundation
import Models
import Tensors
import Testing

/// A checkpoint names its network by the spec stored beside the weights; older checkpoints (tensor names
/// and a `{"residual": ...}` sidecar) still load by their names and shapes.
@Suite struct NetworkSpecCheckpointTests {
    static func write(_ network: DeblurNetwork, spec: NetworkSpec?, sidecar: String? = nil, in folder: URL, named name: String) throws -> URL {
        for entry in network.parameters.entries where entry.name.hasSuffix("beta") || entry.name.hasSuffix("gamma") || entry.name == "head.weight" {
            for i in 0..<entry.count { network.parameters.values[entry.offset + i] = 0.5 / Float(1 + i % 7) }
        }
        let weights = folder.appendingPathComponent("\(name).safetensors")
        try SafeTensors.write(network.parameters.namedTensors(), to: weights)
        if let spec { try NetworkSpecFile.write(spec, besideWeights: weights) }
        if let sidecar { try Data(sidecar.utf8).write(to: NetworkSpecFile.url(besideWeights: weights)) }
        return weights
    }

    /// The largest difference between the checkpoint's network and `network` on one tile.
    static func largestDifference(_ checkpoint: DeblurCheckpoint, _ network: DeblurNetwork) throws -> Float {
        let (h, w) = (16, 16)
        let image = TinyData.scene(width: w, height: h)
        var expected = [Float](repeating: 0, count: 3 * h * w), actual = expected
        network.infer(input: image.pixels, output: &expected, n: 1, h: h, w: w, precision: .f32, reuseWeights: false)
        try checkpoint.makeNetwork().infer(input: image.pixels, output: &actual, n: 1, h: h, w: w, precision: .f32, reuseWeights: false)
        return zip(actual, expected).map { abs($0 - $1) }.max()!
    }

    @Test func aCheckpointLoadsThroughTheSpecStoredBesideIt() throws {
        let root = try TinyData.folder("spec")
        defer { try? FileManager.default.removeItem(at: root) }
        let specs = [
            NetworkSpec(widths: [8, 16], dropout: 0.4, residual: true),
            NetworkSpec(widths: [8, 16], dropout: 0, residual: false, prior: BlurPriorSection(weight: 0.5, rampStart: 0.001)),
            NetworkSpec(type: .nafnet, widths: [], dropout: 0, residual: true,
                        nafnet: NAFNetConfig(width: 8, encoderBlocks: [1], middleBlocks: 1, decoderBlocks: [1]), prior: BlurPriorSection()),
        ]
        let summaries = ["UNet widths [8, 16], residual", "UNet widths [8, 16], blur-map prior", "NAFNet width 8, blocks [1] + 1 + [1], blur-map prior"]
        for (index, spec) in specs.enumerated() {
            let network = try spec.make(seed: UInt64(index + 1))
            let weights = try Self.write(network, spec: spec, in: root, named: "net\(index)")
            let checkpoint = try DeblurCheckpoint(path: weights.path)
            #expect(checkpoint.spec == spec.forInference && checkpoint.spec.dropout == 0)
            #expect(checkpoint.summary == summaries[index] && network.summary == summaries[index])
            #expect(try Self.largestDifference(checkpoint, network) == 0, "\(summaries[index])")
        }
        // The stored spec is what jdrl-train's config said: JSON with the network_g keys.
        let stored = try String(contentsOf: NetworkSpecFile.url(besideWeights: root.appendingPathComponent("net0.safetensors")), encoding: .utf8)
        #expect(stored == #"{"dropout":0.4,"residual":true,"widths":[8,16]}"#)
    }

    @Test func anOlderCheckpointWithOnlyResidualBesideItStillLoads() throws {
        let root = try TinyData.folder("older")
        defer { try? FileManager.default.removeItem(at: root) }
        let unet = try UNet(config: UNetConfig(widths: [4, 8], dropout: 0, residual: true), seed: 5)
        let weights = try Self.write(unet, spec: nil, sidecar: #"{"residual": true}"#, in: root, named: "net_g")
        let checkpoint = try DeblurCheckpoint(path: weights.path)
        #expect(checkpoint.config.residual && checkpoint.config.widths == [4, 8] && checkpoint.summary == "UNet widths [4, 8], residual")
        #expect(checkpoint.spec == NetworkSpec(widths: [4, 8], dropout: 0, residual: true))
        #expect(try Self.largestDifference(checkpoint, unet) == 0)

        // A sidecar in neither form is refused, naming it.
        try Data("residual: yes".utf8).write(to: NetworkSpecFile.url(besideWeights: weights))
        do {
            _ = try DeblurCheckpoint(path: weights.path)
            Issue.record("accepted a sidecar that is not JSON")
        } catch let error as CheckpointError {
            #expect("\(error)".contains("net_g.json") && "\(error)".contains("residual"))
        }
    }
}
