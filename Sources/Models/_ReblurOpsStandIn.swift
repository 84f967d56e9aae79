// TEMPORARY stand-in (deleted at merge): naive versions of the custom ops another engineer writes in
// Sources/Tensors/{IsotropicBlur,ChannelSoftmax,Charbonnier}.swift, with exactly their API, so that
// the reblurring module compiles and can be tested before that work lands. The real IsotropicBlur
// uses ring sums; this one applies each pixel's combined 15x15 kernel directly (slow, obviously right).
import Dispatch
import Foundation

public enum IsotropicBlur {
    public static let seedSplit = [2, 3, 4, 5, 6, 7, 8]

    /// Per kernel size: for each tap of the KxK window, the two radial seeds it interpolates.
    struct Tap { var dy: Int, dx: Int, inside: Bool, lo: Int, hi: Int, wlo: Float, whi: Float }
    static let taps: [[Tap]] = seedSplit.map { r in
        let k = 2 * r - 1, mid = r - 1
        var out: [Tap] = []
        for i in 0..<k {
            for j in 0..<k {
                let d = (Double((i - mid) * (i - mid) + (j - mid) * (j - mid))).squareRoot()
                if d > Double(mid) { out.append(Tap(dy: i - mid, dx: j - mid, inside: false, lo: 0, hi: 0, wlo: 0, whi: 0)); continue }
                let lo = Int(d.rounded(.down)), hi = Int(d.rounded(.up))
                out.append(lo == hi ? Tap(dy: i - mid, dx: j - mid, inside: true, lo: lo, hi: hi, wlo: 1, whi: 0)
                           : Tap(dy: i - mid, dx: j - mid, inside: true, lo: lo, hi: hi, wlo: Float(Double(hi) - d), whi: Float(d - Double(lo))))
            }
        }
        return out
    }
    static let seedOffsets: [Int] = seedSplit.indices.map { seedSplit[..<$0].reduce(0, +) }

    /// Offset of kernel k's taps in a flat per-pixel buffer of 679 values.
    static let kernelOffsets: [Int] = seedSplit.indices.map { k in seedSplit[..<k].reduce(0) { $0 + (2 * $1 - 1) * (2 * $1 - 1) } }
    static let tapTotal = 679

    /// Per-pixel kernels: kern[kernelOffsets[k] + t] (softmax of the tap logits) and the combined 15x15 kernel E.
    static func kernels(seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>, ni: Int, y: Int, x: Int, h: Int, w: Int,
                        kern: UnsafeMutablePointer<Float>, combined: UnsafeMutablePointer<Float>) {
        let plane = h * w, pix = y * w + x
        combined.update(repeating: 0, count: 225)
        combined[7 * 15 + 7] = weights[(ni * 8) * plane + pix]
        var s: (Float, Float, Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0, 0, 0)
        for k in 0..<taps.count {
            let r = seedSplit[k]
            let tapList = taps[k]
            let kk = kern + kernelOffsets[k]
            withUnsafeMutableBytes(of: &s) { raw in
                let sp = raw.bindMemory(to: Float.self)
                for i in 0..<r { sp[i] = abs(seeds[(ni * 35 + seedOffsets[k] + i) * plane + pix]) }
                var maxLogit: Float = -.infinity
                for t in 0..<tapList.count {
                    let tap = tapList[t]
                    let l = tap.inside ? tap.wlo * sp[tap.lo] + tap.whi * sp[tap.hi] : 0
                    kk[t] = l; maxLogit = max(maxLogit, l)
                }
                var z: Float = 0
                for t in 0..<tapList.count { kk[t] = exp(kk[t] - maxLogit); z += kk[t] }
                let wk = weights[(ni * 8 + k + 1) * plane + pix]
                let inv = 1 / z
                for t in 0..<tapList.count {
                    let tap = tapList[t]
                    kk[t] *= inv
                    combined[(tap.dy + 7) * 15 + tap.dx + 7] += wk * kk[t]
                }
            }
        }
    }

    public static func forward(image: UnsafePointer<Float>, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int) {
        let plane = h * w
        DispatchQueue.concurrentPerform(iterations: n * h) { row in
            let ni = row / h, y = row % h
            let kern = UnsafeMutablePointer<Float>.allocate(capacity: tapTotal); defer { kern.deallocate() }
            let e = UnsafeMutablePointer<Float>.allocate(capacity: 225); defer { e.deallocate() }
            for x in 0..<w {
                kernels(seeds: seeds, weights: weights, ni: ni, y: y, x: x, h: h, w: w, kern: kern, combined: e)
                for c in 0..<3 {
                    let img = image + (ni * 3 + c) * plane
                    var acc: Float = 0
                    for dy in -7...7 where y + dy >= 0 && y + dy < h {
                        for dx in -7...7 where x + dx >= 0 && x + dx < w {
                            acc += e[(dy + 7) * 15 + dx + 7] * img[(y + dy) * w + x + dx]
                        }
                    }
                    output[(ni * 3 + c) * plane + y * w + x] = acc
                }
            }
        }
    }

    public static func backward(image: UnsafePointer<Float>, seeds: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                gradOutput: UnsafePointer<Float>, gradImage: UnsafeMutablePointer<Float>,
                                gradSeeds: UnsafeMutablePointer<Float>, gradWeights: UnsafeMutablePointer<Float>,
                                n: Int, h: Int, w: Int) {
        let plane = h * w
        let combinedAll = UnsafeMutablePointer<Float>.allocate(capacity: n * plane * 225)
        defer { combinedAll.deallocate() }
        DispatchQueue.concurrentPerform(iterations: n * h) { row in
            let ni = row / h, y = row % h
            let kern = UnsafeMutablePointer<Float>.allocate(capacity: tapTotal); defer { kern.deallocate() }
            let dE = UnsafeMutablePointer<Float>.allocate(capacity: 225); defer { dE.deallocate() }
            for x in 0..<w {
                let pix = y * w + x
                let e = combinedAll + ((ni * plane) + pix) * 225
                kernels(seeds: seeds, weights: weights, ni: ni, y: y, x: x, h: h, w: w, kern: kern, combined: e)
                for t in 0..<225 { dE[t] = 0 }
                for c in 0..<3 {
                    let img = image + (ni * 3 + c) * plane
                    let g = gradOutput[(ni * 3 + c) * plane + pix]
                    for dy in -7...7 where y + dy >= 0 && y + dy < h {
                        for dx in -7...7 where x + dx >= 0 && x + dx < w {
                            dE[(dy + 7) * 15 + dx + 7] += g * img[(y + dy) * w + x + dx]
                        }
                    }
                }
                gradWeights[(ni * 8) * plane + pix] += dE[7 * 15 + 7]
                for (k, tapList) in taps.enumerated() {
                    let kk = kern + kernelOffsets[k]
                    let wk = weights[(ni * 8 + k + 1) * plane + pix]
                    var gw: Float = 0, dot: Float = 0
                    for (t, tap) in tapList.enumerated() {
                        let d = dE[(tap.dy + 7) * 15 + tap.dx + 7]
                        gw += d * kk[t]
                        dot += kk[t] * wk * d
                    }
                    gradWeights[(ni * 8 + k + 1) * plane + pix] += gw
                    for (t, tap) in tapList.enumerated() where tap.inside {
                        let dlogit = kk[t] * (wk * dE[(tap.dy + 7) * 15 + tap.dx + 7] - dot)
                        let base = (ni * 35 + seedOffsets[k]) * plane + pix
                        let slo = seeds[base + tap.lo * plane], shi = seeds[base + tap.hi * plane]
                        gradSeeds[base + tap.lo * plane] += tap.wlo * dlogit * (slo < 0 ? -1 : (slo > 0 ? 1 : 0))
                        gradSeeds[base + tap.hi * plane] += tap.whi * dlogit * (shi < 0 ? -1 : (shi > 0 ? 1 : 0))
                    }
                }
            }
        }
        // gradImage(q) = sum_t E(q - t)[t] * gradOut(q - t): a gather, parallel over rows.
        DispatchQueue.concurrentPerform(iterations: n * h) { row in
            let ni = row / h, y = row % h
            for x in 0..<w {
                for c in 0..<3 {
                    let g = gradOutput + (ni * 3 + c) * plane
                    var acc: Float = 0
                    for dy in -7...7 where y - dy >= 0 && y - dy < h {
                        for dx in -7...7 where x - dx >= 0 && x - dx < w {
                            let p = (y - dy) * w + x - dx
                            acc += combinedAll[(ni * plane + p) * 225 + (dy + 7) * 15 + dx + 7] * g[p]
                        }
                    }
                    gradImage[(ni * 3 + c) * plane + y * w + x] += acc
                }
            }
        }
    }
}

public enum ChannelSoftmax {
    public static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, c: Int, h: Int, w: Int) {
        let plane = h * w
        for ni in 0..<n {
            for p in 0..<plane {
                var m: Float = -.infinity
                for ci in 0..<c { m = max(m, input[(ni * c + ci) * plane + p]) }
                var z: Float = 0
                for ci in 0..<c { let e = exp(input[(ni * c + ci) * plane + p] - m); output[(ni * c + ci) * plane + p] = e; z += e }
                for ci in 0..<c { output[(ni * c + ci) * plane + p] /= z }
            }
        }
    }

    public static func backward(output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>,
                                n: Int, c: Int, h: Int, w: Int) {
        let plane = h * w
        for ni in 0..<n {
            for p in 0..<plane {
                var dot: Float = 0
                for ci in 0..<c { let i = (ni * c + ci) * plane + p; dot += output[i] * gradOutput[i] }
                for ci in 0..<c { let i = (ni * c + ci) * plane + p; gradInput[i] += output[i] * (gradOutput[i] - dot) }
            }
        }
    }
}

public enum Charbonnier {
    public static func loss(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, mask: UnsafePointer<Float>?, count: Int, eps: Float) -> Double {
        var s = 0.0
        for i in 0..<count {
            let d = Double((mask?[i] ?? 1) * (a[i] - b[i]))
            s += (d * d + Double(eps) * Double(eps)).squareRoot()
        }
        return s / Double(count)
    }

    public static func backward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, mask: UnsafePointer<Float>?, count: Int, eps: Float,
                                scale: Float, gradA: UnsafeMutablePointer<Float>, gradB: UnsafeMutablePointer<Float>?) {
        let k = scale / Float(count)
        for i in 0..<count {
            let m = mask?[i] ?? 1
            let d = m * (a[i] - b[i])
            let g = k * m * d / (d * d + eps * eps).squareRoot()
            gradA[i] += g
            gradB?[i] -= g
        }
    }
}
