// Charbonnier: JDRL's conventions (eps 1e-3, masked-out elements still counted) and its gradient.

import Testing
import Tensors

private func charbonnier(_ a: [Float], _ b: [Float], mask: [Float]?, eps: Float = 1e-3) -> Double {
    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
        if let mask {
            return mask.withUnsafeBufferPointer { Charbonnier.loss(pa.baseAddress!, pb.baseAddress!, mask: $0.baseAddress!, count: a.count, eps: eps) }
        }
        return Charbonnier.loss(pa.baseAddress!, pb.baseAddress!, mask: nil, count: a.count, eps: eps)
    } }
}

@Test func charbonnierFollowsJDRLConventions() {
    // Equal inputs cost eps each (eps = 1e-3 by default, not BasicSR's 1e-12).
    let a: [Float] = [0.2, 0.4, 0.6, 0.8]
    #expect(abs(charbonnier(a, a, mask: nil) - 1e-3) < 1e-10)      // eps is a Float: 1e-3 to 5e-11
    // Differences 0.3 and 0.4 and two masked-out elements: the mean is over all four elements.
    let b: [Float] = [0.5, 0.0, 0.9, 0.1]
    let mask: [Float] = [1, 1, 0, 0]
    let expected = ((0.09 + 1e-6).squareRoot() + (0.16 + 1e-6).squareRoot() + 2e-3) / 4
    #expect(abs(charbonnier(a, b, mask: mask) - expected) < 1e-7)
    // A large count (several parallel chunks) still gives the plain mean.
    let big = [Float](repeating: 0.5, count: 100_003), zero = [Float](repeating: 0, count: 100_003)
    #expect(abs(charbonnier(big, zero, mask: nil) - (0.25 + 1e-6).squareRoot()) < 1e-9)
}

@Test(arguments: [false, true])
func charbonnierGradientMatchesFiniteDifferences(masked: Bool) {
    let count = 40
    var rng = SeededGenerator(seed: masked ? 21 : 22)
    var a = randomBuffer(count, in: 0...1, &rng)
    let b = randomBuffer(count, in: 0...1, &rng)
    let mask: [Float]? = masked ? (0..<count).map { _ in Float.random(in: 0...1, using: &rng) < 0.6 ? 1 : 0 } : nil
    let scale: Float = 0.5
    var gradA = [Float](repeating: 1, count: count), gradB = [Float](repeating: -1, count: count)
    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in gradA.withUnsafeMutableBufferPointer { ga in gradB.withUnsafeMutableBufferPointer { gb in
        if let mask {
            mask.withUnsafeBufferPointer { Charbonnier.backward(pa.baseAddress!, pb.baseAddress!, mask: $0.baseAddress!, count: count, scale: scale, gradA: ga.baseAddress!, gradB: gb.baseAddress!) }
        } else {
            Charbonnier.backward(pa.baseAddress!, pb.baseAddress!, mask: nil, count: count, scale: scale, gradA: ga.baseAddress!, gradB: gb.baseAddress!)
        }
    } } } }
    let numeric = centralDifference(&a, at: Array(0..<count), step: 1e-3) { Double(scale) * charbonnier($0, b, mask: mask) }
    let analyticA = gradA.map { Double($0) - 1 }, analyticB = gradB.map { Double($0) + 1 }
    #expect(worstGradientMismatch(analytic: analyticA, numeric: numeric, absoluteFloor: 1e-4) < 1e-3)
    #expect(zip(analyticA, analyticB).allSatisfy { abs($0 + $1) < 1e-6 })
    if let mask { #expect(zip(mask, analyticA).allSatisfy { $0 == 1 || $1 == 0 }) }
}
