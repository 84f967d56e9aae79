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
import Threading

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
                    rowCoefficients(geometry, seeds: seedsB, weights: weightsB, y: y, w: w, plane: plane, scratch: scratch)
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
                let dots = scratch.classDotRows
                for y in rows {
                    dots.initialize(repeating: 0, count: RingGeometry.classCount * w)
                    for c in 0..<3 {
                        let g = gOutB + c * plane + y * w
                        forEachRingPair(geometry, padded: paddedImage, channel: c, y: y, scratch: scratch) { cls, pairSum in
                            let dot = dots + cls * w
                            for x in 0..<w { dot[x] += g[x] * pairSum[x] }
                        }
                    }
                    rowBackward(geometry, seeds: seedsB, weights: weightsB, y: y, w: w, plane: plane, scratch: scratch,
                                gradSeeds: gSeedsB, gradWeights: gWeightsB)
                    for cls in 0..<RingGeometry.classCount {
                        (paddedCoef.base + cls * paddedCoef.plane + paddedCoef.offset(y: y, x: 0))
                            .update(from: scratch.coefficientRows + cls * w, count: w)
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

    // MARK: - Per-row softmax over classes
    //
    // The per-pixel work (a few dozen logits, exps and products) runs along a row, one class at a
    // time, so every loop is contiguous in x and vectorises.

    /// exp(x) for x <= 0 (softmax arguments after subtracting the maximum), in plain arithmetic so
    /// that row loops vectorise: 2^n * exp(r) with |r| <= ln2/2 and a degree-7 Taylor polynomial
    /// (relative error about 1e-7, the rounding level of Float). Below -87 it returns about 1.6e-38
    /// instead of underflowing to 0, which no softmax sum can notice.
    @inline(__always)
    static func expNonPositive(_ x: Float) -> Float {
        let clamped = max(x, -87)
        let roundingShift: Float = 12_582_912          // 1.5 * 2^23: adding it rounds to an integer
        let n = (clamped * 1.442_695_04 + roundingShift) - roundingShift
        let r = (clamped - n * 0.693_359_375) - n * -2.121_944_4e-4   // ln 2 split in two parts
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        return p * Float(bitPattern: UInt32(bitPattern: Int32(n) + 127) << 23)
    }

    /// Kernel k's softmax along row y: scratch.probabilityRows[j] gets the probability of one tap of
    /// disc entry j, scratch.outsideRow the probability of one out-of-disc tap (logit 0).
    /// Needs scratch.absSeedRows filled.
    @inline(__always)
    static func kernelRowProbabilities(_ geometry: RingGeometry, kernel k: Int, w: Int, scratch: PixelScratch) {
        let g = geometry
        let maxRow = scratch.maxRow, total = scratch.totalRow, outside = scratch.outsideRow
        let first = g.discStart[k], end = g.discStart[k + 1]
        maxRow.initialize(repeating: 0, count: w)           // the out-of-disc taps have logit 0
        for j in first..<end {
            let lo = scratch.absSeedRows + g.discSeedLo[j] * w, hi = scratch.absSeedRows + g.discSeedHi[j] * w
            let wLo = g.discWeightLo[j], wHi = g.discWeightHi[j]
            let logit = scratch.probabilityRows + j * w
            for x in 0..<w {
                let value = wLo * lo[x] + wHi * hi[x]
                logit[x] = value
                maxRow[x] = max(maxRow[x], value)
            }
        }
        let outsideTaps = g.outsideTapCount[k]
        for x in 0..<w {
            let e = expNonPositive(-maxRow[x])
            outside[x] = e
            total[x] = outsideTaps * e
        }
        for j in first..<end {
            let row = scratch.probabilityRows + j * w
            let taps = g.discTapCount[j]
            for x in 0..<w {
                let e = expNonPositive(row[x] - maxRow[x])
                row[x] = e
                total[x] += taps * e
            }
        }
        for x in 0..<w { total[x] = 1 / total[x]; outside[x] *= total[x] }
        for j in first..<end {
            let row = scratch.probabilityRows + j * w
            for x in 0..<w { row[x] *= total[x] }
        }
    }

    @inline(__always)
    static func loadAbsSeedRows(_ seeds: UnsafePointer<Float>, y: Int, w: Int, plane: Int, scratch: PixelScratch) {
        for s in 0..<35 {
            let src = seeds + s * plane + y * w, dst = scratch.absSeedRows + s * w
            for x in 0..<w { dst[x] = Swift.abs(src[x]) }
        }
    }

    /// scratch.coefficientRows[class] along row y: [class is the centre] * W0 + sum_k W_k * (kernel
    /// k's value on one tap of that class; 0 if the class is outside K's square).
    @inline(__always)
    static func rowCoefficients(_ geometry: RingGeometry, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                y: Int, w: Int, plane: Int, scratch: PixelScratch) {
        let g = geometry, coef = scratch.coefficientRows
        loadAbsSeedRows(seeds, y: y, w: w, plane: plane, scratch: scratch)
        coef.initialize(repeating: 0, count: RingGeometry.classCount * w)
        coef.update(from: weights + y * w, count: w)
        for k in 0..<7 {
            kernelRowProbabilities(g, kernel: k, w: w, scratch: scratch)
            let weight = weights + (k + 1) * plane + y * w
            for j in g.discStart[k]..<g.discStart[k + 1] {
                let dst = coef + g.discClass[j] * w, prob = scratch.probabilityRows + j * w
                for x in 0..<w { dst[x] += weight[x] * prob[x] }
            }
            let outside = scratch.outsideRow
            for j in g.outsideStart[k]..<g.outsideStart[k + 1] {
                let dst = coef + g.outsideClass[j] * w
                for x in 0..<w { dst[x] += weight[x] * outside[x] }
            }
        }
    }

    /// Given scratch.classDotRows (dL/dcoef per class along row y), accumulates the weight and seed
    /// gradients of the row and leaves its coefficients in scratch.coefficientRows.
    @inline(__always)
    static func rowBackward(_ geometry: RingGeometry, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                            y: Int, w: Int, plane: Int, scratch: PixelScratch,
                            gradSeeds: UnsafeMutablePointer<Float>, gradWeights: UnsafeMutablePointer<Float>) {
        let g = geometry, coef = scratch.coefficientRows, dots = scratch.classDotRows
        let gradAbs = scratch.gradAbsSeedRows, blurDot = scratch.totalRow, outside = scratch.outsideRow
        let row = y * w
        loadAbsSeedRows(seeds, y: y, w: w, plane: plane, scratch: scratch)
        gradAbs.initialize(repeating: 0, count: 35 * w)
        coef.initialize(repeating: 0, count: RingGeometry.classCount * w)
        coef.update(from: weights + row, count: w)
        let gradIdentity = gradWeights + row
        for x in 0..<w { gradIdentity[x] += dots[x] }           // identity branch: <gradOutput, image>
        for k in 0..<7 {
            kernelRowProbabilities(g, kernel: k, w: w, scratch: scratch)   // its total row is free again
            let weight = weights + (k + 1) * plane + row
            let first = g.discStart[k], end = g.discStart[k + 1]
            // <gradOutput, blur_K(image)>: dL/dW_k, and the softmax Jacobian's mean term.
            blurDot.initialize(repeating: 0, count: w)
            for j in g.outsideStart[k]..<g.outsideStart[k + 1] {
                let dot = dots + g.outsideClass[j] * w, dst = coef + g.outsideClass[j] * w
                for x in 0..<w {
                    blurDot[x] += dot[x]
                    dst[x] += weight[x] * outside[x]
                }
            }
            for x in 0..<w { blurDot[x] *= outside[x] }
            for j in first..<end {
                let dot = dots + g.discClass[j] * w, dst = coef + g.discClass[j] * w
                let prob = scratch.probabilityRows + j * w
                for x in 0..<w {
                    blurDot[x] += prob[x] * dot[x]
                    dst[x] += weight[x] * prob[x]
                }
            }
            let gradW = gradWeights + (k + 1) * plane + row
            for x in 0..<w { gradW[x] += blurDot[x] }
            // dL/dlogit of a class = sum over its taps of p_t * W_k * (dot_t - blurDot), then
            // through the interpolation onto the two radial seeds.
            for j in first..<end {
                let dot = dots + g.discClass[j] * w, prob = scratch.probabilityRows + j * w
                let taps = g.discTapCount[j], wLo = g.discWeightLo[j], wHi = g.discWeightHi[j]
                let lo = gradAbs + g.discSeedLo[j] * w, hi = gradAbs + g.discSeedHi[j] * w
                if lo == hi {       // integer distance: one seed (two rows that alias would not vectorise)
                    for x in 0..<w { lo[x] += weight[x] * prob[x] * (dot[x] - taps * blurDot[x]) }
                } else {
                    for x in 0..<w {
                        let gradLogit = weight[x] * prob[x] * (dot[x] - taps * blurDot[x])
                        lo[x] += wLo * gradLogit
                        hi[x] += wHi * gradLogit
                    }
                }
            }
        }
        // Through |.|: sign(raw), with 0 at 0 like torch.
        for s in 0..<35 {
            let raw = seeds + s * plane + row, dst = gradSeeds + s * plane + row, src = gradAbs + s * w
            for x in 0..<w {                  // branch-free so that it vectorises
                let v = raw[x]
                let sign: Float = (v > 0 ? 1 : 0) - (v < 0 ? 1 : 0)
                dst[x] += sign * src[x]
            }
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

/// Per-worker buffers, sized once per row band; nothing is allocated per pixel or per row.
final class PixelScratch {
    let w: Int
    let coefficientRows: UnsafeMutablePointer<Float>   // classCount x w
    let classDotRows: UnsafeMutablePointer<Float>      // classCount x w
    let absSeedRows: UnsafeMutablePointer<Float>       // 35 x w
    let gradAbsSeedRows: UnsafeMutablePointer<Float>   // 35 x w
    let probabilityRows: UnsafeMutablePointer<Float>   // discEntryCount x w
    let maxRow, totalRow, outsideRow, pairSum: UnsafeMutablePointer<Float>   // w each
    let rowSum: UnsafeMutablePointer<Float>            // w + 14

    init(w: Int) {
        self.w = w
        let classes = RingGeometry.classCount
        coefficientRows = .allocate(capacity: classes * w)
        classDotRows = .allocate(capacity: classes * w)
        absSeedRows = .allocate(capacity: 35 * w)
        gradAbsSeedRows = .allocate(capacity: 35 * w)
        probabilityRows = .allocate(capacity: RingGeometry.shared.discEntryCount * w)
        maxRow = .allocate(capacity: w); totalRow = .allocate(capacity: w)
        outsideRow = .allocate(capacity: w); pairSum = .allocate(capacity: w)
        rowSum = .allocate(capacity: w + 2 * RingGeometry.maxRadius)
    }

    func deallocate() {
        for buffer in [coefficientRows, classDotRows, absSeedRows, gradAbsSeedRows, probabilityRows,
                       maxRow, totalRow, outsideRow, pairSum, rowSum] { buffer.deallocate() }
    }
}

/// Splits rows into bands (a few per worker to even out the load; single rows allowed: a row of the
/// reblur ops is much work).
enum ReblurOpsBands {
    static func forEach(rows: Int, _ body: (Range<Int>) -> Void) {
        Threading.Parallel.rows(rows, minimumRowsPerChunk: 1, body)
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
