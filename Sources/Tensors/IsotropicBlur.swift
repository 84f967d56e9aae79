// IsotropicBlur: the reblurring module's per-pixel isotropic blur (JDRL, AAAI 2023), fast path.
//
// Math (torch_jdrl.py, Reblur.forward): seeds <- |seeds|; for K = 3,5,...,15 (radius r) the tap at
// offset t gets logit a_d for integer d = |t|, the linear interpolation of a_floor(d), a_ceil(d)
// otherwise, and 0 (not -inf) outside the disc d > r; kernel = softmax over the K*K taps; zero
// padding; output = W_0 * image + sum_k W_k * blur_K(image). `IsotropicBlurNaive` computes exactly
// that tap by tap and is the oracle in the tests.
//
// Why this is fast: a tap's logit depends only on its offset up to the 8 symmetries of the square
// grid. Offsets (dy, dx) with the same (min(|dy|,|dx|), max(|dy|,|dx|)) form a "class" (36 classes
// for the 15x15 square); every class lies entirely inside or entirely outside the disc and the
// square of each K. So the softmax is evaluated per class (a few dozen exps per pixel instead of
// 679), and the seven kernels plus the identity branch fold into one coefficient per class and
// pixel: output(p) = sum_class coef_class(p) * ringSum_class(image)(p). Ring sums are formed from
// row pairs y+-dy and column pairs x+-dx, so each channel costs 8 row adds and 64 pair FMAs per
// pixel instead of 679 taps.
//
// Backward: dL/dcoef_class(p) = <gradOutput(p), ringSum_class(image)(p)> over RGB gives the weight
// and seed gradients through the per-class softmax Jacobian; the image gradient is the transposed
// gather sum_t coef_class(t)(q + t) * gradOutput(q + t), which needs the coefficient planes of the
// whole image, so backward runs in two passes.

import Foundation

public enum IsotropicBlur {
    /// Radial seeds per kernel K = 3,5,...,15: (K+1)/2 each, 35 in total.
    public static let seedSplit = [2, 3, 4, 5, 6, 7, 8]

    /// image n x 3 x h x w; seeds n x 35 x h x w (raw, before |.|); weights n x 8 x h x w (softmaxed).
    /// Writes output n x 3 x h x w = W0 * image + sum_{k=1..7} W_k * blur_{K_k}(image).
    public static func forward(image: UnsafePointer<Float>, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int) {
        let geometry = RingGeometry.shared
        let plane = h * w
        let padded = PaddedPlanes(count: 3, h: h, w: w)
        defer { padded.deallocate() }
        for b in 0..<n {
            padded.fill(from: image + b * 3 * plane)
            let seedsB = seeds + b * 35 * plane, weightsB = weights + b * 8 * plane
            let outB = output + b * 3 * plane
            ReblurOpsBands.forEach(rows: h) { rows in
                let scratch = PixelScratch(w: w)
                defer { scratch.deallocate() }
                for y in rows {
                    for x in 0..<w {
                        computeCoefficients(geometry, seeds: seedsB, weights: weightsB, pixel: y * w + x, plane: plane,
                                            scratch: scratch, coefficients: scratch.coefficients)
                        for cls in 0..<RingGeometry.classCount { scratch.coefficientRows[cls * w + x] = scratch.coefficients[cls] }
                    }
                    for c in 0..<3 {
                        let acc = outB + c * plane + y * w
                        acc.initialize(repeating: 0, count: w)
                        forEachRingPair(geometry, padded: padded, channel: c, y: y, scratch: scratch) { cls, pairSum in
                            let coef = scratch.coefficientRows + cls * w
                            for x in 0..<w { acc[x] += coef[x] * pairSum[x] }
                        }
                    }
                }
            }
        }
    }

    /// Accumulates (+=) dL/dimage, dL/dseeds (raw seeds: through |.|, zero at 0) and dL/dweights.
    public static func backward(image: UnsafePointer<Float>, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                gradOutput: UnsafePointer<Float>, gradImage: UnsafeMutablePointer<Float>,
                                gradSeeds: UnsafeMutablePointer<Float>, gradWeights: UnsafeMutablePointer<Float>,
                                n: Int, h: Int, w: Int) {
        let geometry = RingGeometry.shared
        let plane = h * w
        let paddedImage = PaddedPlanes(count: 3, h: h, w: w)
        let paddedGrad = PaddedPlanes(count: 3, h: h, w: w)
        let paddedCoef = PaddedPlanes(count: RingGeometry.classCount, h: h, w: w)
        defer { paddedImage.deallocate(); paddedGrad.deallocate(); paddedCoef.deallocate() }
        for b in 0..<n {
            paddedImage.fill(from: image + b * 3 * plane)
            paddedGrad.fill(from: gradOutput + b * 3 * plane)
            let seedsB = seeds + b * 35 * plane, weightsB = weights + b * 8 * plane
            let gOutB = gradOutput + b * 3 * plane
            let gSeedsB = gradSeeds + b * 35 * plane, gWeightsB = gradWeights + b * 8 * plane
            // Pass 1: per-class dots <gradOutput, ringSum(image)>, weight and seed gradients, and the
            // coefficient planes pass 2 gathers from.
            ReblurOpsBands.forEach(rows: h) { rows in
                let scratch = PixelScratch(w: w)
                defer { scratch.deallocate() }
                let dots = scratch.coefficientRows    // reused: per-class dot rows, class-major
                for y in rows {
                    dots.initialize(repeating: 0, count: RingGeometry.classCount * w)
                    for c in 0..<3 {
                        let g = gOutB + c * plane + y * w
                        forEachRingPair(geometry, padded: paddedImage, channel: c, y: y, scratch: scratch) { cls, pairSum in
                            let dot = dots + cls * w
                            for x in 0..<w { dot[x] += g[x] * pairSum[x] }
                        }
                    }
                    for x in 0..<w {
                        let p = y * w + x
                        for cls in 0..<RingGeometry.classCount { scratch.classDots[cls] = dots[cls * w + x] }
                        pixelBackward(geometry, seeds: seedsB, weights: weightsB, pixel: p, plane: plane, scratch: scratch,
                                      gradSeeds: gSeedsB, gradWeights: gWeightsB)
                        let at = paddedCoef.offset(y: y, x: x)
                        for cls in 0..<RingGeometry.classCount {
                            paddedCoef.base[cls * paddedCoef.plane + at] = scratch.coefficients[cls]
                        }
                    }
                }
            }
            // Pass 2: gradImage(q) = sum_t coef_class(t)(q + t) * gradOutput(q + t). Classes are closed
            // under t -> -t, so this is the forward gather with the coefficient taken at the source.
            let gImgB = gradImage + b * 3 * plane
            ReblurOpsBands.forEach(rows: h) { rows in
                let acc = UnsafeMutablePointer<Float>.allocate(capacity: 3 * w)
                defer { acc.deallocate() }
                for y in rows {
                    acc.initialize(repeating: 0, count: 3 * w)
                    for tap in geometry.taps {
                        let at = paddedCoef.offset(y: y + tap.dy, x: tap.dx)
                        let coef = paddedCoef.base + tap.cls * paddedCoef.plane + at
                        let g0 = paddedGrad.base + at, g1 = g0 + paddedGrad.plane, g2 = g1 + paddedGrad.plane
                        for x in 0..<w {
                            let cv = coef[x]
                            acc[x] += cv * g0[x]
                            acc[w + x] += cv * g1[x]
                            acc[2 * w + x] += cv * g2[x]
                        }
                    }
                    for c in 0..<3 {
                        let dst = gImgB + c * plane + y * w
                        let src = acc + c * w
                        for x in 0..<w { dst[x] += src[x] }
                    }
                }
            }
        }
    }

    // MARK: - Per-pixel softmax over classes

    /// Probabilities of kernel k's in-disc classes (one per tap of the class) into scratch.probabilities
    /// at the kernel's disc-entry indices; returns the probability of each out-of-disc tap.
    @inline(__always)
    static func kernelProbabilities(_ geometry: RingGeometry, kernel k: Int, scratch: PixelScratch) -> Float {
        let g = geometry
        let abs = scratch.absSeeds, prob = scratch.probabilities
        let first = g.discStart[k], end = g.discStart[k + 1]
        var maxLogit: Float = 0                 // the out-of-disc taps have logit 0
        for j in first..<end {
            let logit = g.discWeightLo[j] * abs[g.discSeedLo[j]] + g.discWeightHi[j] * abs[g.discSeedHi[j]]
            prob[j] = logit
            maxLogit = max(maxLogit, logit)
        }
        let outside = Foundation.exp(-maxLogit)
        var total = g.outsideTapCount[k] * outside
        for j in first..<end {
            let e = Foundation.exp(prob[j] - maxLogit)
            prob[j] = e
            total += g.discTapCount[j] * e
        }
        let inverse = 1 / total
        for j in first..<end { prob[j] *= inverse }
        return outside * inverse
    }

    @inline(__always)
    static func loadAbsSeeds(_ seeds: UnsafePointer<Float>, pixel p: Int, plane: Int, into abs: UnsafeMutablePointer<Float>) {
        for s in 0..<35 { abs[s] = Swift.abs(seeds[s * plane + p]) }
    }

    /// coef_class(p) = [class is the centre] * W0 + sum_k W_k * (kernel k's value on that class, 0 if
    /// the class lies outside K's square).
    @inline(__always)
    static func computeCoefficients(_ geometry: RingGeometry, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                    pixel p: Int, plane: Int, scratch: PixelScratch, coefficients coef: UnsafeMutablePointer<Float>) {
        let g = geometry
        loadAbsSeeds(seeds, pixel: p, plane: plane, into: scratch.absSeeds)
        coef.initialize(repeating: 0, count: RingGeometry.classCount)
        coef[0] = weights[p]
        for k in 0..<7 {
            let outside = kernelProbabilities(g, kernel: k, scratch: scratch)
            let weight = weights[(k + 1) * plane + p]
            for j in g.discStart[k]..<g.discStart[k + 1] { coef[g.discClass[j]] += weight * scratch.probabilities[j] }
            let wOut = weight * outside
            for j in g.outsideStart[k]..<g.outsideStart[k + 1] { coef[g.outsideClass[j]] += wOut }
        }
    }

    /// Given scratch.classDots (dL/dcoef per class at this pixel), accumulates the weight and seed
    /// gradients and leaves the pixel's coefficients in scratch.coefficients.
    @inline(__always)
    static func pixelBackward(_ geometry: RingGeometry, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                              pixel p: Int, plane: Int, scratch: PixelScratch,
                              gradSeeds: UnsafeMutablePointer<Float>, gradWeights: UnsafeMutablePointer<Float>) {
        let g = geometry
        let dots = scratch.classDots, coef = scratch.coefficients, prob = scratch.probabilities
        let gradAbs = scratch.gradAbsSeeds
        loadAbsSeeds(seeds, pixel: p, plane: plane, into: scratch.absSeeds)
        gradAbs.initialize(repeating: 0, count: 35)
        coef.initialize(repeating: 0, count: RingGeometry.classCount)
        coef[0] = weights[p]
        gradWeights[p] += dots[0]               // identity branch: <gradOutput, image>
        for k in 0..<7 {
            let outside = kernelProbabilities(g, kernel: k, scratch: scratch)
            let weight = weights[(k + 1) * plane + p]
            let first = g.discStart[k], end = g.discStart[k + 1]
            // <gradOutput, blur_K(image)>: dL/dW_k, and the softmax Jacobian's mean term.
            var outsideDots: Float = 0
            for j in g.outsideStart[k]..<g.outsideStart[k + 1] {
                outsideDots += dots[g.outsideClass[j]]
                coef[g.outsideClass[j]] += weight * outside
            }
            var blurDot = outside * outsideDots
            for j in first..<end {
                blurDot += prob[j] * dots[g.discClass[j]]
                coef[g.discClass[j]] += weight * prob[j]
            }
            gradWeights[(k + 1) * plane + p] += blurDot
            // dL/dlogit of a class = sum over its taps of p_t * W_k * (dot_t - blurDot).
            for j in first..<end {
                let gradLogit = weight * prob[j] * (dots[g.discClass[j]] - g.discTapCount[j] * blurDot)
                gradAbs[g.discSeedLo[j]] += g.discWeightLo[j] * gradLogit
                gradAbs[g.discSeedHi[j]] += g.discWeightHi[j] * gradLogit
            }
        }
        for s in 0..<35 {
            let raw = seeds[s * plane + p]
            if raw > 0 { gradSeeds[s * plane + p] += gradAbs[s] } else if raw < 0 { gradSeeds[s * plane + p] -= gradAbs[s] }
        }
    }

    // MARK: - Ring pairs

    /// For output row y of one channel, calls body(class, pairSum) for each (dy, dx) in 0...7 x 0...7,
    /// where pairSum[x] (x in 0..<w) is the sum of the (up to four) taps (+-dy, +-dx) around (y, x) in
    /// the zero-padded image: the part of that class's ring sum with this (|dy|, |dx|).
    /// The row pair y+-dy is added once and shared by all eight dx.
    @inline(__always)
    static func forEachRingPair(_ geometry: RingGeometry, padded: PaddedPlanes, channel c: Int, y: Int,
                                scratch: PixelScratch, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let width = padded.stride, w = padded.w, r = RingGeometry.maxRadius
        let planeBase = padded.base + c * padded.plane
        let rowSum = scratch.rowSum, pairSum = scratch.pairSum
        for dy in 0...r {
            let below = planeBase + (y + r + dy) * width
            if dy == 0 {
                for x in 0..<width { rowSum[x] = below[x] }
            } else {
                let above = planeBase + (y + r - dy) * width
                for x in 0..<width { rowSum[x] = below[x] + above[x] }
            }
            let centre = rowSum + r
            body(geometry.classOf(dy, 0), centre)
            for dx in 1...r {
                let right = centre + dx, left = centre - dx
                for x in 0..<w { pairSum[x] = right[x] + left[x] }
                body(geometry.classOf(dy, dx), pairSum)
            }
        }
    }
}

// MARK: - Scratch buffers and row bands

/// Planes with a zero border of 7 on every side, so that every tap of the 15x15 square is in bounds.
struct PaddedPlanes {
    let base: UnsafeMutablePointer<Float>
    let count: Int, h: Int, w: Int, stride: Int, plane: Int

    init(count: Int, h: Int, w: Int) {
        let r = RingGeometry.maxRadius
        self.count = count; self.h = h; self.w = w
        stride = w + 2 * r
        plane = (h + 2 * r) * stride
        base = .allocate(capacity: count * plane)
        base.initialize(repeating: 0, count: count * plane)
    }

    /// Offset inside a plane of image pixel (y, x); y and x may reach 7 outside the image.
    @inline(__always) func offset(y: Int, x: Int) -> Int {
        (y + RingGeometry.maxRadius) * stride + x + RingGeometry.maxRadius
    }

    /// Copies planes (h x w each, as many as were allocated) into the interior; the border stays zero.
    func fill(from source: UnsafePointer<Float>) {
        for c in 0..<count {
            for y in 0..<h {
                (base + c * plane + offset(y: y, x: 0)).update(from: source + c * h * w + y * w, count: w)
            }
        }
    }

    func deallocate() { base.deallocate() }
}

/// Per-worker buffers, sized once per row band; nothing is allocated per pixel.
final class PixelScratch {
    let w: Int
    let coefficientRows: UnsafeMutablePointer<Float>   // classCount x w
    let rowSum: UnsafeMutablePointer<Float>            // w + 14
    let pairSum: UnsafeMutablePointer<Float>           // w
    let coefficients: UnsafeMutablePointer<Float>      // classCount
    let classDots: UnsafeMutablePointer<Float>         // classCount
    let absSeeds: UnsafeMutablePointer<Float>          // 35
    let gradAbsSeeds: UnsafeMutablePointer<Float>      // 35
    let probabilities: UnsafeMutablePointer<Float>     // one per disc entry of all kernels

    init(w: Int) {
        self.w = w
        let classes = RingGeometry.classCount
        coefficientRows = .allocate(capacity: classes * w)
        rowSum = .allocate(capacity: w + 2 * RingGeometry.maxRadius)
        pairSum = .allocate(capacity: w)
        coefficients = .allocate(capacity: classes)
        classDots = .allocate(capacity: classes)
        absSeeds = .allocate(capacity: 35)
        gradAbsSeeds = .allocate(capacity: 35)
        probabilities = .allocate(capacity: RingGeometry.shared.discEntryCount)
    }

    func deallocate() {
        coefficientRows.deallocate(); rowSum.deallocate(); pairSum.deallocate(); coefficients.deallocate()
        classDots.deallocate(); absSeeds.deallocate(); gradAbsSeeds.deallocate(); probabilities.deallocate()
    }
}

/// Splits rows into bands and runs them on all cores (a few bands per core to even out the load).
enum ReblurOpsBands {
    static func forEach(rows: Int, _ body: (Range<Int>) -> Void) {
        let bands = max(1, min(rows, ProcessInfo.processInfo.activeProcessorCount * 4))
        DispatchQueue.concurrentPerform(iterations: bands) { band in
            let start = rows * band / bands, end = rows * (band + 1) / bands
            if start < end { body(start..<end) }
        }
    }
}

// MARK: - Geometry of the 15x15 square

/// The 36 tap classes of the 15x15 square and, per kernel, which classes are in its disc (with their
/// interpolation onto the radial seeds) and which are in its square but outside the disc.
/// Class of (dy, dx): with a = min(|dy|,|dx|), b = max(|dy|,|dx|), index b(b+1)/2 + a; class 0 is the centre.
final class RingGeometry: @unchecked Sendable {
    static let shared = RingGeometry()
    static let maxRadius = 7
    static let classCount = 36

    struct Tap { let dy: Int; let dx: Int; let cls: Int }

    /// All 225 taps of the 15x15 square.
    let taps: [Tap]
    /// Per kernel k (K = 2k+3), disc entries discStart[k]..<discStart[k+1]: class, its number of taps,
    /// and logit = weightLo * |seed[seedLo]| + weightHi * |seed[seedHi]| (absolute seed channels).
    let discStart: UnsafeMutablePointer<Int>
    let discClass: UnsafeMutablePointer<Int>
    let discTapCount: UnsafeMutablePointer<Float>
    let discSeedLo: UnsafeMutablePointer<Int>
    let discSeedHi: UnsafeMutablePointer<Int>
    let discWeightLo: UnsafeMutablePointer<Float>
    let discWeightHi: UnsafeMutablePointer<Float>
    let discEntryCount: Int
    /// Per kernel, the classes inside the square but outside the disc (logit 0), and their tap count.
    let outsideStart: UnsafeMutablePointer<Int>
    let outsideClass: UnsafeMutablePointer<Int>
    let outsideTapCount: UnsafeMutablePointer<Float>

    @inline(__always) func classOf(_ dy: Int, _ dx: Int) -> Int { Self.classIndex(dy, dx) }

    @inline(__always) static func classIndex(_ dy: Int, _ dx: Int) -> Int {
        let a = min(Swift.abs(dy), Swift.abs(dx)), b = max(Swift.abs(dy), Swift.abs(dx))
        return b * (b + 1) / 2 + a
    }

    static func tapCount(a: Int, b: Int) -> Int {
        if b == 0 { return 1 }
        if a == 0 || a == b { return 4 }
        return 8
    }

    private init() {
        let r = Self.maxRadius
        var taps: [Tap] = []
        for dy in -r...r { for dx in -r...r { taps.append(Tap(dy: dy, dx: dx, cls: 0)) } }
        var discStart = [0], discClass: [Int] = [], discTaps: [Float] = [], seedLo: [Int] = [], seedHi: [Int] = []
        var weightLo: [Float] = [], weightHi: [Float] = []
        var outsideStart = [0], outsideClass: [Int] = [], outsideTaps: [Float] = []
        var seedBase = 0
        for k in 0..<7 {
            let radius = k + 1
            var inDisc = 0
            for b in 0...radius {
                for a in 0...b {
                    let cls = b * (b + 1) / 2 + a, count = Self.tapCount(a: a, b: b)
                    if a * a + b * b <= radius * radius {
                        // Same construction as torch's interpolation_matrix: distances in Double,
                        // weights stored in Float.
                        let d = hypot(Double(a), Double(b))
                        let lo = Int(d.rounded(.down)), hi = Int(d.rounded(.up))
                        discClass.append(cls); discTaps.append(Float(count))
                        seedLo.append(seedBase + lo); seedHi.append(seedBase + hi)
                        if lo == hi {
                            weightLo.append(1); weightHi.append(0)
                        } else {
                            weightLo.append(Float(Double(hi) - d)); weightHi.append(Float(d - Double(lo)))
                        }
                        inDisc += count
                    } else {
                        outsideClass.append(cls)
                    }
                }
            }
            discStart.append(discClass.count); outsideStart.append(outsideClass.count)
            outsideTaps.append(Float((2 * radius + 1) * (2 * radius + 1) - inDisc))
            seedBase += radius + 1
        }
        func leak<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: values.count)
            p.initialize(from: values, count: values.count)
            return p
        }
        self.discStart = leak(discStart); self.discClass = leak(discClass); self.discTapCount = leak(discTaps)
        self.discSeedLo = leak(seedLo); self.discSeedHi = leak(seedHi)
        self.discWeightLo = leak(weightLo); self.discWeightHi = leak(weightHi)
        self.discEntryCount = discClass.count
        self.outsideStart = leak(outsideStart); self.outsideClass = leak(outsideClass); self.outsideTapCount = leak(outsideTaps)
        self.taps = taps.map { Tap(dy: $0.dy, dx: $0.dx, cls: Self.classIndex($0.dy, $0.dx)) }
    }
}
