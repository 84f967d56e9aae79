// NAFNet's block against the composition of the naive twins of its layers, and by finite differences of
// its input and of every parameter (convolutions, norms, channel attention, beta, gamma).
import Foundation
import Models
import Tensors
import Testing

private func values(_ count: Int, seed: UInt64, scale: Float = 1, offset: Float = 0) -> [Float] {
    var g = Tensors.SeededGenerator(seed: seed)
    return (0..<count).map { _ in (g.nextUniform() * 2 - 1) * scale + offset }
}

/// A block with every parameter random and non-zero (beta and gamma too, unlike NAFNet's init).
private func randomBlock(channels c: Int, seed: UInt64) -> (NAFBlock, ParameterArena) {
    let arena = ParameterArena(NAFBlock.parameterTable(prefix: "b", channels: c))
    let random = values(arena.count, seed: seed, scale: 0.4)
    arena.values.update(from: random, count: arena.count)
    for name in ["b.norm1.weight", "b.norm2.weight"] {
        let p = arena.pointer(name)
        for i in 0..<c { p[i] += 1 }
    }
    return (NAFBlock(prefix: "b", channels: c, arena: arena), arena)
}

/// The block composed of its layers' naive twins (NAFNetTests composes whole networks of these).
func naiveBlock(_ x: [Float], n: Int, c: Int, h: Int, w: Int, arena: ParameterArena, prefix: String = "b") -> [Float] {
    func p(_ name: String) -> [Float] {
        let e = arena.entry("\(prefix).\(name)")!
        return Array(UnsafeBufferPointer(start: arena.values + e.offset, count: e.count))
    }
    func conv(_ input: [Float], _ name: String, _ shape: ConvShape) -> [Float] {
        NaiveReference.convForward(input, n: n, h: h, w: w, shape: shape, parameters: p("\(name).weight") + p("\(name).bias"))
    }
    func scaledAdd(_ base: [Float], _ branch: [Float], _ scale: [Float]) -> [Float] {
        base.indices.map { base[$0] + scale[($0 / (h * w)) % c] * branch[$0] }
    }
    let n1 = NaiveReference.channelLayerNorm(x, n: n, c: c, h: h, w: w, weight: p("norm1.weight"), bias: p("norm1.bias"), eps: 1e-6)
    let b = conv(conv(n1, "conv1", .conv1x1(c, 2 * c)), "conv2", .depthwise3x3(2 * c))
    let g = NaiveReference.simpleGate(b, n: n, c: 2 * c, h: h, w: w)
    let s = NaiveReference.channelAttention(g, n: n, c: c, h: h, w: w, weight: p("sca.1.weight"), bias: p("sca.1.bias"))
    let y = scaledAdd(x, conv(s, "conv3", .conv1x1(c, c)), p("beta"))
    let n2 = NaiveReference.channelLayerNorm(y, n: n, c: c, h: h, w: w, weight: p("norm2.weight"), bias: p("norm2.bias"), eps: 1e-6)
    let e = NaiveReference.simpleGate(conv(n2, "conv4", .conv1x1(c, 2 * c)), n: n, c: 2 * c, h: h, w: w)
    return scaledAdd(y, conv(e, "conv5", .conv1x1(c, c)), p("gamma"))
}

@Test("NAFBlock matches its layers' naive twins composed; input and parameter gradients pass finite differences",
      arguments: [Layout.plain, .blocked], [8, 16])
func nafBlock(_ layout: Layout, _ c: Int) {
    let (n, h, w) = (2, 5, 6)
    let (block, arena) = randomBlock(channels: c, seed: 71)
    var x = values(n * c * h * w, seed: 72)
    let src = Tensor(n: n, c: c, h: h, w: w, layout: layout), out = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    src.load(plain: x)
    block.forward(src, into: out)
    let expected = naiveBlock(x, n: n, c: c, h: h, w: w, arena: arena)
    let got = out.plainValues()
    let worst = zip(got, expected).map { abs($0 - $1) }.max()!
    #expect(worst < 1e-4, "largest difference to the naive composition \(worst)")

    let probe = values(n * c * h * w, seed: 73)
    func loss() -> Double {
        block.forward(src, into: out)
        return GradientCheck.weightedSum(out.plainValues(), probe, count: probe.count)
    }
    arena.zeroGradients()
    _ = loss()
    let gradOut = Tensor(n: n, c: c, h: h, w: w, layout: layout), gradX = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    gradOut.load(plain: probe)
    block.backward(gradOut: gradOut, gradX: gradX)
    let analytic = gradX.plainValues()
    let inputReport = GradientCheck.check(values: &x, analytic: analytic, probes: 40, step: 1e-2,
                                          floor: 0.05 * Double(analytic.map(abs).max()!)) { v in src.load(plain: v); return loss() }
    #expect(inputReport.maxRelativeError < 2e-2, "input: \(inputReport)")
    src.load(plain: x)
    for entry in arena.entries {
        let grads = Array(UnsafeBufferPointer(start: arena.gradients + entry.offset, count: entry.count))
        let report = GradientCheck.check(values: arena.values + entry.offset, analytic: arena.gradients + entry.offset, count: entry.count,
                                         probes: 12, step: 1e-2, floor: 0.05 * max(Double(grads.map(abs).max()!), 1e-3), loss: loss)
        #expect(report.maxRelativeError < 2e-2, "\(entry.name): \(report)")
    }
}

@Test("NAFBlock with NAFNet's initial scales (beta = gamma = 0) is the identity")
func nafBlockStartsAsIdentity() {
    let (block, _) = randomBlock(channels: 16, seed: 81)
    block.resetScalesAndNorms()
    let x = values(16 * 4 * 4, seed: 82)
    let src = Tensor(n: 1, c: 16, h: 4, w: 4, layout: .blocked), out = Tensor(n: 1, c: 16, h: 4, w: 4, layout: .blocked)
    src.load(plain: x)
    block.forward(src, into: out)
    #expect(out.plainValues() == x)
    // conv1 and conv4 544 each, conv2 (depthwise) 320, conv3, conv5 and sca.1 272 each, norms 64, beta and gamma 32.
    let counts: [Int] = NAFBlock.parameterTable(prefix: "b", channels: 16).map { $0.1.reduce(1, *) }
    #expect(counts.reduce(0, +) == 2320)
}
