// IsotropicBlurNaive: the reblurring module's per-pixel isotropic blur, computed tap by tap.
//
// This is the test oracle for `IsotropicBlur` (the fast ring-sum path). It follows the PyTorch
// reference (`Reblur.forward` in peers/torch_jdrl.py) literally: for each kernel size K it builds
// the K*K tap logits through the interpolation matrix A_K (stored in Float, as torch stores it),
// takes a softmax over all K*K taps (taps outside the disc keep logit 0, not -inf), and applies
// the kernel with zero padding K//2. Arithmetic is in Double so that the oracle's own rounding
// is far below the tolerances the fast path is held to. It is slow on purpose: keep it simple.

import Foundation

public enum IsotropicBlurNaive {
    /// Same buffer contract as `IsotropicBlur.forward`: image n x 3 x h x w, seeds n x 35 x h x w
    /// (raw, before |.|), weights n x 8 x h x w (already softmaxed), output n x 3 x h x w (overwritten).
    public static func forward(image: UnsafePointer<Float>, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int) {
        let plane = h * w
        let matrices = NaiveKernelTable.shared
        var kernel = [Double](repeating: 0, count: 15 * 15)
        for b in 0..<n {
            let img = image + b * 3 * plane
            let sd = seeds + b * 35 * plane
            let wt = weights + b * 8 * plane
            let out = output + b * 3 * plane
            for y in 0..<h {
                for x in 0..<w {
                    let p = y * w + x
                    var sum = [Double](repeating: 0, count: 3)
                    for c in 0..<3 { sum[c] = Double(wt[p]) * Double(img[c * plane + p]) }
                    for k in 0..<7 {
                        matrices.kernel(k, seeds: sd, pixel: p, plane: plane, into: &kernel)
                        let size = 2 * k + 3, mid = k + 1
                        var blur = [0.0, 0.0, 0.0]
                        for i in 0..<size {
                            let sy = y + i - mid
                            if sy < 0 || sy >= h { continue }
                            for j in 0..<size {
                                let sx = x + j - mid
                                if sx < 0 || sx >= w { continue }
                                let tap = kernel[i * size + j]
                                for c in 0..<3 { blur[c] += tap * Double(img[c * plane + sy * w + sx]) }
                            }
                        }
                        let weight = Double(wt[(k + 1) * plane + p])
                        for c in 0..<3 { sum[c] += weight * blur[c] }
                    }
                    for c in 0..<3 { out[c * plane + p] = Float(sum[c]) }
                }
            }
        }
    }

    /// Same contract as `IsotropicBlur.backward`: accumulates (+=) into gradImage, gradSeeds, gradWeights.
    public static func backward(image: UnsafePointer<Float>, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                gradOutput: UnsafePointer<Float>, gradImage: UnsafeMutablePointer<Float>,
                                gradSeeds: UnsafeMutablePointer<Float>, gradWeights: UnsafeMutablePointer<Float>,
                                n: Int, h: Int, w: Int) {
        let plane = h * w
        let matrices = NaiveKernelTable.shared
        var kernel = [Double](repeating: 0, count: 15 * 15)
        var tapDot = [Double](repeating: 0, count: 15 * 15)
        for b in 0..<n {
            let img = image + b * 3 * plane
            let sd = seeds + b * 35 * plane
            let wt = weights + b * 8 * plane
            let gOut = gradOutput + b * 3 * plane
            // The image gradient is a scatter; gather it in Double and add it once at the end.
            var gImg = [Double](repeating: 0, count: 3 * plane)
            for y in 0..<h {
                for x in 0..<w {
                    let p = y * w + x
                    var identityDot = 0.0
                    for c in 0..<3 {
                        identityDot += Double(gOut[c * plane + p]) * Double(img[c * plane + p])
                        gImg[c * plane + p] += Double(wt[p]) * Double(gOut[c * plane + p])
                    }
                    var gradW = [Double](repeating: 0, count: 8)
                    gradW[0] = identityDot
                    var seedBase = 0
                    for k in 0..<7 {
                        matrices.kernel(k, seeds: sd, pixel: p, plane: plane, into: &kernel)
                        let size = 2 * k + 3, mid = k + 1, taps = size * size
                        let weight = Double(wt[(k + 1) * plane + p])
                        // tapDot[t] = <gradOutput(p), image(p + t)> over RGB: dL/dkernel_t up to the weight.
                        var blurDot = 0.0
                        for i in 0..<size {
                            for j in 0..<size {
                                let sy = y + i - mid, sx = x + j - mid
                                var dot = 0.0
                                if sy >= 0 && sy < h && sx >= 0 && sx < w {
                                    let q = sy * w + sx
                                    for c in 0..<3 {
                                        dot += Double(gOut[c * plane + p]) * Double(img[c * plane + q])
                                        gImg[c * plane + q] += weight * kernel[i * size + j] * Double(gOut[c * plane + p])
                                    }
                                }
                                tapDot[i * size + j] = dot
                                blurDot += kernel[i * size + j] * dot
                            }
                        }
                        gradW[k + 1] = blurDot
                        // Softmax backward, then through A_K to the |seeds|, then through |.|.
                        let radial = k + 2
                        var gradRadial = [Double](repeating: 0, count: radial)
                        let matrix = matrices.matrices[k]
                        for t in 0..<taps {
                            let gradLogit = weight * kernel[t] * (tapDot[t] - blurDot)
                            for r in 0..<radial { gradRadial[r] += Double(matrix[t * radial + r]) * gradLogit }
                        }
                        for r in 0..<radial {
                            let raw = sd[(seedBase + r) * plane + p]
                            let sign: Double = raw > 0 ? 1 : (raw < 0 ? -1 : 0)
                            gradSeeds[b * 35 * plane + (seedBase + r) * plane + p] += Float(sign * gradRadial[r])
                        }
                        seedBase += radial
                    }
                    for m in 0..<8 { gradWeights[b * 8 * plane + m * plane + p] += Float(gradW[m]) }
                }
            }
            for i in 0..<(3 * plane) { gradImage[b * 3 * plane + i] += Float(gImg[i]) }
        }
    }
}

/// The seven interpolation matrices A_K (K*K rows, (K+1)/2 columns, Float like torch's buffers),
/// built exactly as `interpolation_matrix` in torch_jdrl.py builds them.
struct NaiveKernelTable: @unchecked Sendable {
    static let shared = NaiveKernelTable()
    /// matrices[k] is row-major (K*K) x (k+2) for K = 2k+3.
    let matrices: [[Float]]

    init() {
        var all: [[Float]] = []
        for k in 0..<7 {
            let size = 2 * k + 3, radial = k + 2, mid = k + 1
            var a = [Float](repeating: 0, count: size * size * radial)
            for i in 0..<size {
                for j in 0..<size {
                    let d = hypot(Double(i - mid), Double(j - mid))
                    if d > Double(mid) { continue }
                    let lo = Int(d.rounded(.down)), hi = Int(d.rounded(.up))
                    let row = (i * size + j) * radial
                    if lo == hi {
                        a[row + lo] = 1
                    } else {
                        a[row + lo] = Float(Double(hi) - d)
                        a[row + hi] = Float(d - Double(lo))
                    }
                }
            }
            all.append(a)
        }
        matrices = all
    }

    /// Kernel k (K = 2k+3) at one pixel: softmax over all K*K taps of A_K * |seeds|, max-subtracted.
    func kernel(_ k: Int, seeds: UnsafePointer<Float>, pixel: Int, plane: Int, into kernel: inout [Double]) {
        let size = 2 * k + 3, radial = k + 2, taps = size * size
        let seedBase = k * (k + 3) / 2     // 2 + 3 + ... + (k+1): the seeds the smaller kernels use
        let matrix = matrices[k]
        var maxLogit = -Double.infinity
        for t in 0..<taps {
            var logit = 0.0
            for r in 0..<radial {
                logit += Double(matrix[t * radial + r]) * Double(abs(seeds[(seedBase + r) * plane + pixel]))
            }
            kernel[t] = logit
            maxLogit = max(maxLogit, logit)
        }
        var total = 0.0
        for t in 0..<taps {
            kernel[t] = exp(kernel[t] - maxLogit)
            total += kernel[t]
        }
        for t in 0..<taps { kernel[t] /= total }
    }
}
