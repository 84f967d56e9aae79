import Flow
import Foundation
import Imaging
import Seeding
import Synthesis
import Tensors
import Testing
import Training

/// `train.warp_interpolation`: the config key, its wiring into the loss's warps, the loss's gradient
/// through the bicubic adjoint, and the detail each interpolation leaves in the warped GT.
@Suite struct LossWarpTests {
    static func settings(_ interpolation: WarpInterpolation?) throws -> LossSettings {
        var train = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml")).train
        train.flowSource = .manifest
        train.warpInterpolation = interpolation
        return LossSettings(train)
    }

    @Test func theKeyIsOptionalAndLeavesExistingHashesAlone() throws {
        let text = try String(contentsOf: configURL("jdrl-unet-paper.yaml"), encoding: .utf8)
        let plain = try TrainingConfigLoader.parse(text)
        #expect(plain.train.warpInterpolation == nil && plain.train.lossWarp == .bilinear)
        // Absent, the key is not written into the resolved YAML the hash is taken over: the bytes, and
        // so the hash, are what they were before the key existed.
        #expect(!(try TrainingConfigLoader.resolvedYAML(plain)).contains("warp_interpolation"))
        let line = "  colour_alignment:"
        #expect(text.contains(line))
        func with(_ value: String) throws -> TrainingConfig {
            try TrainingConfigLoader.parse(text.replacingOccurrences(of: line, with: "  warp_interpolation: \(value)\n" + line))
        }
        var bicubic = try with("bicubic")
        #expect(bicubic.train.lossWarp == .bicubic)
        #expect(try TrainingConfigLoader.hash(bicubic) != TrainingConfigLoader.hash(plain))
        let again = try TrainingConfigLoader.parse(try TrainingConfigLoader.resolvedYAML(bicubic))
        #expect(again == bicubic)
        #expect(try TrainingConfigLoader.hash(again) == TrainingConfigLoader.hash(bicubic))
        bicubic.train.warpInterpolation = nil
        #expect(try TrainingConfigLoader.hash(bicubic) == TrainingConfigLoader.hash(plain))
        #expect(try with("bilinear").train.lossWarp == .bilinear)
        do {
            _ = try with("nearest")
            Issue.record("accepted warp_interpolation: nearest")
        } catch {
            #expect("\(error)".contains("unknown warp_interpolation 'nearest'; choices: bilinear, bicubic"), "\(error)")
        }
        #expect(try LossSettings(with("bicubic").train).warpInterpolation == .bicubic)
        #expect(LossSettings(plain.train).warpInterpolation == .bilinear)
    }

    @Test func theLossWarpsTheGTWithTheChosenInterpolation() throws {
        // Initialisation stage: Charb(out, warp(GT)). With out = the bicubic warp of GT, the bicubic
        // loss sits at its floor (eps: zero difference) and the bilinear one above it.
        let batch = LossGradientTests.batch()
        let size = LossGradientTests.size, count = 3 * size * size
        var out = [Float](repeating: 0, count: count)
        Warp.warp(batch.sharp, channels: 3, height: size, width: size, flowU: batch.blurryToSharpU, flowV: batch.blurryToSharpV,
                  interpolation: .bicubic, into: &out)
        func loss(_ interpolation: WarpInterpolation?) throws -> Double {
            let l = JDRLLoss(settings: try Self.settings(interpolation), batchSize: 1, size: size)
            return out.withUnsafeBufferPointer { l.forward(stage: .initialisation, out: $0.baseAddress!, batch: batch, flows: nil, reblur: nil).total }
        }
        let eps = Double(try Self.settings(nil).eps)
        #expect(abs(try loss(.bicubic) - eps) < 1e-6)
        #expect(try loss(nil) > eps + 1e-3)
        #expect(try loss(.bilinear) == loss(nil))
    }

    @Test func jointLossGradientThroughTheBicubicAdjoint() throws {
        // deblur + cycle (the cycle's gradient is the bicubic warp's adjoint) against central differences.
        let batch = LossGradientTests.batch()
        let size = LossGradientTests.size, count = 3 * size * size
        var settings = try Self.settings(.bicubic)
        settings.mode = .jdrl
        let loss = JDRLLoss(settings: settings, batchSize: 1, size: size)
        var g = SplitMix64(state: 5)
        var out = (0..<count).map { _ in Float(0.1 + 0.8 * g.unitDouble()) }
        func total(_ values: [Float]) -> Double {
            values.withUnsafeBufferPointer { p in
                let flows = try! loss.jointFlows(out: p.baseAddress!, batch: batch)
                return loss.forward(stage: .joint, out: p.baseAddress!, batch: batch, flows: flows, reblur: nil).total
            }
        }
        let terms: LossTerms = out.withUnsafeBufferPointer { p in
            let flows = try! loss.jointFlows(out: p.baseAddress!, batch: batch)
            let terms = loss.forward(stage: .joint, out: p.baseAddress!, batch: batch, flows: flows, reblur: nil)
            loss.backward(stage: .joint, out: p.baseAddress!, batch: batch, flows: flows, reblur: nil)
            return terms
        }
        #expect(terms.cycle != nil)
        let analytic = Array(UnsafeBufferPointer(start: loss.gradOut, count: count))
        let h: Float = 2e-3
        var worst = 0.0, significant = 0
        for _ in 0..<40 {
            let i = g.below(count)
            let saved = out[i]
            out[i] = saved + h; let plus = total(out)
            out[i] = saved - h; let minus = total(out)
            out[i] = saved
            let numeric = (plus - minus) / Double(2 * h) * Double(count), a = Double(analytic[i]) * Double(count)
            worst = max(worst, abs(a - numeric) / max(abs(a), abs(numeric), 0.05))
            if abs(numeric) > 0.05 { significant += 1 }
        }
        #expect(significant >= 30, "only \(significant) of 40 sampled elements have a clear gradient")
        #expect(worst < 2e-2, "worst relative error \(worst)")
    }

    /// On a pair synthesised from a photo of the repository, the GT warped by the true flow (as the loss
    /// warps it) keeps more of the aligned sharp image's Laplacian energy with bicubic than with bilinear.
    @Test func bicubicKeepsMoreOfTheGTsDetailThanBilinear() throws {
        let photo = repositoryRoot.appendingPathComponent("datasets/embedded/photos/picosdeeuropa.jpg")
        let sharp = try PairSynthesizer.prepareSharp(photo: photo, width: 640).image
        let pair = PairSynthesizer.synthesize(sharp: sharp, seed: 2, threads: 2)
        let border = 16
        var kept: [WarpInterpolation: Double] = [:]
        for interpolation in WarpInterpolation.allCases {
            var warped = Warp.backward(image: pair.gt, flow: pair.blurryToGT, interpolation: interpolation)
            warped.pixels = warped.pixels.map { min(max($0, 0), 1) }
            kept[interpolation] = DetailEnergy.retained(warped, of: sharp, border: border)
        }
        let bilinear = try #require(kept[.bilinear]), bicubic = try #require(kept[.bicubic])
        print(String(format: "warped GT keeps (true flow): bilinear %.3f, bicubic %.3f of the aligned sharp image's Laplacian energy",
                     bilinear, bicubic))
        #expect(bicubic > bilinear + 0.1, "bicubic \(bicubic), bilinear \(bilinear)")
        #expect(bicubic < 1.05)
    }
}
