// IsotropicBlur (fast ring sums) against its naive tap-by-tap oracle, hand-computed kernels,
// finite differences, and values exported from PyTorch (Fixtures/make_reblur_fixture.py).

import Foundation
import Testing
import Tensors

/// Random inputs for one blur call: image in [0,1], seeds of both signs away from 0 (|.| has a kink
/// there), weights softmaxed over the 8 branches.
struct BlurCase {
    let n: Int, h: Int, w: Int
    var image: [Float], seeds: [Float], weights: [Float], gradOutput: [Float]

    init(n: Int, h: Int, w: Int, seed: UInt64) {
        self.n = n; self.h = h; self.w = w
        var rng = SeededGenerator(seed: seed)
        let plane = h * w
        image = randomBuffer(n * 3 * plane, in: 0...1, &rng)
        seeds = (0..<(n * 35 * plane)).map { _ in
            let magnitude = Float.random(in: 0.2...3, using: &rng)
            return Bool.random(using: &rng) ? magnitude : -magnitude
        }
        let logits = randomBuffer(n * 8 * plane, in: -2...2, &rng)
        var softmaxed = [Float](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { l in
            softmaxed.withUnsafeMutableBufferPointer { ChannelSoftmax.forward(input: l.baseAddress!, output: $0.baseAddress!, n: n, c: 8, h: h, w: w) }
        }
        weights = softmaxed
        gradOutput = randomBuffer(n * 3 * plane, in: -1...1, &rng)
    }

    func forward(naive: Bool) -> [Float] {
        var out = [Float](repeating: .nan, count: n * 3 * h * w)
        image.withUnsafeBufferPointer { i in seeds.withUnsafeBufferPointer { s in weights.withUnsafeBufferPointer { wt in
            out.withUnsafeMutableBufferPointer { o in
                if naive {
                    IsotropicBlurNaive.forward(image: i.baseAddress!, seeds: s.baseAddress!, weights: wt.baseAddress!, output: o.baseAddress!, n: n, h: h, w: w)
                } else {
                    IsotropicBlur.forward(image: i.baseAddress!, seeds: s.baseAddress!, weights: wt.baseAddress!, output: o.baseAddress!, n: n, h: h, w: w)
                }
            }
        } } }
        return out
    }

    /// Gradients accumulated onto the given starting values (zero by default).
    func backward(naive: Bool, start: Float = 0) -> (image: [Float], seeds: [Float], weights: [Float]) {
        var gImage = [Float](repeating: start, count: image.count)
        var gSeeds = [Float](repeating: start, count: seeds.count)
        var gWeights = [Float](repeating: start, count: weights.count)
        image.withUnsafeBufferPointer { i in seeds.withUnsafeBufferPointer { s in weights.withUnsafeBufferPointer { wt in
            gradOutput.withUnsafeBufferPointer { go in
                gImage.withUnsafeMutableBufferPointer { gi in gSeeds.withUnsafeMutableBufferPointer { gs in
                    gWeights.withUnsafeMutableBufferPointer { gw in
                        if naive {
                            IsotropicBlurNaive.backward(image: i.baseAddress!, seeds: s.baseAddress!, weights: wt.baseAddress!, gradOutput: go.baseAddress!,
                                                        gradImage: gi.baseAddress!, gradSeeds: gs.baseAddress!, gradWeights: gw.baseAddress!, n: n, h: h, w: w)
                        } else {
                            IsotropicBlur.backward(image: i.baseAddress!, seeds: s.baseAddress!, weights: wt.baseAddress!, gradOutput: go.baseAddress!,
                                                   gradImage: gi.baseAddress!, gradSeeds: gs.baseAddress!, gradWeights: gw.baseAddress!, n: n, h: h, w: w)
                        }
                    }
                } }
            }
        } } }
        return (gImage, gSeeds, gWeights)
    }

    /// sum(gradOutput * output) in Double: the scalar whose gradient backward computes.
    func loss() -> Double {
        zip(forward(naive: false), gradOutput).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
}

@Test(arguments: [(2, 11, 13, UInt64(1)), (1, 37, 42, UInt64(2)), (1, 1, 20, UInt64(3))])
func fastBlurMatchesNaiveOracle(n: Int, h: Int, w: Int, seed: UInt64) {
    let blurCase = BlurCase(n: n, h: h, w: w, seed: seed)
    let fastOut = blurCase.forward(naive: false), naiveOut = blurCase.forward(naive: true)
    #expect(relativeError(fastOut, naiveOut) < 1e-5, "forward")
    let fast = blurCase.backward(naive: false), naive = blurCase.backward(naive: true)
    #expect(relativeError(fast.image, naive.image) < 1e-5, "gradImage")
    #expect(relativeError(fast.seeds, naive.seeds) < 1e-5, "gradSeeds")
    #expect(relativeError(fast.weights, naive.weights) < 1e-5, "gradWeights")
}

@Test func blurBackwardAccumulates() {
    let blurCase = BlurCase(n: 1, h: 9, w: 8, seed: 4)
    let fresh = blurCase.backward(naive: false), onTop = blurCase.backward(naive: false, start: 0.5)
    #expect(relativeError(onTop.image.map { $0 - 0.5 }, fresh.image, floor: 1) < 1e-6)
    #expect(relativeError(onTop.seeds.map { $0 - 0.5 }, fresh.seeds, floor: 1) < 1e-6)
    #expect(relativeError(onTop.weights.map { $0 - 0.5 }, fresh.weights, floor: 1) < 1e-6)
}

/// A constant image far from the borders is left unchanged: every kernel sums to 1 and the
/// branch weights sum to 1.
@Test func constantImageIsUnchangedAwayFromBorders() {
    var blurCase = BlurCase(n: 1, h: 31, w: 33, seed: 5)
    blurCase.image = [Float](repeating: 0.625, count: blurCase.image.count)
    for naive in [true, false] {
        let out = blurCase.forward(naive: naive)
        for c in 0..<3 { for y in 7..<24 { for x in 7..<26 {
            #expect(abs(out[c * 31 * 33 + y * 33 + x] - 0.625) < 1e-6)
        } } }
    }
}

/// A delta image through one branch reproduces that branch's kernel, checked against the closed form
/// for K = 3 (centre a0, edges a1, corners outside the disc with logit 0) and K = 5 (diagonal
/// neighbour interpolated at sqrt 2, knight move at sqrt 5 outside the disc).
@Test(arguments: [0, 1])
func deltaImageGivesClosedFormKernel(branch: Int) {
    let h = 21, w = 21, plane = h * w, cy = 10, cx = 10
    var blurCase = BlurCase(n: 1, h: h, w: w, seed: 6)
    blurCase.image = [Float](repeating: 0, count: 3 * plane)
    for c in 0..<3 { blurCase.image[c * plane + cy * w + cx] = 1 }
    // Same seeds at every pixel (signs must not matter), all weight on one blur branch.
    let radial: [Float] = [-1.5, 0.75, 2.0, -0.25, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                           1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    for s in 0..<35 { for p in 0..<plane { blurCase.seeds[s * plane + p] = radial[s] } }
    for m in 0..<8 { for p in 0..<plane { blurCase.weights[m * plane + p] = m == branch + 1 ? 1 : 0 } }
    // The kernel value at tap t appears at output pixel delta - t; the kernel is symmetric.
    func expected(_ dy: Int, _ dx: Int) -> Double {
        if branch == 0 {
            let a0 = 1.5, a1 = 0.75
            let z = exp(a0) + 4 * exp(a1) + 4
            let d2 = dy * dy + dx * dx
            return (d2 == 0 ? exp(a0) : d2 == 1 ? exp(a1) : d2 == 2 ? 1 : 0) / z
        }
        let a0 = 2.0, a1 = 0.25, a2 = 0.5
        let diagonal = Double(Float(2 - 2.0.squareRoot())) * a1 + Double(Float(2.0.squareRoot() - 1)) * a2
        let z = exp(a0) + 4 * exp(a1) + 4 * exp(a2) + 4 * exp(diagonal) + 12
        let d2 = dy * dy + dx * dx
        if max(abs(dy), abs(dx)) > 2 { return 0 }
        switch d2 {
        case 0: return exp(a0) / z
        case 1: return exp(a1) / z
        case 2: return exp(diagonal) / z
        case 4: return exp(a2) / z
        default: return 1 / z               // sqrt 5 and sqrt 8: outside the disc, logit 0
        }
    }
    for naive in [true, false] {
        let out = blurCase.forward(naive: naive)
        for dy in -4...4 { for dx in -4...4 {
            let value = Double(out[(cy + dy) * w + cx + dx])
            #expect(abs(value - expected(dy, dx)) < 1e-6, "naive \(naive) tap (\(dy), \(dx))")
            #expect(out[2 * plane + (cy + dy) * w + cx + dx] == out[(cy + dy) * w + cx + dx])
        } }
    }
}

@Test func blurGradientsMatchFiniteDifferences() {
    let blurCase = BlurCase(n: 1, h: 6, w: 7, seed: 8)
    let analytic = blurCase.backward(naive: false)
    var rng = SeededGenerator(seed: 9)
    let pick = { (count: Int, rng: inout SeededGenerator) in (0..<24).map { _ in Int.random(in: 0..<count, using: &rng) } }

    let imageIdx = pick(blurCase.image.count, &rng)
    var image = blurCase.image
    let numericImage = centralDifference(&image, at: imageIdx, step: 1e-2) { v in
        var c = blurCase; c.image = v; return c.loss()
    }
    #expect(worstGradientMismatch(analytic: imageIdx.map { Double(analytic.image[$0]) }, numeric: numericImage, absoluteFloor: 1e-2) < 1e-2)

    let seedIdx = pick(blurCase.seeds.count, &rng)
    var seeds = blurCase.seeds
    let numericSeeds = centralDifference(&seeds, at: seedIdx, step: 1e-2) { v in
        var c = blurCase; c.seeds = v; return c.loss()
    }
    #expect(worstGradientMismatch(analytic: seedIdx.map { Double(analytic.seeds[$0]) }, numeric: numericSeeds, absoluteFloor: 1e-2) < 1e-2)

    let weightIdx = pick(blurCase.weights.count, &rng)
    var weights = blurCase.weights
    let numericWeights = centralDifference(&weights, at: weightIdx, step: 1e-2) { v in
        var c = blurCase; c.weights = v; return c.loss()
    }
    #expect(worstGradientMismatch(analytic: weightIdx.map { Double(analytic.weights[$0]) }, numeric: numericWeights, absoluteFloor: 1e-2) < 1e-2)
}

/// Output and gradients exported from PyTorch autograd (Fixtures/make_reblur_fixture.py).
@Test func blurMatchesPyTorchFixture() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/reblur_fixture.bin")
    let data = try Data(contentsOf: url)
    let n = 2, h = 9, w = 10, plane = h * w
    let sizes = [3, 35, 8, 3, 3, 3, 35, 8].map { n * $0 * plane }
    #expect(data.count == sizes.reduce(0, +) * 4)
    var arrays: [[Float]] = []
    var offset = 0
    for size in sizes {
        arrays.append((0..<size).map { i in
            Float(bitPattern: UInt32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: (offset + i) * 4, as: UInt32.self) }))
        })
        offset += size
    }
    var blurCase = BlurCase(n: n, h: h, w: w, seed: 0)
    blurCase.image = arrays[0]; blurCase.seeds = arrays[1]; blurCase.weights = arrays[2]; blurCase.gradOutput = arrays[3]
    for naive in [false, true] {
        #expect(relativeError(blurCase.forward(naive: naive), arrays[4]) < 1e-5, "output, naive \(naive)")
        let grads = blurCase.backward(naive: naive)
        #expect(relativeError(grads.image, arrays[5]) < 1e-5, "gradImage, naive \(naive)")
        #expect(relativeError(grads.seeds, arrays[6]) < 1e-5, "gradSeeds, naive \(naive)")
        #expect(relativeError(grads.weights, arrays[7]) < 1e-5, "gradWeights, naive \(naive)")
    }
}
