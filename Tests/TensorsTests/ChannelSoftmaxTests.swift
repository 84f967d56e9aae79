// ChannelSoftmax against a Double reference, its stability on large logits, and finite differences.

import Foundation
import Testing
import Tensors

private func softmax(_ input: [Float], n: Int, c: Int, h: Int, w: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: input.count)
    input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { ChannelSoftmax.forward(input: i.baseAddress!, output: $0.baseAddress!, n: n, c: c, h: h, w: w) } }
    return out
}

@Test func channelSoftmaxMatchesDoubleReference() {
    let n = 2, c = 8, h = 5, w = 7, plane = h * w
    var rng = SeededGenerator(seed: 11)
    let input = randomBuffer(n * c * plane, in: -4...4, &rng)
    let out = softmax(input, n: n, c: c, h: h, w: w)
    for b in 0..<n { for p in 0..<plane {
        let logits = (0..<c).map { Double(input[(b * c + $0) * plane + p]) }
        let z = logits.map { exp($0) }.reduce(0, +)
        for i in 0..<c { #expect(abs(Double(out[(b * c + i) * plane + p]) - exp(logits[i]) / z) < 1e-6) }
    } }
}

@Test func channelSoftmaxIsStableForLargeLogits() {
    // exp(1000) overflows Float: without subtracting the maximum this gives NaN.
    // NCHW with c = 2, h = 1, w = 2: pixel 0 has logits (1000, -1000), pixel 1 has (999, 1000).
    let input: [Float] = [1000, 999, -1000, 1000]
    let out = softmax(input, n: 1, c: 2, h: 1, w: 2)
    #expect(out[0] == 1 && out[2] == 0)
    #expect(abs(out[1] - Float(1 / (1 + exp(1.0)))) < 1e-6)
    #expect(abs(out[3] - Float(1 / (1 + exp(-1.0)))) < 1e-6)
}

@Test func channelSoftmaxGradientMatchesFiniteDifferences() {
    let n = 2, c = 8, h = 3, w = 4
    var rng = SeededGenerator(seed: 12)
    var input = randomBuffer(n * c * h * w, in: -2...2, &rng)
    let gradOutput = randomBuffer(input.count, in: -1...1, &rng)
    let out = softmax(input, n: n, c: c, h: h, w: w)
    var gradInput = [Float](repeating: 0.25, count: input.count)    // backward accumulates onto this
    out.withUnsafeBufferPointer { o in gradOutput.withUnsafeBufferPointer { g in gradInput.withUnsafeMutableBufferPointer {
        ChannelSoftmax.backward(output: o.baseAddress!, gradOutput: g.baseAddress!, gradInput: $0.baseAddress!, n: n, c: c, h: h, w: w)
    } } }
    let numeric = centralDifference(&input, at: Array(0..<input.count), step: 1e-2) { v in
        zip(softmax(v, n: n, c: c, h: h, w: w), gradOutput).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    let analytic = gradInput.map { Double($0) - 0.25 }
    #expect(worstGradientMismatch(analytic: analytic, numeric: numeric, absoluteFloor: 1e-2) < 1e-2)
}
