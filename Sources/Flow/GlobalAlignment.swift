import Foundation
import Tensors
import Threading

/// Settings of the global aligner (part of the flow parameters hash: change one and flows are redone).
public struct GlobalAlignmentParameters: BandPassMatching, Codable, Sendable, Equatable, Hashable {
    public var model: MotionModel = .similarity
    /// Pyramid levels stop before a side would drop under this.
    public var coarsestSide: Int = 24
    /// ECC runs only on levels with at most this many pixels (1024x540 of a 2048x1080 pair): the fit is sub-0.1 px there,
    /// and the dense stage absorbs the rest at full resolution.
    public var maximumPixels: Int = 600_000
    /// Gaussian pre-blur, level pixels (BandPassMatching).
    public var preBlurSigma: Float = 1.5
    /// Scale of the local mean removed, level pixels (BandPassMatching); 0 keeps it (ECC itself is
    /// already blind to a global gain and offset).
    public var illuminationSigma: Float = 8
    public var iterationsPerLevel: Int = 40
    /// Stop a level once the largest corner displacement update is below this (level pixels).
    public var tolerancePixels: Double = 0.01
    public init() {}
}

/// The result of a global fit.
public struct GlobalAlignment: Sendable {
    public var motion: GlobalMotion
    /// Enhanced correlation coefficient at the end (1 = perfect up to gain and offset).
    public var correlation: Double
}

/// Global alignment by ECC (enhanced correlation coefficient maximisation, Evangelidis & Psarakis
/// 2008), coarse to fine. ECC compares zero-mean, unit-norm images, so it is blind to a gain and
/// offset (illumination change); both images are Gaussian pre-blurred so the sharp image's extra
/// detail does not dominate, and symmetric (defocus) blur does not bias the fit.
/// Convention: the returned motion W maps A's pixels into B (A(p) matches B(W(p))).
enum GlobalAligner {
    static func align(a pyramidA: Pyramid, b pyramidB: Pyramid, parameters: GlobalAlignmentParameters, workers: Int) -> GlobalAlignment {
        let base = pyramidA.levels[0]
        var motion = GlobalMotion.identity(width: base.width, height: base.height)
        var correlation = 0.0
        let levels = min(pyramidA.levels.count, pyramidB.levels.count)
        let usable = (0..<levels).filter { pyramidA.levels[$0].count <= parameters.maximumPixels }
        let finest = usable.min() ?? (levels - 1)
        for level in stride(from: levels - 1, through: finest, by: -1) {
            let template = parameters.bandPassed(pyramidA.levels[level], workers: workers)
            let image = parameters.bandPassed(pyramidB.levels[level], workers: workers)
            let gradient = Filters.gradients(image, workers: workers)
            let margin = parameters.ignoredBorder(width: template.width, height: template.height)
            for _ in 0..<parameters.iterationsPerLevel {
                guard let step = eccStep(template: template, image: image, gradient: gradient,
                                         motion: motion.atLevel(level), model: parameters.model, margin: margin, workers: workers) else { break }
                correlation = step.correlation
                motion = apply(step.delta, to: motion, model: parameters.model, level: level)
                if step.largestDisplacement < parameters.tolerancePixels { break }
            }
        }
        return GlobalAlignment(motion: motion, correlation: correlation)
    }

    /// Parameter order. Similarity: (da, db, dtx, dty) with M += [[da, -db], [db, da]].
    /// Affine: (d00, d01, d10, d11, dtx, dty). Linear terms act on centred coordinates divided by
    /// `coordinateScale` so the normal equations are well conditioned.
    static func parameterCount(_ model: MotionModel) -> Int { model == .similarity ? 4 : 6 }

    static func apply(_ delta: [Double], to motion: GlobalMotion, model: MotionModel, level: Int) -> GlobalMotion {
        var m = motion
        let toLevel0 = Double(1 << level)
        switch model {
        case .similarity:
            m.a00 += delta[0]; m.a11 += delta[0]; m.a01 -= delta[1]; m.a10 += delta[1]
            m.shiftX += delta[2] * toLevel0; m.shiftY += delta[3] * toLevel0
        case .affine:
            m.a00 += delta[0]; m.a01 += delta[1]; m.a10 += delta[2]; m.a11 += delta[3]
            m.shiftX += delta[4] * toLevel0; m.shiftY += delta[5] * toLevel0
        }
        return m
    }

    struct Step {
        var delta: [Double]          // linear part unscaled (per unit centred coordinate), shift in level pixels
        var correlation: Double
        var largestDisplacement: Double
    }

    /// Sums over the pixels whose W(p) falls inside B: enough to form every zero-mean quantity ECC needs.
    struct Sums {
        var count = 0.0, sumI = 0.0, sumT = 0.0, sumII = 0.0, sumTT = 0.0, sumIT = 0.0
        var sumG: [Double], sumGI: [Double], sumGT: [Double], sumGG: [Double]
        init(k: Int) {
            sumG = [Double](repeating: 0, count: k); sumGI = sumG; sumGT = sumG
            sumGG = [Double](repeating: 0, count: k * k)
        }
        mutating func add(_ o: Sums) {
            count += o.count; sumI += o.sumI; sumT += o.sumT; sumII += o.sumII; sumTT += o.sumTT; sumIT += o.sumIT
            for k in sumG.indices { sumG[k] += o.sumG[k]; sumGI[k] += o.sumGI[k]; sumGT[k] += o.sumGT[k] }
            for k in sumGG.indices { sumGG[k] += o.sumGG[k] }
        }
    }

    /// One forward-additive ECC iteration at one pyramid level.
    static func eccStep(template: Plane, image: Plane, gradient: (x: Plane, y: Plane),
                        motion: GlobalMotion, model: MotionModel, margin: Int, workers: Int) -> Step? {
        let k = parameterCount(model)
        let w = template.width, h = template.height
        let iw = image.width, ih = image.height
        let scale = Double(max(w, h)) / 2    // coordinateScale
        let sums: Sums = template.data.withUnsafeBufferPointer { tBuffer in
            image.data.withUnsafeBufferPointer { iBuffer in
            gradient.x.data.withUnsafeBufferPointer { gxBuffer in
            gradient.y.data.withUnsafeBufferPointer { gyBuffer in
                let t = tBuffer.baseAddress!, img = iBuffer.baseAddress!, gxp = gxBuffer.baseAddress!, gyp = gyBuffer.baseAddress!
                return Parallel.reduceRows(h, workers: workers, initial: Sums(k: k), { rows in
                    // Plain local accumulators (no arrays in the pixel loop): 6 scalars, G (k), G*i (k),
                    // G*t (k) and the upper triangle of G G' (k x k).
                    let acc = UnsafeMutablePointer<Double>.allocate(capacity: 6 + 3 * k + k * k)
                    defer { acc.deallocate() }
                    acc.initialize(repeating: 0, count: 6 + 3 * k + k * k)
                    let sg = acc + 6, sgi = sg + k, sgt = sgi + k, sgg = sgt + k
                    var g = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                    let lowX = Double(margin), highX = Double(iw - 1 - margin), lowY = Double(margin), highY = Double(ih - 1 - margin)
                    for y in rows where y >= margin && y < h - margin {
                        let cy = (Double(y) - motion.centreY)
                        for x in margin..<max(margin, w - margin) {
                            let cx = Double(x) - motion.centreX
                            let px = motion.centreX + motion.a00 * cx + motion.a01 * cy + motion.shiftX
                            let py = motion.centreY + motion.a10 * cx + motion.a11 * cy + motion.shiftY
                            guard px >= lowX, py >= lowY, px <= highX, py <= highY else { continue }
                            let tap = BilinearTap(sx: Float(px), sy: Float(py), width: iw, height: ih)
                            let iv = Double(tap.sample(img, width: iw))
                            let gx = Double(tap.sample(gxp, width: iw)), gy = Double(tap.sample(gyp, width: iw))
                            let tv = Double(t[y * w + x])
                            let X = cx / scale, Y = cy / scale
                            if k == 4 {
                                g = (gx * X + gy * Y, -gx * Y + gy * X, gx, gy, 0, 0)
                            } else {
                                g = (gx * X, gx * Y, gy * X, gy * Y, gx, gy)
                            }
                            acc[0] += 1; acc[1] += iv; acc[2] += tv
                            acc[3] += iv * iv; acc[4] += tv * tv; acc[5] += iv * tv
                            withUnsafeBytes(of: g) { raw in
                                let gp = raw.baseAddress!.assumingMemoryBound(to: Double.self)
                                for r in 0..<k {
                                    let gr = gp[r]
                                    sg[r] += gr; sgi[r] += gr * iv; sgt[r] += gr * tv
                                    for c in r..<k { sgg[r * k + c] += gr * gp[c] }
                                }
                            }
                        }
                    }
                    var s = Sums(k: k)
                    s.count = acc[0]; s.sumI = acc[1]; s.sumT = acc[2]; s.sumII = acc[3]; s.sumTT = acc[4]; s.sumIT = acc[5]
                    for r in 0..<k { s.sumG[r] = sg[r]; s.sumGI[r] = sgi[r]; s.sumGT[r] = sgt[r] }
                    for r in 0..<(k * k) { s.sumGG[r] = sgg[r] }
                    return s
                }, combine: { $0.add($1) })
            }}}
        }
        guard sums.count > Double(4 * k) else { return nil }
        let n = sums.count
        let meanI = sums.sumI / n, meanT = sums.sumT / n
        // Zero-mean quantities: for vectors u, v, (u - mean u) . (v - mean v) = sum uv - n mean u mean v.
        let normI2 = sums.sumII - n * meanI * meanI
        let normT2 = sums.sumTT - n * meanT * meanT
        let corr = sums.sumIT - n * meanI * meanT
        var hessian = [Double](repeating: 0, count: k * k)
        var projI = [Double](repeating: 0, count: k), projT = projI
        for r in 0..<k {
            let meanG = sums.sumG[r] / n
            projI[r] = sums.sumGI[r] - n * meanG * meanI
            projT[r] = sums.sumGT[r] - n * meanG * meanT
            for c in r..<k {
                let value = sums.sumGG[r * k + c] - n * meanG * sums.sumG[c] / n
                hessian[r * k + c] = value; hessian[c * k + r] = value
            }
        }
        guard normI2 > 0, normT2 > 0,
              let hInvProjI = solveLinearSystem(hessian, projI, size: k) else { return nil }
        let correlation = corr / sqrt(normI2 * normT2)
        // ECC's closed-form gain: maximising the linearised correlation gives
        // delta = H^-1 (lambda * projT - projI) with lambda = (|i|^2 - projI' H^-1 projI) / (corr - projT' H^-1 projI).
        let lambdaNumerator = normI2 - zip(projI, hInvProjI).reduce(0) { $0 + $1.0 * $1.1 }
        let lambdaDenominator = corr - zip(projT, hInvProjI).reduce(0) { $0 + $1.0 * $1.1 }
        // When the images barely correlate yet (denominator <= 0), fall back to matching norms:
        // a plain normalised least-squares step.
        let lambda = lambdaDenominator > 1e-12 * normI2 ? lambdaNumerator / lambdaDenominator : sqrt(normI2 / normT2)
        let rhs = (0..<k).map { lambda * projT[$0] - projI[$0] }
        guard var delta = solveLinearSystem(hessian, rhs, size: k) else { return nil }
        // Undo the coordinate scaling of the linear terms.
        let linear = k == 4 ? 2 : 4
        for r in 0..<linear { delta[r] /= scale }
        let linearPart = delta[0..<linear].reduce(0) { max($0, abs($1)) } * scale * 2
        let shiftPart = max(abs(delta[linear]), abs(delta[linear + 1]))
        return Step(delta: delta, correlation: correlation, largestDisplacement: linearPart + shiftPart)
    }
}
