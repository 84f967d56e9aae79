import Flow
import Foundation
import Imaging
import Models
import Tensors
import Testing
import Training

/// train.colour_alignment: the GT brought to the blurry image's colours before the loss.
@Suite(.serialized) struct ColourAlignmentTrainingTests {
    /// The second shot's exposure and white balance: what the blurry image shows of the GT's colours.
    static let relight = ColourTransform(gain: [1.15, 1.0, 0.85], offset: [0.02, 0.03, -0.01], space: .linear)

    /// Fixtures.pair with the texture squeezed into [0.19, 0.82] (nothing clips after the relight) and the
    /// blurry image relit; also the aligned GT in the blurry image's colours (what a colour-true output is).
    static func relitPair(id: Int64, size: Int, shift: (Float, Float), seed: UInt64) -> (patch: TrainingPatch, alignedGT: PlanarImage) {
        var p = Fixtures.pair(id: id, size: size, shift: shift, seed: seed)
        p.sharp.pixels = p.sharp.pixels.map { 0.15 + 0.7 * $0 }
        let shifted = Fixtures.warp(p.sharp, p.blurryToSharp!)
        p.blurry = relight.applied(to: Fixtures.boxBlur(shifted))
        return (p, relight.applied(to: shifted))
    }

    static func tinyData() -> (source: InMemoryPatchSource, aligned: [(blurry: PlanarImage, gt: PlanarImage)]) {
        var patches: [TrainingPatch] = [], aligned: [(PlanarImage, PlanarImage)] = []
        // 20 patches, so that 100 steps are 5 epochs (a checkpoint ends every epoch; writing them is most of a tiny run).
        for i in 0..<20 {
            let shift: (Float, Float) = (Float(i % 3) - 1, Float(i % 4) * 0.5 - 0.75)
            let pair = relitPair(id: Int64(i + 1), size: 48, shift: shift, seed: UInt64(60 + i))
            patches.append(pair.patch)
            aligned.append((pair.patch.blurry, pair.alignedGT))
        }
        return (InMemoryPatchSource(patches), aligned)
    }

    /// Largest |per-channel mean of (output - target)| over the channels, averaged over the images.
    static func meanColourError(_ outputs: [PlanarImage], _ targets: [PlanarImage]) -> Double {
        var total = 0.0
        for (o, t) in zip(outputs, targets) {
            var largest = 0.0
            for c in 0..<3 {
                var sum = 0.0
                for i in (c * o.planeSize)..<((c + 1) * o.planeSize) { sum += Double(o.pixels[i] - t.pixels[i]) }
                largest = max(largest, abs(sum / Double(o.planeSize)))
            }
            total += largest
        }
        return total / Double(outputs.count)
    }

    @Test func theLoadedGTCarriesTheBlurryImagesColours() throws {
        // Given relit pairs without a stored colour map,
        let data = Self.tinyData()
        var train = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml")).train
        #expect(train.colourAlignment == .gainOffset)
        let cache = PatchCache(source: data.source, requirements: PatchRequirements(train),
                               complete: FlowCompletion.completer(maskMode: train.maskMode, lambda: train.lambda))
        // when a patch is loaded with the option on, the map is fitted on load and the GT mapped by it;
        let patch = try cache.patch(at: 0)
        let fitted = try #require(patch.sharpColour)
        #expect(patch.sharpIsColourAligned)
        let raw = try data.source.patch(at: 0)
        #expect(patch.sharp == fitted.applied(to: raw.sharp))
        // The mapped GT's mean colour is the relit truth's. (Gain and offset themselves are only loosely
        // pinned on these 48x48 sums of a few sinusoids: for a narrow-band image the blur's attenuation looks
        // like a gain; ColourAlignmentTests checks the 1 % accuracy of both on a broadband texture.)
        let warpedRaw = Fixtures.warp(raw.sharp, raw.blurryToSharp!)
        let corrected = Self.meanColourError([fitted.applied(to: warpedRaw)], [data.aligned[0].gt])
        let uncorrected = Self.meanColourError([warpedRaw], [data.aligned[0].gt])
        #expect(corrected < 0.25 * uncorrected, "mean colour error after the fitted map \(corrected), without \(uncorrected); fitted \(fitted)")
        // with it off, the GT is untouched.
        train.colourAlignment = .none
        let plain = PatchCache(source: data.source, requirements: PatchRequirements(train),
                               complete: FlowCompletion.completer(maskMode: train.maskMode, lambda: train.lambda))
        #expect(try plain.patch(at: 0).sharp == raw.sharp)
        // A stored map is used as it is; an implausible one is refused with the patch named.
        var stored = raw
        stored.sharpColour = ColourTransform(gain: [1, 1, 1], offset: [0.1, 0, 0])
        stored.files = "b.png / s.png"
        train.colourAlignment = .gainOffset
        let given = PatchCache(source: InMemoryPatchSource([stored]), requirements: PatchRequirements(train),
                               complete: FlowCompletion.completer(maskMode: train.maskMode, lambda: train.lambda))
        #expect(try given.patch(at: 0).sharp == stored.sharpColour!.applied(to: raw.sharp))
        stored.sharpColour = ColourTransform(gain: [9, 1, 1], offset: [0, 0, 0])
        let bad = PatchCache(source: InMemoryPatchSource([stored]), requirements: PatchRequirements(train),
                             complete: FlowCompletion.completer(maskMode: train.maskMode, lambda: train.lambda))
        do {
            _ = try bad.patch(at: 0)
            Issue.record("an implausible colour map must be refused")
        } catch let error as DataError {
            #expect("\(error)".contains("b.png / s.png") && "\(error)".contains("implausible colour map"), "\(error)")
        }
        // A NaN in the GT: the fit on load says so, naming the patch, before any training step.
        var poisoned = raw
        poisoned.sharp.pixels[100] = .nan
        poisoned.files = "b.png / s.png"
        let nan = PatchCache(source: InMemoryPatchSource([poisoned]), requirements: PatchRequirements(train),
                             complete: FlowCompletion.completer(maskMode: train.maskMode, lambda: train.lambda))
        do {
            _ = try nan.patch(at: 0)
            Issue.record("a NaN colour map must be refused")
        } catch let error as DataError {
            #expect("\(error)".contains("b.png / s.png") && "\(error)".contains("not finite"), "\(error)")
        }
    }

    /// The same short run twice, with and without the option: the output's mean colour error against the
    /// aligned GT (the scene in the blurry image's colours) is smaller with it.
    @Test func trainingWithColourAlignmentKeepsTheBlurryImagesColours() throws {
        let runs = Fixtures.temporaryDirectory("colour")
        defer { try? FileManager.default.removeItem(at: runs) }
        let data = Self.tinyData()
        var errors: [ColourAlignmentMode: Double] = [:]
        for mode in [ColourAlignmentMode.none, .gainOffset] {
            var config = try TrainingRunTests.tinyConfig(name: "colour-\(mode.rawValue)", epochs: 5, initEpochs: 4, everySteps: 1000)
            config.train.colourAlignment = mode
            let outcome = try TrainingRunTests.train(config, in: runs, source: data.source)
            #expect(outcome.finished && outcome.step == 100)
            let latest = try #require(try RunFolder(runsDirectory: runs, name: config.name).checkpoints.latest())
            let unet = try UNet(config: UNetConfig(widths: config.networkG.widths, dropout: 0), seed: 0)
            try unet.load(safetensors: latest.folder.appendingPathComponent(CheckpointStore.deblurWeightsFile))
            var outputs: [PlanarImage] = []
            for (blurry, _) in data.aligned {
                var out = [Float](repeating: 0, count: blurry.pixels.count)
                blurry.pixels.withUnsafeBufferPointer { input in
                    out.withUnsafeMutableBufferPointer { output in
                        unet.forward(input: input.baseAddress!, output: output.baseAddress!, n: 1, h: 48, w: 48, training: false)
                    }
                }
                outputs.append(PlanarImage(width: 48, height: 48, channels: 3, pixels: out))
            }
            errors[mode] = Self.meanColourError(outputs, data.aligned.map(\.gt))
        }
        let without = errors[.none]!, with = errors[.gainOffset]!
        print("mean colour error vs the aligned GT after 100 steps: colour_alignment none \(without), gain_offset \(with)")
        #expect(with < 0.7 * without, "gain_offset \(with) vs none \(without)")
    }
}
