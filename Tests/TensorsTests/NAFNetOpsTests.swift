// NAFNet's per-pixel channel ops: layer norm over channels, SimpleGate and simplified channel
// attention, each against loops written from its formula and by finite differences, in the plain and the
// engine's blocked layout (channel counts that leave a partial block included).
import Foundation
import Testing
import Tensors

/// A layer's weight and bias gradients (`gradWeight`, `gradBias`) against central differences of
/// sum(run(weight, bias) * probe), `run` being its forward's output.
private func expectParameterGradients(weight: [Float], bias: [Float], gradWeight: [Float], gradBias: [Float], probe: [Float],
                                      run: ([Float], [Float]) -> [Float]) {
    func check(_ values: [Float], _ analytic: [Float], _ loss: ([Float]) -> Double) -> GradientCheckReport {
        var values = values
        return GradientCheck.check(values: &values, analytic: analytic, probes: 32, step: 1e-2,
                                   floor: 0.05 * max(maxAbs(analytic), 1e-3), loss: loss)
    }
    let weights = check(weight, gradWeight) { GradientCheck.weightedSum(run($0, bias), probe, count: probe.count) }
    let biases = check(bias, gradBias) { GradientCheck.weightedSum(run(weight, $0), probe, count: probe.count) }
    #expect(weights.maxRelativeError < 1e-2, "weight: \(weights)")
    #expect(biases.maxRelativeError < 1e-2, "bias: \(biases)")
}

@Test("Layer norm over channels matches its formula; input, weight and bias gradients pass finite differences",
      arguments: [Layout.plain, .blocked], [5, 16, 24])
func channelLayerNorm(_ layout: Layout, _ c: Int) {
    let (n, h, w) = (2, 3, 5)
    let x = randomValues(n * c * h * w, seed: 31, scale: 2)
    let weight = randomValues(c, seed: 32).map { $0 + 1.5 }, bias = randomValues(c, seed: 33)
    let norm = ChannelLayerNorm(channels: c)
    let src = tensor(x, n: n, c: c, h: h, w: w, layout: layout), dst = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    norm.forward(src: src, dst: dst, weight: weight, bias: bias)
    #expect(maxRelativeDifference(dst.plainValues(), NaiveReference.channelLayerNorm(x, n: n, c: c, h: h, w: w, weight: weight, bias: bias, eps: 1e-6)) < 1e-5)

    let report = checkInputGradient(n: n, c: c, h: h, w: w, outShape: (n, c, h, w), layout: layout, seed: 34, input: x, step: 1e-3,
                                    forward: { norm.forward(src: $0, dst: $1, weight: weight, bias: bias) },
                                    backward: { gDst, gSrc in
                                        var gw = [Float](repeating: 0, count: c), gb = gw
                                        norm.backward(gradDst: gDst, gradSrc: gSrc, weight: weight, gradWeight: &gw, gradBias: &gb)
                                    })
    #expect(report.maxRelativeError < 1e-2, "\(report)")

    // Parameter gradients (accumulated onto 1s: backward adds).
    let probe = randomValues(n * c * h * w, seed: 35)
    norm.forward(src: src, dst: dst, weight: weight, bias: bias)
    let gSrc = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    var gw = [Float](repeating: 1, count: c), gb = [Float](repeating: 1, count: c)
    norm.backward(gradDst: tensor(probe, n: n, c: c, h: h, w: w, layout: layout), gradSrc: gSrc, weight: weight, gradWeight: &gw, gradBias: &gb)
    expectParameterGradients(weight: weight, bias: bias, gradWeight: gw.map { $0 - 1 }, gradBias: gb.map { $0 - 1 }, probe: probe) {
        norm.forward(src: src, dst: dst, weight: $0, bias: $1)
        return dst.plainValues()
    }
}

@Test("SimpleGate multiplies the two channel halves; its gradient passes finite differences", arguments: [Layout.plain, .blocked], [6, 32])
func simpleGate(_ layout: Layout, _ c: Int) {
    let (n, h, w) = (2, 4, 3)
    let x = randomValues(n * c * h * w, seed: 41)
    let src = tensor(x, n: n, c: c, h: h, w: w, layout: layout), dst = Tensor(n: n, c: c / 2, h: h, w: w, layout: layout)
    SimpleGate.forward(src: src, dst: dst)
    #expect(maxRelativeDifference(dst.plainValues(), NaiveReference.simpleGate(x, n: n, c: c, h: h, w: w)) == 0)
    let report = checkInputGradient(n: n, c: c, h: h, w: w, outShape: (n, c / 2, h, w), layout: layout, seed: 42, input: x,
                                    forward: { SimpleGate.forward(src: $0, dst: $1) },
                                    backward: { gDst, gSrc in SimpleGate.backward(src: src, gradDst: gDst, gradSrc: gSrc) })
    #expect(report.maxRelativeError < 1e-2, "\(report)")
}

@Test("Simplified channel attention scales each channel by a 1x1 conv of the pooled means; all gradients pass finite differences",
      arguments: [Layout.plain, .blocked], [5, 16])
func channelAttention(_ layout: Layout, _ c: Int) {
    let (n, h, w) = (2, 4, 6)
    let x = randomValues(n * c * h * w, seed: 51)
    let weight = randomValues(c * c, seed: 52), bias = randomValues(c, seed: 53).map { $0 + 1 }
    let attention = ChannelAttention(channels: c)
    let src = tensor(x, n: n, c: c, h: h, w: w, layout: layout), dst = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    attention.forward(src: src, dst: dst, weight: weight, bias: bias)
    #expect(maxRelativeDifference(dst.plainValues(), NaiveReference.channelAttention(x, n: n, c: c, h: h, w: w, weight: weight, bias: bias)) < 1e-5)

    let report = checkInputGradient(n: n, c: c, h: h, w: w, outShape: (n, c, h, w), layout: layout, seed: 54, input: x,
                                    forward: { attention.forward(src: $0, dst: $1, weight: weight, bias: bias) },
                                    backward: { gDst, gSrc in
                                        var gw = [Float](repeating: 0, count: c * c), gb = [Float](repeating: 0, count: c)
                                        attention.backward(src: src, gradDst: gDst, gradSrc: gSrc, weight: weight,
                                                           gradWeight: &gw, gradBias: &gb)
                                    })
    #expect(report.maxRelativeError < 1e-2, "\(report)")

    let probe = randomValues(n * c * h * w, seed: 55)
    attention.forward(src: src, dst: dst, weight: weight, bias: bias)
    var gw = [Float](repeating: 1, count: c * c), gb = [Float](repeating: 1, count: c)
    attention.backward(src: src, gradDst: tensor(probe, n: n, c: c, h: h, w: w, layout: layout),
                       gradSrc: Tensor(n: n, c: c, h: h, w: w, layout: layout), weight: weight, gradWeight: &gw, gradBias: &gb)
    expectParameterGradients(weight: weight, bias: bias, gradWeight: gw.map { $0 - 1 }, gradBias: gb.map { $0 - 1 }, probe: probe) {
        attention.forward(src: src, dst: dst, weight: $0, bias: $1)
        return dst.plainValues()
    }
}

@Test("PixelShuffle matches PyTorch's index formula; its backward is the inverse permutation", arguments: [Layout.plain, .blocked], [2, 3])
func pixelShuffle(_ layout: Layout, _ r: Int) {
    let (n, c, h, w) = (2, 5, 3, 4)
    let x = randomValues(n * c * r * r * h * w, seed: 61)
    let src = tensor(x, n: n, c: c * r * r, h: h, w: w, layout: layout)
    let dst = Tensor(n: n, c: c, h: h * r, w: w * r, layout: layout)
    PixelShuffle.forward(src: src, dst: dst, factor: r)
    var expected = [Float](repeating: 0, count: x.count)
    for ni in 0..<n { for ci in 0..<c { for y in 0..<(h * r) { for xx in 0..<(w * r) {
        let from = ((ni * c * r * r + (ci * r + y % r) * r + xx % r) * h + y / r) * w + xx / r
        expected[((ni * c + ci) * h * r + y) * w * r + xx] = x[from]
    } } } }
    #expect(dst.plainValues() == expected)
    let gradSrc = Tensor(n: n, c: c * r * r, h: h, w: w, layout: layout)
    PixelShuffle.backward(gradDst: dst, gradSrc: gradSrc, factor: r)
    #expect(gradSrc.plainValues() == x, "shuffling back must give the input exactly")
}

@Test("NAFNet's scaled residual base + scale[c] * branch and its gradients match the formula",
      arguments: [Layout.plain, .blocked], [5, 16, 32])
func channelScaledAdd(_ layout: Layout, _ c: Int) {
    let (n, h, w) = (2, 3, 5), plane = h * w
    let base = randomValues(n * c * plane, seed: 61), branch = randomValues(n * c * plane, seed: 62)
    let scale = randomValues(c, seed: 63), gradOut = randomValues(n * c * plane, seed: 64)
    let out = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    ChannelScaledAdd.forward(base: tensor(base, n: n, c: c, h: h, w: w, layout: layout), branch: tensor(branch, n: n, c: c, h: h, w: w, layout: layout),
                             scale: scale, into: out)
    let expected = (0..<base.count).map { base[$0] + scale[($0 / plane) % c] * branch[$0] }
    #expect(maxRelativeDifference(out.plainValues(), expected) < 1e-6)

    let gradBranch = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    var gradScale = [Float](repeating: 1, count: c)
    ChannelScaledAdd.backward(gradOut: tensor(gradOut, n: n, c: c, h: h, w: w, layout: layout), branch: tensor(branch, n: n, c: c, h: h, w: w, layout: layout),
                              scale: scale, gradBranch: gradBranch, gradScale: &gradScale)
    #expect(maxRelativeDifference(gradBranch.plainValues(), (0..<gradOut.count).map { scale[($0 / plane) % c] * gradOut[$0] }) < 1e-6)
    let expectedScale = (0..<c).map { ch in
        1 + (0..<n).reduce(Float(0)) { sum, ni in
            sum + (0..<plane).reduce(Float(0)) { $0 + gradOut[(ni * c + ch) * plane + $1] * branch[(ni * c + ch) * plane + $1] }
        }
    }
    #expect(maxRelativeDifference(gradScale, expectedScale) < 1e-5)
}
