import Foundation
import Models
import Seeding
import Tensors
import Testing
import Training

/// Finite-difference checks of the whole JDRL objective: deblur + cycle (through the warp's adjoint)
/// + alpha * reblur (through R), with fixed, non-trivial flows and masks.
@Suite struct LossGradientTests {
    static let size = 16

    /// A joint-stage batch: textures, wavy flows both ways, masks with holes.
    static func batch() -> TrainingBatch {
        let b = TrainingBatch(batchSize: 1, size: size)
        let sharp = Fixtures.texture(width: size, height: size, seed: 11)
        let blurry = Fixtures.boxBlur(Fixtures.texture(width: size, height: size, seed: 12))
        b.sharp.update(from: sharp.pixels, count: 3 * size * size)
        b.blurry.update(from: blurry.pixels, count: 3 * size * size)
        for y in 0..<size {
            for x in 0..<size {
                let i = y * size + x
                b.blurryToSharpU[i] = 1.3 * sin(Float(x) * 0.4) + 0.4
                b.blurryToSharpV[i] = 0.8 * cos(Float(y) * 0.3) - 0.2
                b.sharpToBlurryU[i] = -1.1 * cos(Float(y) * 0.35) - 0.3
                b.sharpToBlurryV[i] = 0.9 * sin(Float(x + y) * 0.25) + 0.1
                b.blurryToSharpMask[i] = (x + 2 * y) % 7 == 0 ? 0 : 1
                b.sharpToBlurryMask[i] = (3 * x + y) % 5 == 0 ? 0 : 1
            }
        }
        return b
    }

    static func settings() throws -> LossSettings {
        var train = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml")).train
        train.flowSource = .manifest
        return LossSettings(train)
    }

    @Test func wholeLossGradientWithRespectToTheOutput() throws {
        let batch = Self.batch()
        let loss = JDRLLoss(settings: try Self.settings(), batchSize: 1, size: Self.size)
        let reblur = try ReblurModule(width: 4, seed: 3)
        let count = 3 * Self.size * Self.size
        var out = [Float](repeating: 0, count: count)
        var g = SplitMix64(state: 99)
        for i in 0..<count { out[i] = Float(0.1 + 0.8 * g.unitDouble()) }

        func evaluate(_ values: [Float]) -> LossTerms {
            values.withUnsafeBufferPointer { p in
                let flows = try! loss.jointFlows(out: p.baseAddress!, batch: batch)
                return loss.forward(stage: .joint, out: p.baseAddress!, batch: batch, flows: flows, reblur: reblur)
            }
        }
        let terms = evaluate(out)
        #expect(terms.cycle != nil && terms.reblur != nil)
        #expect(abs(terms.total - (terms.deblur + terms.cycle! + 0.5 * terms.reblur!)) < 1e-12)
        out.withUnsafeBufferPointer { p in
            let flows = try! loss.jointFlows(out: p.baseAddress!, batch: batch)
            loss.backward(stage: .joint, out: p.baseAddress!, batch: batch, flows: flows, reblur: reblur)
        }
        let analytic = Array(UnsafeBufferPointer(start: loss.gradOut, count: count))

        let h: Float = 2e-3
        var worst = 0.0
        // Elements whose derivative is clearly non-zero: a check over only flat points would prove nothing.
        var significant = 0
        var masked = 0
        for _ in 0..<40 {
            let i = g.below(count)
            if batch.blurryToSharpMask[i % (Self.size * Self.size)] == 0 { masked += 1 }
            var plus = out, minus = out
            plus[i] += h; minus[i] -= h
            let numeric = (evaluate(plus).total - evaluate(minus).total) / Double(2 * h)
            // Compare in units of 1/count (the mean's scale), relative to the larger of the two.
            let a = Double(analytic[i]) * Double(count), n = numeric * Double(count)
            let error = abs(a - n) / max(abs(a), abs(n), 0.05)
            worst = max(worst, error)
            if abs(n) > 0.05 { significant += 1 }
        }
        #expect(significant >= 30, "only \(significant) of 40 sampled elements have a clear gradient")
        #expect(masked > 0 && masked < 40, "the sample must hit pixels inside and outside the mask (\(masked) outside)")
        #expect(worst < 2e-2, "worst relative error \(worst)")
        // The cycle term really routes gradient through the warp: without it the gradient changes.
        let noCycleSettings: LossSettings = {
            var s = try! Self.settings(); s.ablation.noCycle = true; return s
        }()
        let noCycle = JDRLLoss(settings: noCycleSettings, batchSize: 1, size: Self.size)
        out.withUnsafeBufferPointer { p in
            let flows = try! noCycle.jointFlows(out: p.baseAddress!, batch: batch)
            _ = noCycle.forward(stage: .joint, out: p.baseAddress!, batch: batch, flows: flows, reblur: reblur)
            noCycle.backward(stage: .joint, out: p.baseAddress!, batch: batch, flows: flows, reblur: reblur)
        }
        let difference = (0..<count).map { abs(noCycle.gradOut[$0] - analytic[$0]) }.max()!
        #expect(difference > 1e-5)
    }

    /// With tiny networks: d(loss)/d(parameter) of F and R against central differences.
    @Test func wholeLossGradientWithRespectToParameters() throws {
        let batch = Self.batch()
        let loss = JDRLLoss(settings: try Self.settings(), batchSize: 1, size: Self.size)
        let unet = try UNet(config: UNetConfig(widths: [4, 8], dropout: 0), seed: 5)
        let reblur = try ReblurModule(width: 4, seed: 6)
        let count = 3 * Self.size * Self.size
        let output = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { output.deallocate() }

        func objective() -> Double {
            unet.deblur(batch.blurry, into: output, n: 1, h: Self.size, w: Self.size, training: true)
            let flows = try! loss.jointFlows(out: output, batch: batch)
            return loss.forward(stage: .joint, out: output, batch: batch, flows: flows, reblur: reblur).total
        }
        _ = objective()
        unet.zeroGrad(); reblur.zeroGrad()
        let flows = try loss.jointFlows(out: output, batch: batch)
        loss.backward(stage: .joint, out: output, batch: batch, flows: flows, reblur: reblur)
        unet.backpropagate(gradOutput: loss.gradOut)

        Self.expectEveryTensorsLargestGradient([("F", unet.parameters), ("R", reblur.parameters)], objective)
        #expect(unet.parameters.entries.count > 4 && reblur.parameters.entries.count > 4, "both networks have several layers")
    }

    /// With the blur-map prior: the whole objective plus 0.5 * Charb(predicted seeds, KPN seeds), every
    /// parameter tensor of F (estimator, gate, UNet) and R, as above. The seeds' gradient reaches both sides.
    @Test func wholeLossWithThePriorGradientWithRespectToParameters() throws {
        let batch = Self.batch()
        var train = try TrainingConfigLoader.load(configURL("jdrl-prior-unet-cpu.yaml")).train
        train.flowSource = .manifest
        let loss = JDRLLoss(settings: LossSettings(train, prior: BlurPriorSection(weight: 0.5)), batchSize: 1, size: Self.size)
        let f = try PriorGuidedNetwork.unet(UNetConfig(widths: [4, 8], dropout: 0), seed: 5)
        f.ramp = 1
        let reblur = try ReblurModule(width: 4, seed: 6)
        let count = 3 * Self.size * Self.size
        let output = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { output.deallocate() }

        func terms() -> LossTerms {
            f.deblur(batch.blurry, into: output, n: 1, h: Self.size, w: Self.size, training: true)
            let flows = try! loss.jointFlows(out: output, batch: batch)
            return loss.forward(stage: .joint, out: output, batch: batch, flows: flows, reblur: reblur, prior: f)
        }
        let first = terms()
        let prior = try #require(first.prior)
        #expect(prior > 0 && abs(first.total - (first.deblur + first.cycle! + 0.5 * first.reblur! + 0.5 * prior)) < 1e-12)
        f.zeroGrad(); reblur.zeroGrad()
        let flows = try loss.jointFlows(out: output, batch: batch)
        loss.backward(stage: .joint, out: output, batch: batch, flows: flows, reblur: reblur, prior: f)
        f.backpropagate(gradOutput: loss.gradOut)

        Self.expectEveryTensorsLargestGradient([("F", f.parameters), ("R", reblur.parameters)]) { terms().total }
        #expect(f.parameters.entries.contains { $0.name == "gate.excite.weight" } && f.parameters.entries.count > 30)
        // In the initialisation stage the pseudo-supervision is absent.
        f.deblur(batch.blurry, into: output, n: 1, h: Self.size, w: Self.size, training: true)
        #expect(loss.forward(stage: .initialisation, out: output, batch: batch, flows: nil, reblur: reblur, prior: f).prior == nil)
    }

    /// Every parameter tensor of the networks (each layer's weights and biases), at its largest-gradient
    /// element: a layer whose backward is wrong, or missing, fails here. (Elements with small gradients
    /// say little: a central difference over a ReLU network's kinks, or float32 noise, swamps them.)
    static func expectEveryTensorsLargestGradient(_ arenas: [(String, ParameterArena)], _ objective: () -> Double) {
        for (name, arena) in arenas {
            // Float32 forward passes leave noise in a central difference (it differs between oneDNN's AVX-512
            // and AVX2 kernels); it is small next to the network's largest gradient, so the tolerance has a
            // floor of 1 % of that: a layer whose backward is wrong by more than that still fails.
            let scale = (0..<arena.count).map { Double(abs(arena.gradients[$0])) }.max() ?? 0
            #expect(scale > 0, "\(name) has no gradient at all")
            for entry in arena.entries {
                let element = (0..<entry.count).max { abs(arena.gradients[entry.offset + $0]) < abs(arena.gradients[entry.offset + $1]) } ?? 0
                let index = entry.offset + element
                let analytic = Double(arena.gradients[index])
                let original = arena.values[index]
                let h: Float = 1e-3 * max(abs(original), 0.1)
                arena.values[index] = original + h
                let plus = objective()
                arena.values[index] = original - h
                let minus = objective()
                arena.values[index] = original
                let numeric = (plus - minus) / Double(2 * h)
                let allowed = 1e-1 * max(abs(analytic), abs(numeric)) + 1e-2 * scale
                #expect(abs(analytic - numeric) <= allowed,
                        "\(name) \(entry.name)[\(element)]: analytic \(analytic), numeric \(numeric) (largest gradient \(scale))")
            }
        }
    }
}
