// Charbonnier: JDRL's robust L1, mean over all elements of sqrt((m * (a - b))^2 + eps^2).
//
// JDRL conventions (not BasicSR's): eps = 1e-3 (BasicSR defaults to 1e-12), and the masked loss
// Charb(M*out, M*wgt) still divides by the full element count, masked-out elements contributing
// eps each. Sums are accumulated in Double over chunks run on all cores.

import Foundation

public enum Charbonnier {
    /// mean_i sqrt((m_i * (a_i - b_i))^2 + eps^2) over all `count` elements; mask nil means m = 1.
    public static func loss(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                            count: Int, eps: Float = 1e-3) -> Double {
        guard count > 0 else { return 0 }
        let chunks = chunkCount(count)
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: chunks)
        defer { partial.deallocate() }
        let eps2 = Double(eps) * Double(eps)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var sum = 0.0
            for i in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                let m = mask.map { Double($0[i]) } ?? 1
                let d = m * (Double(a[i]) - Double(b[i]))
                sum += (d * d + eps2).squareRoot()
            }
            partial[chunk] = sum
        }
        var total = 0.0
        for chunk in 0..<chunks { total += partial[chunk] }
        return total / Double(count)
    }

    /// gradA += scale * dL/da and, if given, gradB += scale * dL/db (= -dL/da), where
    /// dL/da_i = m_i^2 (a_i - b_i) / (count * sqrt((m_i (a_i - b_i))^2 + eps^2)).
    public static func backward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                                count: Int, eps: Float = 1e-3, scale: Float,
                                gradA: UnsafeMutablePointer<Float>, gradB: UnsafeMutablePointer<Float>?) {
        guard count > 0 else { return }
        let chunks = chunkCount(count)
        let factor = Double(scale) / Double(count), eps2 = Double(eps) * Double(eps)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for i in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                let m = mask.map { Double($0[i]) } ?? 1
                let diff = Double(a[i]) - Double(b[i])
                let d = m * diff
                let g = Float(factor * m * d / (d * d + eps2).squareRoot())
                gradA[i] += g
                if let gradB { gradB[i] -= g }
            }
        }
    }

    /// Enough chunks to use every core, none smaller than 16K elements.
    private static func chunkCount(_ count: Int) -> Int {
        max(1, min(ProcessInfo.processInfo.activeProcessorCount * 2, count / 16_384))
    }
}
