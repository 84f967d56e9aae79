// The UNet's up-path in sub-pixel form (UpsampleConv2x: four low-resolution convolutions) against
// naive loops over the upsampled image (upsample + 2x2 "same" conv), against oneDNN's upsample +
// Conv2D (what it replaces), and by finite differences.
import Testing
import Tensors

struct UpsampleConvCase: CustomStringConvertible, Sendable {
    var cin: Int, cout: Int, n: Int, h: Int, w: Int, layout: Layout = .blocked
    var description: String { "\(cin)->\(cout) \(n)x\(h)x\(w) \(layout)" }
}

let upsampleConvCases: [UpsampleConvCase] = [
    UpsampleConvCase(cin: 32, cout: 16, n: 1, h: 8, w: 8),
    // Two images, odd sides, channels not in whole blocks (padded blocks move with the pixels).
    UpsampleConvCase(cin: 5, cout: 3, n: 2, h: 7, w: 5),
    UpsampleConvCase(cin: 24, cout: 40, n: 1, h: 6, w: 9),
    UpsampleConvCase(cin: 6, cout: 4, n: 2, h: 5, w: 6, layout: .plain),
]

private func fixture(_ c: UpsampleConvCase, seed: UInt64 = 1) -> (ConvFixture, UpsampleConv2x, Tensor, Tensor) {
    let conv = ConvFixture(.samePad2x2(c.cin, c.cout), seed: seed)
    let layer = UpsampleConv2x(conv.conv)
    let src = tensor(randomValues(c.n * c.cin * c.h * c.w, seed: seed + 1), n: c.n, c: c.cin, h: c.h, w: c.w, layout: c.layout)
    let dst = Tensor(n: c.n, c: c.cout, h: 2 * c.h, w: 2 * c.w, layout: c.layout)
    return (conv, layer, src, dst)
}

@Test("Sub-pixel upsample + 2x2 conv matches naive loops: forward, input, weight and bias gradients", arguments: upsampleConvCases)
func upsampleConvMatchesNaive(_ c: UpsampleConvCase) {
    let (conv, layer, src, dst) = fixture(c)
    let input = src.plainValues()
    layer.forward(src: src, dst: dst)
    let out = dst.plainValues()
    let up = NaiveReference.upsampleNearest2x(input, n: c.n, c: c.cin, h: c.h, w: c.w)
    let s = conv.shape
    let expected = NaiveReference.convForward(up, n: c.n, h: 2 * c.h, w: 2 * c.w, shape: s, parameters: conv.parameters)
    let forwardError = maxRelativeDifference(out, expected)
    #expect(forwardError < 1e-5, "forward: max error \(forwardError) of the largest output")

    let gradOut = randomValues(dst.count, seed: 9)
    let gDst = tensor(gradOut, n: c.n, c: c.cout, h: 2 * c.h, w: 2 * c.w, layout: c.layout)
    let gSrc = Tensor(n: c.n, c: c.cin, h: c.h, w: c.w, layout: c.layout)
    gSrc.load(plain: randomValues(gSrc.count, seed: 10))   // garbage: backward overwrites it
    conv.arena.gradients.update(repeating: 1, count: conv.arena.count)   // backward accumulates
    layer.backward(src: src, gradDst: gDst, gradSrc: gSrc)
    let (naiveUp, naiveParameters) = NaiveReference.convBackward(up, n: c.n, h: 2 * c.h, w: 2 * c.w, shape: s,
                                                                 parameters: conv.parameters, gradOut: gradOut)
    // The upsample's adjoint: each input pixel gets the sum of its 2x2 block.
    var naiveInput = [Float](repeating: 0, count: input.count)
    for p in 0..<(c.n * c.cin) {
        for y in 0..<(2 * c.h) {
            for x in 0..<(2 * c.w) { naiveInput[(p * c.h + y / 2) * c.w + x / 2] += naiveUp[(p * 2 * c.h + y) * 2 * c.w + x] }
        }
    }
    let inputError = maxRelativeDifference(gSrc.plainValues(), naiveInput)
    #expect(inputError < 1e-5, "input gradient: max error \(inputError)")
    let gp = conv.gradients
    let weightError = maxRelativeDifference(Array(gp[..<s.weightCount]), naiveParameters[..<s.weightCount].map { $0 + 1 })
    #expect(weightError < 1e-5, "weight gradient: max error \(weightError)")
    let biasError = maxRelativeDifference(Array(gp[s.weightCount...]), naiveParameters[s.weightCount...].map { $0 + 1 })
    #expect(biasError < 1e-5, "bias gradient: max error \(biasError)")
    #expect(layer.implementations.allSatisfy { !$0.hasPrefix("ref") } || c.layout == .plain || c.cin % Layout.channelBlock != 0,
            "\(layer.implementations)")
}

@Test("Sub-pixel form agrees with oneDNN's upsample + 2x2 conv (the path it replaces), twice in a row")
func upsampleConvMatchesOneDNN() {
    let c = UpsampleConvCase(cin: 32, cout: 16, n: 2, h: 12, w: 10)
    let (conv, layer, src, dst) = fixture(c, seed: 3)
    let up = Tensor(n: c.n, c: c.cin, h: 2 * c.h, w: 2 * c.w, layout: .blocked), direct = Tensor(n: c.n, c: c.cout, h: 2 * c.h, w: 2 * c.w, layout: .blocked)
    let reference = ConvFixture(.samePad2x2(c.cin, c.cout), seed: 3)
    for round in 0..<2 {
        // New weights between rounds: the derived phase weights must follow them.
        if round == 1 {
            for i in 0..<conv.arena.count { conv.arena.values[i] *= -0.5; reference.arena.values[i] *= -0.5 }
        }
        layer.forward(src: src, dst: dst)
        Upsample2x.forward(src: src, dst: up)
        reference.conv.forward(src: up, dst: direct)
        #expect(maxRelativeDifference(dst.plainValues(), direct.plainValues()) < 1e-5, "round \(round)")
    }
    // reuseWeights on a layer that never derived its phases still derives them once.
    // (The fixtures own the weights: they stay bound until the end.)
    let (freshWeights, fresh, freshSrc, freshDst) = fixture(c, seed: 3)
    fresh.forward(src: freshSrc, dst: freshDst, reuseWeights: true)
    let (plainWeights, plainLayer, plainSrc, plainDst) = fixture(c, seed: 3)
    plainLayer.forward(src: plainSrc, dst: plainDst)
    #expect(maxRelativeDifference(freshDst.plainValues(), plainDst.plainValues()) < 1e-6)
    withExtendedLifetime((freshWeights, plainWeights)) {}
}

@Test("Sub-pixel upsample + 2x2 conv passes finite-difference checks for input, weights and bias")
func upsampleConvGradientCheck() {
    let c = UpsampleConvCase(cin: 16, cout: 8, n: 1, h: 6, w: 7)
    let (conv, layer, src, dst) = fixture(c, seed: 4)
    var input = src.plainValues()
    let probe = randomValues(dst.count, seed: 6)
    func loss() -> Double {
        layer.forward(src: src, dst: dst)
        let out = dst.plainValues()
        return GradientCheck.weightedSum(out, probe, count: out.count)
    }
    _ = loss()
    let gDst = tensor(probe, n: c.n, c: c.cout, h: 2 * c.h, w: 2 * c.w, layout: .blocked)
    let gSrc = Tensor(n: c.n, c: c.cin, h: c.h, w: c.w, layout: .blocked)
    conv.arena.zeroGradients()
    layer.backward(src: src, gradDst: gDst, gradSrc: gSrc)
    let analyticInput = gSrc.plainValues()
    let inputReport = GradientCheck.check(values: &input, analytic: analyticInput, probes: 40, step: 1e-2,
                                          floor: 0.05 * maxAbs(analyticInput)) { x in
        src.load(plain: x); return loss()
    }
    #expect(inputReport.maxRelativeError < 1e-2, "\(inputReport)")
    src.load(plain: input)
    let s = conv.shape
    let parameterReport = GradientCheck.check(values: conv.arena.values, analytic: conv.arena.gradients, count: s.parameterCount,
                                              probes: 60, step: 1e-2, floor: 0.05 * maxAbs(conv.gradients), loss: loss)
    #expect(parameterReport.maxRelativeError < 1e-2, "\(parameterReport)")
    // The check can fail: a weight gradient with two taps swapped is caught.
    var swapped = conv.gradients
    for k in 0..<(s.weightCount / 4) { swapped.swapAt(4 * k, 4 * k + 3) }
    let broken = swapped.withUnsafeBufferPointer { g in
        GradientCheck.check(values: conv.arena.values, analytic: g.baseAddress!, count: s.weightCount,
                            probes: 60, step: 1e-2, floor: 0.05 * maxAbs(conv.gradients), loss: loss)
    }
    #expect(broken.maxRelativeError > 0.05, "\(broken)")
}
