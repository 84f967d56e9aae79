// The project's own Winograd F(4x4, 3x3) convolution (WinogradConvolution), forced (whatever the
// layer's size) on whatever CPU runs the suite (and chosen by the platform's rule under ONEDNN_MAX_CPU_ISA=AVX2, which make test
// reruns): against naive loops, against oneDNN's direct convolution, and by finite differences.
import Testing
import Tensors

struct WinogradCase: CustomStringConvertible, Sendable {
    var cin: Int, cout: Int, n: Int, h: Int, w: Int, relu: Bool, inputGradient: Bool = true
    var description: String { "\(cin)->\(cout) \(n)x\(h)x\(w) relu=\(relu)" }
}

let winogradCases: [WinogradCase] = [
    WinogradCase(cin: 32, cout: 32, n: 1, h: 32, w: 32, relu: false),
    // Partial tiles at the right and bottom edges, two images, ReLU.
    WinogradCase(cin: 32, cout: 64, n: 2, h: 33, w: 38, relu: true),
    // 2 x 96 x 96 at 32+32 channels spans two chunks (37 and 11 tile rows), one crossing the images' seam.
    WinogradCase(cin: 32, cout: 32, n: 2, h: 96, w: 96, relu: true),
    // The first layer of a network: no input gradient.
    WinogradCase(cin: 64, cout: 32, n: 1, h: 36, w: 32, relu: false, inputGradient: false),
]

/// A convolution forced onto (or off) the project's Winograd, with its inputs.
private func winogradFixture(_ c: WinogradCase, own: Bool, seed: UInt64 = 1) -> (ConvFixture, Tensor, Tensor) {
    let fixture = ConvFixture(.conv3x3(c.cin, c.cout), relu: c.relu, seed: seed)
    fixture.conv.ownWinogradOverride = own
    let src = tensor(randomValues(c.n * c.cin * c.h * c.w, seed: seed + 1), n: c.n, c: c.cin, h: c.h, w: c.w, layout: .blocked)
    let dst = Tensor(n: c.n, c: c.cout, h: c.h, w: c.w, layout: .blocked)
    return (fixture, src, dst)
}

/// Forward output, input gradient (empty without one) and parameter gradients (started at 1, to see
/// that backward accumulates) for one fixture; the input gradient starts as garbage (it is overwritten).
private func runPasses(_ c: WinogradCase, _ fixture: ConvFixture, _ src: Tensor, _ dst: Tensor) -> ([Float], [Float], [Float]) {
    fixture.conv.forward(src: src, dst: dst)
    let out = dst.plainValues()
    let gDst = tensor(randomValues(c.n * c.cout * c.h * c.w, seed: 9), n: c.n, c: c.cout, h: c.h, w: c.w, layout: .blocked)
    let gSrc = Tensor(n: c.n, c: c.cin, h: c.h, w: c.w, layout: .blocked)
    gSrc.load(plain: randomValues(gSrc.count, seed: 10))
    fixture.arena.gradients.update(repeating: 1, count: fixture.arena.count)
    fixture.conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: c.inputGradient ? gSrc : nil)
    return (out, c.inputGradient ? gSrc.plainValues() : [], fixture.gradients)
}

@Test("Own Winograd F(4x4,3x3) matches naive loops: forward, input, weight and bias gradients", arguments: winogradCases)
func ownWinogradMatchesNaive(_ c: WinogradCase) {
    let (fixture, src, dst) = winogradFixture(c, own: true)
    let input = src.plainValues()
    let (out, gi, gp) = runPasses(c, fixture, src, dst)
    let implementation = fixture.conv.forwardImplementation
    #expect(implementation.hasPrefix("jdrl_wino_4x3+") && !implementation.contains("ref"), "\(implementation)")
    #expect(fixture.conv.implementations.allSatisfy { !$0.contains("ref") }, "\(fixture.conv.implementations)")

    let s = fixture.shape
    let z = NaiveReference.convForward(input, n: c.n, h: c.h, w: c.w, shape: s, parameters: fixture.parameters)
    let expected = c.relu ? z.map { max($0, 0) } : z
    let forwardError = maxRelativeDifference(out, expected)
    #expect(forwardError < 2e-5, "forward: max error \(forwardError) of the largest output")

    let gradOut = randomValues(c.n * c.cout * c.h * c.w, seed: 9)
    let masked = c.relu ? zip(gradOut, z).map { $1 > 0 ? $0 : 0 } : gradOut
    let (naiveInput, naiveParameters) = NaiveReference.convBackward(input, n: c.n, h: c.h, w: c.w, shape: s,
                                                                    parameters: fixture.parameters, gradOut: masked)
    if c.inputGradient {
        let inputError = maxRelativeDifference(gi, naiveInput)
        #expect(inputError < 2e-5, "input gradient: max error \(inputError)")
    }
    let weightError = maxRelativeDifference(Array(gp[..<s.weightCount]), naiveParameters[..<s.weightCount].map { $0 + 1 })
    #expect(weightError < 2e-5, "weight gradient: max error \(weightError)")
    let biasError = maxRelativeDifference(Array(gp[s.weightCount...]), naiveParameters[s.weightCount...].map { $0 + 1 })
    #expect(biasError < 2e-5, "bias gradient: max error \(biasError)")
}

@Test("Own Winograd agrees with oneDNN's direct convolution on the same layer", arguments: winogradCases.prefix(3))
func ownWinogradMatchesOneDNN(_ c: WinogradCase) {
    let (wino, src, dst) = winogradFixture(c, own: true)
    let (direct, directSrc, directDst) = winogradFixture(c, own: false)
    let (out, gi, gp) = runPasses(c, wino, src, dst)
    let (outDirect, giDirect, gpDirect) = runPasses(c, direct, directSrc, directDst)
    #expect(!direct.conv.forwardImplementation.contains("jdrl_wino"), "\(direct.conv.forwardImplementation)")
    #expect(maxRelativeDifference(out, outDirect) < 2e-5)
    #expect(maxRelativeDifference(gi, giDirect) < 2e-5)
    #expect(maxRelativeDifference(gp, gpDirect) < 2e-5)
}

// Finite differences through the Winograd forward (no ReLU: its kinks would spoil central
// differences), on the input, a sample of the weights and every bias.
@Test("Own Winograd passes finite-difference checks for input, weights and bias")
func ownWinogradGradientCheck() {
    let c = WinogradCase(cin: 32, cout: 32, n: 1, h: 32, w: 36, relu: false)
    let (fixture, src, dst) = winogradFixture(c, own: true, seed: 4)
    var input = src.plainValues()
    let probe = randomValues(c.n * c.cout * c.h * c.w, seed: 6)
    func loss() -> Double {
        fixture.conv.forward(src: src, dst: dst)
        let out = dst.plainValues()
        return GradientCheck.weightedSum(out, probe, count: out.count)
    }
    _ = loss()
    let gDst = tensor(probe, n: c.n, c: c.cout, h: c.h, w: c.w, layout: .blocked)
    let gSrc = Tensor(n: c.n, c: c.cin, h: c.h, w: c.w, layout: .blocked)
    fixture.arena.zeroGradients()
    fixture.conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
    #expect(fixture.conv.forwardImplementation.hasPrefix("jdrl_wino_4x3"))
    let analyticInput = gSrc.plainValues()
    let inputReport = GradientCheck.check(values: &input, analytic: analyticInput, probes: 40, step: 1e-2,
                                          floor: 0.05 * maxAbs(analyticInput)) { x in
        src.load(plain: x); return loss()
    }
    #expect(inputReport.maxRelativeError < 1e-2, "\(inputReport)")
    src.load(plain: input)
    let s = fixture.shape
    let weightReport = GradientCheck.check(values: fixture.arena.values, analytic: fixture.arena.gradients, count: s.weightCount,
                                           probes: 40, step: 1e-2, floor: 0.05 * maxAbs(fixture.gradients), loss: loss)
    #expect(weightReport.maxRelativeError < 1e-2, "\(weightReport)")
    let biasReport = GradientCheck.check(values: fixture.arena.values + s.weightCount, analytic: fixture.arena.gradients + s.weightCount,
                                         count: s.outChannels, probes: s.outChannels, step: 1e-2,
                                         floor: 0.05 * maxAbs(fixture.gradients), loss: loss)
    #expect(biasReport.maxRelativeError < 1e-2, "\(biasReport)")
    // The check can fail: a gradient 10% off is caught.
    let broken = GradientCheck.check(values: &input, analytic: analyticInput.map { $0 * 1.1 }, probes: 40, step: 1e-2,
                                     floor: 0.05 * maxAbs(analyticInput)) { x in
        src.load(plain: x); return loss()
    }
    #expect(broken.maxRelativeError > 0.05)
}

@Test("The platform's rule: own Winograd exactly where oneDNN has none, for big enough 3x3 layers only")
func ownWinogradRule() {
    let platform = Engine.shared.platform
    #expect(platform.ownWinograd == (!platform.winograd && platform.channelBlock % 4 == 0))
    let big = WinogradCase(cin: 64, cout: 64, n: 1, h: 64, w: 64, relu: true)
    let fixture = ConvFixture(.conv3x3(big.cin, big.cout), relu: true, seed: 3)
    let src = Tensor(n: 1, c: 64, h: 64, w: 64, layout: .blocked), dst = Tensor(n: 1, c: 64, h: 64, w: 64, layout: .blocked)
    fixture.conv.forward(src: src, dst: dst)
    #expect(fixture.conv.forwardImplementation.hasPrefix("jdrl_wino_4x3") == platform.ownWinograd, "\(fixture.conv.forwardImplementation)")
    // Too few channels or too small an image: oneDNN's convolution on every CPU (the rule); not 3x3:
    // oneDNN's even when forced.
    for (shape, side, forced) in [(ConvShape.conv3x3(32, 32), 64, false), (.conv3x3(64, 64), 16, false), (.samePad2x2(64, 64), 64, true)] {
        let small = ConvFixture(shape, seed: 5)
        if forced { small.conv.ownWinogradOverride = true }
        let s = Tensor(n: 1, c: shape.inChannels, h: side, w: side, layout: .blocked)
        let d = Tensor(n: 1, c: shape.outChannels, h: shape.outputHeight(side), w: shape.outputWidth(side), layout: .blocked)
        small.conv.forward(src: s, dst: d)
        #expect(!small.conv.forwardImplementation.hasPrefix("jdrl_wino"), "\(shape) at \(side): \(small.conv.forwardImplementation)")
    }
}
