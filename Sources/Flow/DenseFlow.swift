import Foundation

/// Settings of the dense residual stage (part of the flow parameters hash).
public struct DenseFlowParameters: Codable, Sendable, Equatable, Hashable {
    /// Number of pyramid levels the residual is refined on, coarse to fine, ending at `finestLevel`.
    public var levels: Int = 3
    /// 0 refines at full resolution; 1 stops at half resolution and upsamples the (smooth) residual.
    public var finestLevel: Int = 0
    public var iterationsPerLevel: Int = 3
    /// Half-size of the square window whose structure tensor is pooled (Lucas-Kanade window).
    public var windowRadius: Int = 5
    /// Pre-blur (level pixels) before band-pass normalisation: suppresses the detail only the sharp image has.
    public var preBlurSigma: Float = 1.0
    /// The local mean removed over this scale (level pixels) cancels slowly varying illumination.
    public var illuminationSigma: Float = 8
    /// Tikhonov damping of each update, relative to the normalised images' gradient energy: where the
    /// window has no texture (a defocused background) the residual stays at the global model.
    public var damping: Float = 0.05
    /// Robust scale of the brightness residual (in units of the normalised images' std):
    /// pixels that disagree by much more than this (blur, occlusion) get little weight.
    public var robustScale: Float = 0.5
    /// Largest update per iteration, level pixels (keeps a bad linearisation from jumping away).
    public var maximumStep: Float = 1
    public init() {}
}

/// The dense residual on top of the global model: coarse-to-fine dense Lucas-Kanade on band-pass,
/// contrast-normalised images, with robust weights and damping, initialised from the global map.
/// Convention: the flow f satisfies A(p) ~ B(p + f(p)); samples outside B are clamped to its border
/// and then given zero weight, so near-border pixels keep what the window or the global model says.
enum DenseRefiner {
    /// Band-pass (difference of Gaussians) and divided by its global standard deviation.
    static func normalise(_ plane: Plane, parameters: DenseFlowParameters, workers: Int) -> Plane {
        let fine = Filters.gaussian(plane, sigma: parameters.preBlurSigma, workers: workers)
        let coarse = Filters.gaussian(plane, sigma: parameters.illuminationSigma, workers: workers)
        var out = fine
        var sum2 = 0.0
        for i in 0..<out.count {
            out.data[i] -= coarse.data[i]
            sum2 += Double(out.data[i] * out.data[i])
        }
        let std = Float(sqrt(sum2 / Double(max(out.count, 1))))
        if std > 1e-8 { for i in 0..<out.count { out.data[i] /= std } }
        return out
    }

    /// The residual flow r at level `level` (A(p) ~ B(W(p) + r(p)), in level pixels), refined from `initial`.
    static func refine(a: Plane, b: Plane, motion: GlobalMotion, initial: (u: [Float], v: [Float]),
                       parameters: DenseFlowParameters, workers: Int) -> (u: [Float], v: [Float]) {
        let w = a.width, h = a.height, n = w * h
        var ru = initial.u, rv = initial.v
        let gradA = Filters.gradients(a, workers: workers)
        let gradB = Filters.gradients(b, workers: workers)
        // Global flow at this level, computed once.
        var gu = [Float](repeating: 0, count: n), gv = gu
        for y in 0..<h {
            for x in 0..<w {
                let m = motion.map(x: Double(x), y: Double(y))
                gu[y * w + x] = Float(m.x - Double(x)); gv[y * w + x] = Float(m.y - Double(y))
            }
        }
        // Five product planes and their pooled means; scratch for the box filter.
        var products = [Float](repeating: 0, count: 5 * n)
        var pooled = products
        var scratch = [Float](repeating: 0, count: n)
        let robust2 = parameters.robustScale * parameters.robustScale
        let maximumStep = parameters.maximumStep
        // Gradient energy of the normalised images sets the damping's scale.
        var energy = 0.0
        for i in 0..<n { energy += Double(gradA.x.data[i] * gradA.x.data[i] + gradA.y.data[i] * gradA.y.data[i]) }
        let damping = parameters.damping * Float(energy / Double(max(n, 1)))

        for _ in 0..<parameters.iterationsPerLevel {
            a.data.withUnsafeBufferPointer { aBuffer in
            b.data.withUnsafeBufferPointer { bBuffer in
            gradA.x.data.withUnsafeBufferPointer { axBuffer in
            gradA.y.data.withUnsafeBufferPointer { ayBuffer in
            gradB.x.data.withUnsafeBufferPointer { bxBuffer in
            gradB.y.data.withUnsafeBufferPointer { byBuffer in
            products.withUnsafeMutableBufferPointer { pBuffer in
            ru.withUnsafeBufferPointer { ruBuffer in
            rv.withUnsafeBufferPointer { rvBuffer in
            gu.withUnsafeBufferPointer { guBuffer in
            gv.withUnsafeBufferPointer { gvBuffer in
                let ap = aBuffer.baseAddress!, bp = bBuffer.baseAddress!
                let ax = axBuffer.baseAddress!, ay = ayBuffer.baseAddress!, bx = bxBuffer.baseAddress!, by = byBuffer.baseAddress!
                let p = pBuffer.baseAddress!, u = ruBuffer.baseAddress!, v = rvBuffer.baseAddress!
                let globalU = guBuffer.baseAddress!, globalV = gvBuffer.baseAddress!
                Parallel.rows(h, workers: workers) { rows in
                    for y in rows {
                        for x in 0..<w {
                            let i = y * w + x
                            let sx = Float(x) + globalU[i] + u[i], sy = Float(y) + globalV[i] + v[i]
                            var gx: Float = 0, gy: Float = 0, it: Float = 0, weight: Float = 0
                            if sx >= 0, sy >= 0, sx <= Float(w - 1), sy <= Float(h - 1) {
                                let tap = BilinearTap(sx: sx, sy: sy, width: w, height: h)
                                // Symmetric gradient: the mean of A's and warped B's is less biased by
                                // the blur difference than either alone.
                                gx = 0.5 * (ax[i] + tap.sample(bx, width: w))
                                gy = 0.5 * (ay[i] + tap.sample(by, width: w))
                                it = tap.sample(bp, width: w) - ap[i]
                                weight = 1 / (1 + it * it / robust2)
                            }
                            p[i] = weight * gx * gx
                            p[n + i] = weight * gx * gy
                            p[2 * n + i] = weight * gy * gy
                            p[3 * n + i] = weight * gx * it
                            p[4 * n + i] = weight * gy * it
                        }
                    }
                }
            }}}}}}}}}}}
            products.withUnsafeBufferPointer { pBuffer in
            pooled.withUnsafeMutableBufferPointer { qBuffer in
            scratch.withUnsafeMutableBufferPointer { sBuffer in
                for plane in 0..<5 {
                    Filters.boxMean(pBuffer.baseAddress! + plane * n, qBuffer.baseAddress! + plane * n, scratch: sBuffer.baseAddress!,
                                    width: w, height: h, radius: parameters.windowRadius, workers: workers)
                }
            }}}
            pooled.withUnsafeBufferPointer { qBuffer in
            ru.withUnsafeMutableBufferPointer { ruBuffer in
            rv.withUnsafeMutableBufferPointer { rvBuffer in
                let q = qBuffer.baseAddress!, u = ruBuffer.baseAddress!, v = rvBuffer.baseAddress!
                Parallel.rows(h, workers: workers) { rows in
                    for i in (rows.lowerBound * w)..<(rows.upperBound * w) {
                        let jxx = q[i] + damping, jxy = q[n + i], jyy = q[2 * n + i] + damping
                        let bxv = q[3 * n + i], byv = q[4 * n + i]
                        let det = jxx * jyy - jxy * jxy
                        guard det > 0 else { continue }
                        var du = -(jyy * bxv - jxy * byv) / det
                        var dv = -(jxx * byv - jxy * bxv) / det
                        let length = (du * du + dv * dv).squareRoot()
                        if length > maximumStep { du *= maximumStep / length; dv *= maximumStep / length }
                        u[i] += du; v[i] += dv
                    }
                }
            }}}
        }
        return (ru, rv)
    }

    /// Doubles a level-(l+1) residual onto level l's grid (bilinear, clamped; vectors scaled by 2).
    static func upsample(_ field: (u: [Float], v: [Float]), from coarse: (width: Int, height: Int),
                         to fine: (width: Int, height: Int), workers: Int) -> (u: [Float], v: [Float]) {
        var u = [Float](repeating: 0, count: fine.width * fine.height), v = u
        field.u.withUnsafeBufferPointer { cuBuffer in
        field.v.withUnsafeBufferPointer { cvBuffer in
        u.withUnsafeMutableBufferPointer { uBuffer in
        v.withUnsafeMutableBufferPointer { vBuffer in
            let cu = cuBuffer.baseAddress!, cv = cvBuffer.baseAddress!, fu = uBuffer.baseAddress!, fv = vBuffer.baseAddress!
            Parallel.rows(fine.height, workers: workers) { rows in
                for y in rows {
                    let sy = (Float(y) + 0.5) / 2 - 0.5
                    for x in 0..<fine.width {
                        let sx = (Float(x) + 0.5) / 2 - 0.5
                        let tap = BilinearTap(sx: sx, sy: sy, width: coarse.width, height: coarse.height)
                        fu[y * fine.width + x] = 2 * tap.sample(cu, width: coarse.width)
                        fv[y * fine.width + x] = 2 * tap.sample(cv, width: coarse.width)
                    }
                }
            }
        }}}}
        return (u, v)
    }
}
