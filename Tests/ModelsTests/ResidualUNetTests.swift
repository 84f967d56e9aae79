// The residual option of the UNet (network_g.residual): output = input + head, no sigmoid.
// References: the sigmoid UNet (PyTorch-parity tested) with the same weights gives the head's
// pre-activation as logit(output), so residual(x) = x + logit(plain(x)); its backward must give the
// parameter gradients of the plain network fed dL/dout / sigmoid'. Plus finite differences of a
// composed loss through the residual path.
import Foundation
import Models
import Tensors
import Testing

/// A residual UNet and a plain one holding the same (random, non-zero-head) weights.
private func twins(widths: [Int] = [4, 8], seed: UInt64 = 41) throws -> (residual: UNet, plain: UNet) {
    let plain = try UNet(config: UNetConfig(widths: widths, dropout: 0), seed: seed)
    let residual = try UNet(config: UNetConfig(widths: widths, dropout: 0, residual: true), seed: seed)
    for i in 0..<plain.parameters.count { residual.parameters.values[i] = plain.parameters.values[i] }
    return (residual, plain)
}

@Test("Residual UNet starts as the identity: zero head, output == input exactly")
func residualStartsAtIdentity() throws {
    let unet = try UNet(config: UNetConfig(widths: [8, 16, 32], dropout: 0.4, residual: true), seed: 3)
    let input = randomImage(3 * 16 * 16, seed: 4)
    var out = [Float](repeating: -1, count: input.count)
    unet.forward(input: input, output: &out, n: 1, h: 16, w: 16, training: true)
    #expect(out == input)
    #expect(unet.parameters.entry("head.weight").map { e in (0..<e.count).allSatisfy { unet.parameters.values[e.offset + $0] == 0 } } == true)
    #expect(throws: UNet.ConfigError.self) { try UNet(config: UNetConfig(widths: [4], inputChannels: 1, outputChannels: 3, residual: true), seed: 0) }
}

@Test("Residual forward is input + logit(sigmoid UNet) with the same weights; inference clamps to [0, 1]")
func residualForwardMatchesReference() throws {
    let (residual, plain) = try twins()
    let (h, w) = (16, 16)
    let input = randomImage(3 * h * w, seed: 5)
    var plainOut = [Float](repeating: 0, count: input.count), resOut = plainOut, resInference = plainOut
    plain.forward(input: input, output: &plainOut, n: 1, h: h, w: w, training: true)
    residual.forward(input: input, output: &resOut, n: 1, h: h, w: w, training: true)
    residual.forward(input: input, output: &resInference, n: 1, h: h, w: w, training: false)
    let reference = zip(input, plainOut).map { x, s in x + log(s / (1 - s)) }
    let error = relativeError(resOut, reference)
    #expect(error < 1e-4, "residual forward vs x + logit(plain): \(error)")
    #expect(resOut.contains { $0 < 0 || $0 > 1 }, "random weights should push some values out of [0, 1] (else the clamp is untested)")
    #expect(zip(resOut, resInference).allSatisfy { r, c in c == min(max(r, 0), 1) })
}

@Test("Residual backward: the plain network's parameter gradients for dL/dout / sigmoid'(head)")
func residualBackwardMatchesReference() throws {
    let (residual, plain) = try twins()
    let (h, w) = (16, 16)
    let input = randomImage(3 * h * w, seed: 6), grad = randomImage(3 * h * w, seed: 7).map { $0 - 0.5 }
    var plainOut = [Float](repeating: 0, count: input.count), resOut = plainOut
    plain.forward(input: input, output: &plainOut, n: 1, h: h, w: w, training: true)
    residual.forward(input: input, output: &resOut, n: 1, h: h, w: w, training: true)
    residual.zeroGrad(); plain.zeroGrad()
    residual.backward(gradOutput: grad)
    // The plain network's sigmoid backward multiplies by s(1 - s): dividing first leaves dL/dhead = grad.
    plain.backward(gradOutput: zip(grad, plainOut).map { g, s in g / (s * (1 - s)) })
    let p = residual.parameters, q = plain.parameters
    let a = Array(UnsafeBufferPointer(start: p.gradients, count: p.count)), b = Array(UnsafeBufferPointer(start: q.gradients, count: q.count))
    #expect(b.contains { $0 != 0 })
    let error = relativeError(a, b)
    #expect(error < 1e-3, "residual vs plain parameter gradients: \(error)")
}

@Test("Residual path: Charb(F(b), gt) + 0.5 Charb(R(F(b), b), b) gradients match finite differences")
func residualComposedLossGradient() throws {
    let (h, w) = (16, 16)
    let (unet, _) = try twins(seed: 43)
    let rb = try ReblurModule(width: 4, seed: 44)
    let step = TrainingStep(unet: unet, reblur: rb, optimizer: Adam(lr: 1e-3))
    let blurry = randomImage(3 * h * w, seed: 12), target = randomImage(3 * h * w, seed: 13)
    _ = step.computeGradients(blurry: blurry, target: target, n: 1, h: h, w: w)
    func loss() -> Double {
        var out = [Float](repeating: 0, count: 3 * h * w), re = out
        unet.forward(input: blurry, output: &out, n: 1, h: h, w: w, training: true)
        rb.forward(deblurred: out, blurry: blurry, reblurred: &re, seeds: nil, n: 1, h: h, w: w)
        return Tensors.Charbonnier.loss(out, target, mask: nil, count: out.count, eps: 1e-3)
            + 0.5 * Tensors.Charbonnier.loss(re, blurry, mask: nil, count: re.count, eps: 1e-3)
    }
    let p = unet.parameters
    let analytic = Array(UnsafeBufferPointer(start: p.gradients, count: p.count))
    let scale = Double(analytic.map { abs($0) }.max()!)
    #expect(scale > 0)
    let report = GradientCheck.check(values: p.values, analytic: p.gradients, count: p.count, probes: 40,
                                     step: 1e-3, floor: 0.05 * scale, loss: loss)
    #expect(report.maxRelativeError < 3e-2, "residual UNet: \(report)")
}

@Test("Residual UNet body: He fan-in init, zero biases; the paper's UNet keeps the fan-out init")
func residualBodyInitialisation() throws {
    let widths = [16, 32, 64]
    let residual = try UNet(config: UNetConfig(widths: widths, dropout: 0, residual: true), seed: 9)
    let plain = try UNet(config: UNetConfig(widths: widths, dropout: 0), seed: 9)
    for (name, fanIn, fanOut) in [("enc.1.0", 16 * 9, 32 * 9), ("enc.2.2", 64 * 9, 64 * 9), ("dec.0.0", 64 * 9, 32 * 9)] {
        func stats(_ unet: UNet, _ key: String) throws -> (std: Double, maxAbs: Float) {
            let e = try #require(unet.parameters.entry(key))
            let values = (0..<e.count).map { unet.parameters.values[e.offset + $0] }
            let mean = values.reduce(0, +) / Float(values.count)
            let variance = values.reduce(0) { $0 + Double(($1 - mean) * ($1 - mean)) } / Double(values.count)
            return (variance.squareRoot(), values.map(abs).max() ?? 0)
        }
        let r = try stats(residual, name + ".weight"), p = try stats(plain, name + ".weight")
        let he = (2.0 / Double(fanIn)).squareRoot(), torch = (2.0 / Double(fanOut)).squareRoot()
        #expect(abs(r.std / he - 1) < 0.1, "\(name): residual std \(r.std), He fan-in \(he)")
        #expect(abs(p.std / torch - 1) < 0.1, "\(name): plain std \(p.std), fan-out \(torch)")
        #expect(try stats(residual, name + ".bias").maxAbs == 0, "\(name): residual biases start at 0")
        #expect(try stats(plain, name + ".bias").maxAbs > 0, "\(name): plain biases keep nn.Conv2d's uniform init")
    }
}
