import Evaluation
import Foundation
import Models
import Tensors
import Testing

@Suite struct CheckpointTests {
    @Test func widthsComeFromTheWeightsWhateverPathForm() throws {
        // Given a jdrl-train style run with a depth-3 UNet
        let root = try TinyData.folder("ckpt")
        defer { try? FileManager.default.removeItem(at: root) }
        let runs = root.appendingPathComponent("runs")
        let step = try TinyData.checkpoint(in: runs, run: "tiny", widths: [4, 8, 16])
        // When it is opened as a step folder, a run folder, the checkpoints folder or the weights file
        for path in [step.path, runs.appendingPathComponent("tiny").path, step.deletingLastPathComponent().path,
                     step.appendingPathComponent("net_g.safetensors").path] {
            let checkpoint = try DeblurCheckpoint(path: path)
            // Then the same weights, widths, label and run folder are found
            #expect(checkpoint.config.widths == [4, 8, 16])
            #expect(checkpoint.config.sizeMultiple == 4)
            #expect(checkpoint.label == "tiny step 2")
            #expect(checkpoint.step == 2)
            #expect(checkpoint.runFolder?.lastPathComponent == "tiny")
            #expect(checkpoint.weightsURL.lastPathComponent == "net_g.safetensors")
        }
    }

    @Test func aPrefixedPlainSafetensorsLoadsWithTheSameWeights() throws {
        let root = try TinyData.folder("prefixed")
        defer { try? FileManager.default.removeItem(at: root) }
        let unet = try UNet(config: UNetConfig(widths: [4, 8], dropout: 0), seed: 3)
        let file = root.appendingPathComponent("model.safetensors")
        try SafeTensors.write(unet.parameters.namedTensors(prefix: "net_g."), to: file)
        let checkpoint = try DeblurCheckpoint(path: file.path)
        #expect(checkpoint.config.widths == [4, 8])
        #expect(checkpoint.label == "model.safetensors")
        let loaded = try #require(try checkpoint.makeNetwork() as? UNet)
        #expect(loaded.parameters.count == unet.parameters.count)
        var largest: Float = 0
        for i in 0..<unet.parameters.count { largest = max(largest, abs(loaded.parameters.values[i] - unet.parameters.values[i])) }
        #expect(largest == 0)
    }

    @Test func aNAFNetCheckpointIsRecognisedByItsNamesAndDeblursWholeImages() throws {
        let root = try TinyData.folder("nafnet")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = NAFNetConfig(width: 8, encoderBlocks: [1, 2], middleBlocks: 1, decoderBlocks: [0, 1])
        let net = try NAFNet(config: config, seed: 4)
        // Non-zero branch scales, so that every block changes the image.
        for entry in net.parameters.entries where entry.name.hasSuffix("beta") || entry.name.hasSuffix("gamma") {
            for i in 0..<entry.count { net.parameters.values[entry.offset + i] = 0.5 }
        }
        let file = root.appendingPathComponent("nafnet.safetensors")
        try SafeTensors.write(net.parameters.namedTensors(prefix: "module."), to: file)
        let checkpoint = try DeblurCheckpoint(path: file.path)
        #expect(checkpoint.nafnet == config)
        #expect(checkpoint.summary == "NAFNet width 8, blocks [1, 2] + 1 + [0, 1]")
        let loaded = try checkpoint.makeNetwork()
        #expect(loaded.sizeMultiple == 4 && !loaded.supportsBF16)

        // One tile: the checkpoint's network is the saved one.
        let (h, w) = (16, 12)
        let image = TinyData.scene(width: w, height: h)
        var expected = [Float](repeating: 0, count: 3 * h * w)
        net.forward(input: image.pixels, output: &expected, n: 1, h: h, w: w, training: false)
        let deblurrer = try FullImageDeblurrer(checkpoint: checkpoint, tile: 16, overlap: 0)
        let single = deblurrer.deblur(image)
        let worst = zip(single.pixels, expected).map { abs($0 - $1) }.max()!
        #expect(worst <= 1.0 / 255 + 1e-6, "largest difference \(worst) (the output is rounded to 8 bits)")
        #expect(zip(single.pixels, image.pixels).contains { abs($0 - $1) > 2.0 / 255 }, "the network left the image unchanged")
        // bf16 is refused by name, not crashed on.
        #expect(throws: CheckpointError.self) { try FullImageDeblurrer(checkpoint: checkpoint, precision: .bf16) }
    }

    @Test func aPriorCheckpointOfEitherBackboneIsRecognisedAndDeblurs() throws {
        let root = try TinyData.folder("prior")
        defer { try? FileManager.default.removeItem(at: root) }
        let nafnet = NAFNetConfig(width: 8, encoderBlocks: [1], middleBlocks: 1, decoderBlocks: [1])
        let cases: [(PriorGuidedNetwork, String)] = [
            (try PriorGuidedNetwork.unet(UNetConfig(widths: [8, 16], dropout: 0), seed: 2), "UNet widths [8, 16], blur-map prior"),
            (try PriorGuidedNetwork.nafnet(nafnet, seed: 3), "NAFNet width 8, blocks [1] + 1 + [1], blur-map prior"),
        ]
        for (index, (net, summary)) in cases.enumerated() {
            for entry in net.parameters.entries where entry.name.hasSuffix("beta") || entry.name.hasSuffix("gamma") {
                for i in 0..<entry.count { net.parameters.values[entry.offset + i] = 0.5 }
            }
            let file = root.appendingPathComponent("prior\(index).safetensors")
            try SafeTensors.write(net.parameters.namedTensors(prefix: "net_g."), to: file)
            let checkpoint = try DeblurCheckpoint(path: file.path)
            #expect(checkpoint.hasPrior && checkpoint.summary == summary)
            let loaded = try checkpoint.makeNetwork()
            #expect(loaded is PriorGuidedNetwork && !loaded.supportsBF16)
            let (h, w) = (16, 12)
            let image = TinyData.scene(width: w, height: h)
            var expected = [Float](repeating: 0, count: 3 * h * w)
            net.infer(input: image.pixels, output: &expected, n: 1, h: h, w: w, precision: .f32, reuseWeights: false)
            let single = try FullImageDeblurrer(checkpoint: checkpoint, tile: 16, overlap: 0).deblur(image)
            let worst = zip(single.pixels, expected).map { abs($0 - $1) }.max()!
            #expect(worst <= 1.0 / 255 + 1e-6, "\(summary): largest difference \(worst) (the output is rounded to 8 bits)")
            #expect(zip(single.pixels, image.pixels).contains { abs($0 - $1) > 2.0 / 255 }, "\(summary): the network left the image unchanged")
        }
        // A prior's estimator without the 38-channel first convolution is refused with the reason.
        let plain = try UNet(config: UNetConfig(widths: [8, 16], dropout: 0), seed: 1)
        let estimator = try PriorGuidedNetwork.unet(UNetConfig(widths: [8, 16], dropout: 0), seed: 1).parameters.namedTensors().filter { $0.name.hasPrefix("estimator.") }
        let tensors = plain.parameters.namedTensors() + estimator
        let mixed = root.appendingPathComponent("mixed.safetensors")
        try SafeTensors.write(tensors, to: mixed)
        do {
            _ = try DeblurCheckpoint(path: mixed.path)
            Issue.record("accepted an estimator in front of a 3-channel UNet")
        } catch {
            #expect("\(error)".contains("mixed.safetensors") && "\(error)".contains("38"), "\(error)")
        }
    }

    @Test func badCheckpointsNameTheFileAndTheReason() throws {
        let root = try TinyData.folder("bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let garbage = root.appendingPathComponent("garbage.safetensors")
        try Data("not a safetensors file at all".utf8).write(to: garbage)
        #expect(throws: CheckpointError.self) { try DeblurCheckpoint(path: garbage.path) }
        do { _ = try DeblurCheckpoint(path: garbage.path) } catch { #expect("\(error)".contains(garbage.path)) }

        let empty = root.appendingPathComponent("empty-folder")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        do { _ = try DeblurCheckpoint(path: empty.path); Issue.record("an empty folder was accepted") } catch {
            #expect("\(error)".contains(empty.path) && "\(error)".contains("net_g.safetensors"))
        }
        let absent = root.appendingPathComponent("absent").path
        #expect(throws: CheckpointError.missing(path: absent)) { try DeblurCheckpoint(path: absent) }

        // A safetensors of something else (no UNet tensors) is refused by name.
        let other = root.appendingPathComponent("other.safetensors")
        try SafeTensors.write([SafeTensors.Tensor(name: "w", shape: [2], values: [1, 2])], to: other)
        do { _ = try DeblurCheckpoint(path: other.path); Issue.record("a non-UNet file was accepted") } catch {
            #expect("\(error)".contains(other.path) && "\(error)".contains("enc.0.0.weight"))
        }
    }
}
