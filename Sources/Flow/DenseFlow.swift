import Foundation
import Tensors
import Threading

/// Settings of the dense residual stage (part of the flow parameters hash).
/// Defaults are deliberately conservative (half resolution, 33x33 windows, strong damping, NCC^8
/// confidence): on blurry-vs-sharp pairs a fine, small-window residual chases the blur difference
/// (measured on Synthesis pairs: EPE 0.28 px with 3 levels / 11x11 windows vs 0.04 px with these), so
/// the residual only follows smooth misalignment the global model misses. `nonRigid` is the preset
/// for pairs with real local motion and mild blur.
public struct DenseFlowParameters: BandPassMatching, Codable, Sendable, Equatable, Hashable {
    /// Number of pyramid levels the residual is refined on, coarse to fine, ending at `finestLevel`.
    public var levels: Int = 1
    /// 0 refines at full resolution; 1 stops at half resolution and upsamples the (smooth) residual.
    public var finestLevel: Int = 1
    public var iterationsPerLevel: Int = 2
    /// Half-size of the square window whose structure tensor is pooled (Lucas-Kanade window).
    public var windowRadius: Int = 16
    /// Gaussian pre-blur, level pixels (BandPassMatching).
    public var preBlurSigma: Float = 1.0
    /// Scale of the local mean removed, level pixels (BandPassMatching).
    public var illuminationSigma: Float = 8
    /// Tikhonov damping of each update, relative to the normalised images' gradient energy: where the
    /// window has no texture (a defocused background) the residual stays at the global model.
    public var damping: Float = 1.0
    /// Robust scale of the brightness residual (in units of the normalised images' std):
    /// pixels that disagree by much more than this (blur, occlusion) get little weight.
    public var robustScale: Float = 0.5
    /// Updates are weighted by (window NCC of A and warped B)^confidencePower: 0 ignores the NCC.
    public var confidencePower: Float = 8
    /// Largest update per iteration, level pixels (keeps a bad linearisation from jumping away).
    public var maximumStep: Float = 1
    public init() {}

    /// Finer and more flexible: 3 levels down to full resolution, 11x11 windows, light damping.
    public static var nonRigid: DenseFlowParameters {
        var p = DenseFlowParameters()
        p.levels = 3; p.finestLevel = 0; p.iterationsPerLevel = 3; p.windowRadius = 5
        p.damping = 0.05; p.confidencePower = 4
        return p
    }
}

/// The dense residual on top of the global model: coarse-to-fine dense Lucas-Kanade on band-pass,
/// contrast-normalised images, with robust weights and damping, initialised from the global map.
/// Convention: the flow f satisfies A(p) ~ B(p + f(p)); samples outside B are clamped to its border
/// and then given zero weight, so near-border pixels keep what the window or the global model says.
enum DenseRefiner {
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
        // Product planes and their pooled means: the structure tensor (3), the mismatch projections (2),
        // and a*b, a*a, b*b for the window's normalised correlation; scratch for the box filter.
        let planes = 8
        var products = [Float](repeating: 0, count: planes * n)
        var pooled = products
        var scratch = [Float](repeating: 0, count: n)
        let robust2 = parameters.robustScale * parameters.robustScale
        let maximumStep = parameters.maximumStep
        let confidencePower = parameters.confidencePower
        let margin = parameters.ignoredBorder(width: w, height: h)
        let lowEdge = Float(margin)
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
                            var gx: Float = 0, gy: Float = 0, it: Float = 0, weight: Float = 0, warped: Float = 0
                            if x >= margin, y >= margin, x < w - margin, y < h - margin,
                               sx >= lowEdge, sy >= lowEdge, sx <= Float(w - 1 - margin), sy <= Float(h - 1 - margin) {
                                let tap = BilinearTap(sx: sx, sy: sy, width: w, height: h)
                                // Symmetric gradient: the mean of A's and warped B's is less biased by
                                // the blur difference than either alone.
                                gx = 0.5 * (ax[i] + tap.sample(bx, width: w))
                                gy = 0.5 * (ay[i] + tap.sample(by, width: w))
                                warped = tap.sample(bp, width: w)
                                it = warped - ap[i]
                                weight = 1 / (1 + it * it / robust2)
                            }
                            p[i] = weight * gx * gx
                            p[n + i] = weight * gx * gy
                            p[2 * n + i] = weight * gy * gy
                            p[3 * n + i] = weight * gx * it
                            p[4 * n + i] = weight * gy * it
                            let valid: Float = weight > 0 ? 1 : 0
                            p[5 * n + i] = valid * ap[i] * warped
                            p[6 * n + i] = valid * ap[i] * ap[i]
                            p[7 * n + i] = warped * warped
                        }
                    }
                }
            }}}}}}}}}}}
            products.withUnsafeBufferPointer { pBuffer in
            pooled.withUnsafeMutableBufferPointer { qBuffer in
            scratch.withUnsafeMutableBufferPointer { sBuffer in
                for plane in 0..<planes {
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
                        // Confidence: the window's normalised correlation of A and warped B. Where one
                        // image is defocused and the other is not it is low, and the damping then keeps
                        // the residual where it was (the global model) instead of chasing texture energy.
                        // (Running sums can dip a hair below zero on flat windows: no confidence there.)
                        let energies = q[6 * n + i] * q[7 * n + i]
                        let ncc = energies > 1e-12 ? q[5 * n + i] / energies.squareRoot() : 0
                        let confidence = ncc > 0 ? powf(min(ncc, 1), confidencePower) : 0
                        let jxx = confidence * q[i] + damping, jxy = confidence * q[n + i], jyy = confidence * q[2 * n + i] + damping
                        let bxv = confidence * q[3 * n + i], byv = confidence * q[4 * n + i]
                        let det = jxx * jyy - jxy * jxy
                        guard det > 0, det.isFinite else { continue }
                        var du = -(jyy * bxv - jxy * byv) / det
                        var dv = -(jxx * byv - jxy * bxv) / det
                        let length = (du * du + dv * dv).squareRoot()
                        guard length.isFinite else { continue }
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
