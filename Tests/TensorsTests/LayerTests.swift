// Eltwise, pooling, upsampling, concat, residual add and dropout: against naive references and by
// finite differences (each layer's backward checked against its own forward).
import Foundation
import Testing
import Tensors

/// Checks a layer's input gradient: loss = sum(forward(x) * probe), analytic gradient = backward(probe).
func checkInputGradient(n: Int, c: Int, h: Int, w: Int, outShape: (Int, Int, Int, Int), layout: Layout, seed: UInt64,
                        input: [Float]? = nil, step: Float = 1e-2,
                        forward: (Tensor, Tensor) -> Void, backward: (Tensor, Tensor) -> Void) -> GradientCheckReport {
    var x = input ?? randomValues(n * c * h * w, seed: seed)
    let (on, oc, oh, ow) = outShape
    let probe = randomValues(on * oc * oh * ow, seed: seed + 1)
    let src = tensor(x, n: n, c: c, h: h, w: w, layout: layout)
    let dst = Tensor(n: on, c: oc, h: oh, w: ow, layout: layout)
    forward(src, dst)
    let gDst = tensor(probe, n: on, c: oc, h: oh, w: ow, layout: layout)
    let gSrc = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    backward(gDst, gSrc)
    let analytic = gSrc.plainValues()
    return GradientCheck.check(values: &x, analytic: analytic, probes: 48, step: step, floor: 0.05 * max(maxAbs(analytic), 1e-3)) { values in
        src.load(plain: values)
        forward(src, dst)
        let out = dst.plainValues()
        return GradientCheck.weightedSum(out, probe, count: out.count)
    }
}

@Test("ReLU and sigmoid match their formulas and their gradients", arguments: [Activation.relu, .sigmoid], [Layout.plain, .blocked])
func eltwise(_ kind: Activation, _ layout: Layout) {
    let input = randomValues(2 * 5 * 4 * 3, seed: 11, scale: 3)
    let src = tensor(input, n: 2, c: 5, h: 4, w: 3, layout: layout)
    let dst = Tensor(n: 2, c: 5, h: 4, w: 3, layout: layout)
    Eltwise.forward(kind, src: src, dst: dst)
    let expected = input.map { kind == .relu ? max($0, 0) : 1 / (1 + exp(-$0)) }
    #expect(maxRelativeDifference(dst.plainValues(), expected) < 1e-6)
    // Keep inputs away from ReLU's kink so the finite difference is well defined.
    let safe = input.map { abs($0) < 0.05 ? $0 + 0.1 : $0 }
    let report = checkInputGradient(n: 2, c: 5, h: 4, w: 3, outShape: (2, 5, 4, 3), layout: layout, seed: 12, input: safe,
                                    forward: { Eltwise.forward(kind, src: $0, dst: $1) },
                                    backward: { gDst, gSrc in Eltwise.backward(kind, dst: dst, gradDst: gDst, gradSrc: gSrc) })
    #expect(report.maxRelativeError < 1e-2, "\(report)")
}

@Test("Max-pool 2x2 matches naive loops; backward routes the gradient to each window's max")
func maxPool() {
    let (n, c, h, w) = (1, 20, 6, 8)
    // Distinct values 0.01 apart (shuffled): a 1e-3 finite-difference step never changes a window's max.
    var generator = Tensors.SeededGenerator(seed: 21)
    let input = (0..<(n * c * h * w)).map { Float($0) * 0.01 - 4.8 }.shuffled(using: &generator)
    let pool = MaxPool2x2()
    let src = tensor(input, n: n, c: c, h: h, w: w, layout: .blocked)
    let dst = Tensor(n: n, c: c, h: h / 2, w: w / 2, layout: .blocked)
    pool.forward(src: src, dst: dst)
    #expect(maxRelativeDifference(dst.plainValues(), NaiveReference.maxPool2x2(input, n: n, c: c, h: h, w: w)) == 0)
    #expect(pool.workspace != nil)
    let report = checkInputGradient(n: n, c: c, h: h, w: w, outShape: (n, c, h / 2, w / 2), layout: .blocked, seed: 22, input: input,
                                    step: 1e-3, forward: { pool.forward(src: $0, dst: $1) },
                                    backward: { pool.backward(gradDst: $0, gradSrc: $1) })
    #expect(report.maxRelativeError < 1e-2, "\(report)")
}

@Test("Nearest x2 upsampling matches naive loops and its gradient sums 2x2 blocks")
func upsample() {
    let (n, c, h, w) = (2, 17, 3, 4)
    let input = randomValues(n * c * h * w, seed: 31)
    let src = tensor(input, n: n, c: c, h: h, w: w, layout: .blocked)
    let dst = Tensor(n: n, c: c, h: 2 * h, w: 2 * w, layout: .blocked)
    Upsample2x.forward(src: src, dst: dst)
    #expect(dst.plainValues() == NaiveReference.upsampleNearest2x(input, n: n, c: c, h: h, w: w))
    let report = checkInputGradient(n: n, c: c, h: h, w: w, outShape: (n, c, 2 * h, 2 * w), layout: .blocked, seed: 32,
                                    forward: { Upsample2x.forward(src: $0, dst: $1) },
                                    backward: { Upsample2x.backward(gradDst: $0, gradSrc: $1) })
    #expect(report.maxRelativeError < 1e-2, "\(report)")
}

@Test("Channel concat places [first, second] and its backward splits (aligned and padded blocks)",
      arguments: [(16, 32), (8, 8), (5, 3)])
func concat(_ channels: (Int, Int)) {
    let (ca, cb) = channels
    let (n, h, w) = (2, 3, 5)
    let va = randomValues(n * ca * h * w, seed: 41), vb = randomValues(n * cb * h * w, seed: 42)
    let a = tensor(va, n: n, c: ca, h: h, w: w, layout: .blocked), b = tensor(vb, n: n, c: cb, h: h, w: w, layout: .blocked)
    let out = Tensor(n: n, c: ca + cb, h: h, w: w, layout: .blocked)
    ChannelConcat.forward(a, b, into: out)
    let plane = h * w
    var expected: [Float] = []
    for ni in 0..<n {
        expected += va[(ni * ca * plane)..<((ni + 1) * ca * plane)]
        expected += vb[(ni * cb * plane)..<((ni + 1) * cb * plane)]
    }
    #expect(out.plainValues() == expected)
    let ga = Tensor(n: n, c: ca, h: h, w: w, layout: .blocked), gb = Tensor(n: n, c: cb, h: h, w: w, layout: .blocked)
    ChannelConcat.backward(gradOut: out, gradFirst: ga, gradSecond: gb)
    #expect(ga.plainValues() == va && gb.plainValues() == vb)
    ChannelConcat.backward(gradOut: out, gradFirst: ga, gradSecond: gb, accumulate: true)
    #expect(ga.plainValues() == va.map { 2 * $0 })
}

@Test("Residual add and gradient accumulation")
func residualAdd() {
    let va = randomValues(1 * 16 * 4 * 4, seed: 51), vb = randomValues(1 * 16 * 4 * 4, seed: 52)
    let a = tensor(va, n: 1, c: 16, h: 4, w: 4, layout: .blocked), b = tensor(vb, n: 1, c: 16, h: 4, w: 4, layout: .blocked)
    let out = Tensor(n: 1, c: 16, h: 4, w: 4, layout: .blocked)
    Elementwise.add(a, b, into: out)
    #expect(out.plainValues() == zip(va, vb).map { $0 + $1 })
    Elementwise.accumulate(a, into: out)
    #expect(maxRelativeDifference(out.plainValues(), zip(va, vb).map { 2 * $0 + $1 }) < 1e-6)
}

@Test("Dropout drops about p of the values, scales the rest by 1/(1-p), repeats with a seed, and backpropagates through its mask")
func dropout() {
    let (n, c, h, w) = (1, 32, 16, 16)
    let input = randomValues(n * c * h * w, seed: 61).map { $0 + 2 }   // strictly positive
    let src = tensor(input, n: n, c: c, h: h, w: w, layout: .blocked)
    let dst = Tensor(n: n, c: c, h: h, w: w, layout: .blocked)
    let layer = Dropout(probability: 0.4, seed: 5)
    layer.forward(src: src, dst: dst, training: true)
    let out = dst.plainValues()
    let dropped = Double(out.filter { $0 == 0 }.count) / Double(out.count)
    #expect(abs(dropped - 0.4) < 0.03)
    #expect(zip(out, input).allSatisfy { o, x in o == 0 || abs(o - x / 0.6) < 1e-5 })
    let again = Dropout(probability: 0.4, seed: 5)
    let dst2 = Tensor(n: n, c: c, h: h, w: w, layout: .blocked)
    again.forward(src: src, dst: dst2, training: true)
    #expect(dst2.plainValues() == out)
    layer.forward(src: src, dst: dst2, training: false)
    #expect(dst2.plainValues() == input)
    // Backward with the mask of the last training forward (re-run it: the eval call kept no mask change).
    layer.forward(src: src, dst: dst, training: true)
    let report = checkInputGradient(n: n, c: c, h: h, w: w, outShape: (n, c, h, w), layout: .blocked, seed: 62,
                                    forward: { s, d in
                                        // Finite differences need a fixed mask: reuse the stored one.
                                        let m = layer.mask!
                                        for i in 0..<d.storageCount { d.pointer[i] = s.pointer[i] * m.pointer[i] }
                                    },
                                    backward: { layer.backward(gradDst: $0, gradSrc: $1) })
    #expect(report.maxRelativeError < 1e-2, "\(report)")
}

@Test("Dropout draws a mask in the new layout when only the layout changes, as if the layout had never been another")
func dropoutFollowsALayoutChange() {
    // 16 channels: plain and blocked hold the same number of floats, so only the layout tells them apart.
    let (n, c, h, w) = (1, 16, 4, 4)
    let input = randomValues(n * c * h * w, seed: 63).map { $0 + 2 }   // strictly positive
    let ones = [Float](repeating: 1, count: input.count)
    func run(_ layer: Dropout, _ layout: Layout) -> (out: [Float], gradient: [Float]) {
        let dst = Tensor(n: n, c: c, h: h, w: w, layout: layout), gradSrc = Tensor(n: n, c: c, h: h, w: w, layout: layout)
        layer.forward(src: tensor(input, n: n, c: c, h: h, w: w, layout: layout), dst: dst, training: true)
        layer.backward(gradDst: tensor(ones, n: n, c: c, h: h, w: w, layout: layout), gradSrc: gradSrc)
        return (dst.plainValues(), gradSrc.plainValues())
    }
    let switching = Dropout(probability: 0.5, seed: 9), steady = Dropout(probability: 0.5, seed: 9)
    #expect(run(switching, .plain) == run(steady, .plain))
    // The second forward draws the same values in both (one per logical element, in logical order),
    // so the blocked output and gradient must be the plain ones.
    let blocked = run(switching, .blocked), plain = run(steady, .plain)
    #expect(blocked.out == plain.out && blocked.gradient == plain.gradient)
}

@Test("Dropout skipping k training forwards draws the mask of forward k+1")
func dropoutSkipsForwards() {
    let (n, c, h, w) = (2, 5, 3, 4)
    let src = tensor(randomValues(n * c * h * w, seed: 64).map { $0 + 2 }, n: n, c: c, h: h, w: w, layout: .blocked)
    let drawn = Dropout(probability: 0.4, seed: 3), skipped = Dropout(probability: 0.4, seed: 3)
    let a = Tensor(n: n, c: c, h: h, w: w, layout: .blocked), b = Tensor(n: n, c: c, h: h, w: w, layout: .blocked)
    for _ in 0..<3 { drawn.forward(src: src, dst: a, training: true) }
    skipped.skipTrainingForwards(2, elements: n * c * h * w)
    skipped.forward(src: src, dst: b, training: true)
    #expect(a.plainValues() == b.plainValues())
}
