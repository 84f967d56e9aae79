// Conv2D (oneDNN) against naive loops, and by finite differences.
import Testing
import Tensors

struct ConvCase: CustomStringConvertible, Sendable {
    var shape: ConvShape, n: Int, h: Int, w: Int, src: Layout, dst: Layout
    var description: String { "\(shape) \(n)x\(h)x\(w) \(src)->\(dst)" }
}

let convCases: [ConvCase] = [
    ConvCase(shape: .conv3x3(16, 32), n: 2, h: 7, w: 6, src: .blocked, dst: .blocked),
    ConvCase(shape: .conv3x3(3, 16), n: 1, h: 8, w: 8, src: .plain, dst: .blocked),     // network input edge
    ConvCase(shape: .conv3x3(16, 3), n: 1, h: 8, w: 8, src: .blocked, dst: .plain),     // head edge
    ConvCase(shape: .conv3x3(8, 8), n: 1, h: 6, w: 5, src: .blocked, dst: .blocked),    // padded channel block
    ConvCase(shape: .samePad2x2(32, 16), n: 1, h: 8, w: 8, src: .blocked, dst: .blocked),
    ConvCase(shape: .conv1x1(16, 16), n: 2, h: 5, w: 5, src: .blocked, dst: .blocked),
    // NAFNet's layers: depthwise 3x3 (a whole and a partial channel block), grouped, 2x2 stride 2.
    ConvCase(shape: .depthwise3x3(32), n: 2, h: 7, w: 6, src: .blocked, dst: .blocked),
    ConvCase(shape: .depthwise3x3(24), n: 1, h: 5, w: 9, src: .blocked, dst: .blocked),
    ConvCase(shape: ConvShape(inChannels: 16, outChannels: 32, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1,
                              padRight: 1, groups: 2), n: 1, h: 6, w: 6, src: .blocked, dst: .blocked),
    ConvCase(shape: .down2x2(16, 32), n: 2, h: 8, w: 6, src: .blocked, dst: .blocked),
]

@Test("Depthwise and strided convolutions run oneDNN kernels, not its reference loops", arguments: [ConvShape.depthwise3x3(64), .down2x2(32, 64)])
func nafnetConvolutionsAreFast(_ s: ConvShape) {
    let fixture = ConvFixture(s, seed: 9)
    let src = Tensor(n: 1, c: s.inChannels, h: 32, w: 32, layout: .blocked)
    let dst = Tensor(n: 1, c: s.outChannels, h: s.outputHeight(32), w: s.outputWidth(32), layout: .blocked)
    fixture.conv.forward(src: src, dst: dst)
    fixture.conv.backward(src: src, dst: dst, gradDst: dst, gradSrc: Tensor(n: 1, c: s.inChannels, h: 32, w: 32, layout: .blocked))
    #expect(fixture.conv.implementations.count == 3 && fixture.conv.implementations.allSatisfy { !$0.hasPrefix("ref") },
            "\(s): \(fixture.conv.implementations)")
}

@Test("Conv2D forward and backward match naive loops", arguments: convCases)
func convMatchesNaive(_ c: ConvCase) {
    let s = c.shape
    let fixture = ConvFixture(s, seed: 1)
    let input = randomValues(c.n * s.inChannels * c.h * c.w, seed: 2)
    let oh = s.outputHeight(c.h), ow = s.outputWidth(c.w)
    let gradOut = randomValues(c.n * s.outChannels * oh * ow, seed: 3)
    let src = tensor(input, n: c.n, c: s.inChannels, h: c.h, w: c.w, layout: c.src)
    let dst = Tensor(n: c.n, c: s.outChannels, h: oh, w: ow, layout: c.dst)
    fixture.conv.forward(src: src, dst: dst)
    let expected = NaiveReference.convForward(input, n: c.n, h: c.h, w: c.w, shape: s, parameters: fixture.parameters)
    #expect(maxRelativeDifference(dst.plainValues(), expected) < 1e-5)

    let gDst = tensor(gradOut, n: c.n, c: s.outChannels, h: oh, w: ow, layout: c.dst)
    let gSrc = Tensor(n: c.n, c: s.inChannels, h: c.h, w: c.w, layout: c.src)
    // Pre-existing gradient must be accumulated into, not overwritten.
    fixture.arena.gradients.update(repeating: 1, count: fixture.arena.count)
    fixture.conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
    let (gi, gp) = NaiveReference.convBackward(input, n: c.n, h: c.h, w: c.w, shape: s, parameters: fixture.parameters, gradOut: gradOut)
    #expect(maxRelativeDifference(gSrc.plainValues(), gi) < 1e-5)
    #expect(maxRelativeDifference(fixture.gradients, gp.map { $0 + 1 }) < 1e-5)
}

// Finite differences on the linear convolution (ReLU kinks would make central differences wrong for
// a few coordinates; the fused-ReLU path is checked against naive loops above, ReLU's own gradient
// by finite differences in LayerTests).
@Test("Conv2D passes finite-difference checks for input and parameters", arguments: [ConvShape.conv3x3(16, 16), .depthwise3x3(16), .down2x2(16, 16)])
func convGradientCheck(_ s: ConvShape) {
    let n = 1, h = 6, w = 6, oh = s.outputHeight(h), ow = s.outputWidth(w)
    let fixture = ConvFixture(s, relu: false, seed: 4)
    var input = randomValues(n * 16 * h * w, seed: 5)
    let probe = randomValues(n * 16 * oh * ow, seed: 6)
    let src = tensor(input, n: n, c: 16, h: h, w: w, layout: .blocked)
    let dst = Tensor(n: n, c: 16, h: oh, w: ow, layout: .blocked)
    func loss() -> Double {
        fixture.conv.forward(src: src, dst: dst)
        let out = dst.plainValues()
        return GradientCheck.weightedSum(out, probe, count: out.count)
    }
    _ = loss()
    let gDst = tensor(probe, n: n, c: 16, h: oh, w: ow, layout: .blocked)
    let gSrc = Tensor(n: n, c: 16, h: h, w: w, layout: .blocked)
    fixture.conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
    let analyticInput = gSrc.plainValues()
    let inputReport = GradientCheck.check(values: &input, analytic: analyticInput, probes: 40, step: 1e-2,
                                                floor: 0.05 * maxAbs(analyticInput)) { x in
        src.load(plain: x); return loss()
    }
    #expect(inputReport.maxRelativeError < 1e-2, "\(inputReport)")
    src.load(plain: input)
    let parameterReport = GradientCheck.check(values: fixture.arena.values, analytic: fixture.arena.gradients,
                                              count: fixture.arena.count, probes: 40, step: 1e-2,
                                              floor: 0.05 * maxAbs(fixture.gradients), loss: loss)
    #expect(parameterReport.maxRelativeError < 1e-2, "\(parameterReport)")
    // The check must be able to fail: a wrong gradient is caught.
    let wrong = analyticInput.map { $0 * 1.1 }
    let broken = GradientCheck.check(values: &input, analytic: wrong, probes: 40, step: 1e-2,
                                     floor: 0.05 * maxAbs(analyticInput)) { x in
        src.load(plain: x); return loss()
    }
    #expect(broken.maxRelativeError > 0.05)
}

/// A fused-ReLU convolution below 32x32 (always direct) or from it (Winograd where the CPU has it).
struct ReLUConvCase: CustomStringConvertible, Sendable {
    var cin: Int, cout: Int, n: Int, h: Int, w: Int, winogradSize: Bool
    var description: String { "\(cin)->\(cout) \(n)x\(h)x\(w)" }
    /// Whether the implementation must be Winograd on this CPU (never one CPU's exact string).
    var expectsWinograd: Bool { winogradSize && Engine.shared.platform.winograd }
}

@Test("Conv2D with fused ReLU matches naive conv + ReLU, forward and backward (direct, and Winograd where the CPU has it)",
      arguments: [ReLUConvCase(cin: 16, cout: 16, n: 1, h: 6, w: 6, winogradSize: false),
                  ReLUConvCase(cin: 16, cout: 32, n: 2, h: 33, w: 40, winogradSize: true)])
func convReLUMatchesNaive(_ c: ReLUConvCase) {
    let s = ConvShape.conv3x3(c.cin, c.cout)
    let (n, h, w) = (c.n, c.h, c.w)
    let fixture = ConvFixture(s, relu: true, seed: 4)
    let input = randomValues(n * c.cin * h * w, seed: 5)
    let probe = randomValues(n * c.cout * h * w, seed: 6)
    let src = tensor(input, n: n, c: c.cin, h: h, w: w, layout: .blocked)
    let dst = Tensor(n: n, c: c.cout, h: h, w: w, layout: .blocked)
    fixture.conv.forward(src: src, dst: dst)
    let implementation = fixture.conv.forwardImplementation
    #expect(!implementation.hasPrefix("ref") && implementation.contains("wino") == c.expectsWinograd, "\(implementation)")
    let z = NaiveReference.convForward(input, n: n, h: h, w: w, shape: s, parameters: fixture.parameters)
    #expect(maxRelativeDifference(dst.plainValues(), z.map { max($0, 0) }) < 1e-5)
    let gDst = tensor(probe, n: n, c: c.cout, h: h, w: w, layout: .blocked)
    let gSrc = Tensor(n: n, c: c.cin, h: h, w: w, layout: .blocked)
    fixture.conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
    let masked = zip(probe, z).map { $1 > 0 ? $0 : 0 }
    let (gi, gp) = NaiveReference.convBackward(input, n: n, h: h, w: w, shape: s, parameters: fixture.parameters, gradOut: masked)
    #expect(maxRelativeDifference(gSrc.plainValues(), gi) < 1e-5)
    #expect(maxRelativeDifference(fixture.gradients, gp) < 1e-5)
}

@Test("The primitive cache reuses primitives for a repeated shape")
func primitiveCacheReuse() {
    let fixture = ConvFixture(.conv3x3(16, 16), seed: 7)
    let src = Tensor(n: 1, c: 16, h: 9, w: 9, layout: .blocked)
    let dst = Tensor(n: 1, c: 16, h: 9, w: 9, layout: .blocked)
    fixture.conv.forward(src: src, dst: dst)
    // Identity, not the engine's global count: other suites create primitives in parallel.
    let first = fixture.conv.forwardPrimitive
    let other = ConvFixture(.conv3x3(16, 16), seed: 8)
    other.conv.forward(src: src, dst: dst)
    fixture.conv.forward(src: src, dst: dst)
    #expect(first != nil && other.conv.forwardPrimitive === first)
    #expect(fixture.conv.forwardPrimitive === first)
    #expect(!fixture.conv.forwardImplementation.hasPrefix("ref"), "\(fixture.conv.forwardImplementation)")
}
