// Charbonnier: JDRL's robust L1, mean over all elements of sqrt((m * (a - b))^2 + eps^2).
//
// JDRL conventions (not BasicSR's): eps = 1e-3 (BasicSR defaults to 1e-12), and the masked loss
// Charb(M*out, M*wgt) still divides by the full element count, masked-out elements contributing
// eps each. Sums are accumulated in Double per chunk and added in chunk order (deterministic for a
// given worker count).

import Foundation
import Threading

public enum Charbonnier {
    /// mean_i sqrt((m_i * (a_i - b_i))^2 + eps^2) over all `count` elements; mask nil means m = 1.
    public static func loss(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                            count: Int, eps: Float = 1e-3) -> Double {
        guard count > 0 else { return 0 }
        let chunks = Threading.Parallel.pieces(count, minimumChunk: minimumChunk)
        let eps2 = Double(eps) * Double(eps)
        let partial = Threading.Parallel.map(chunks) { chunk -> Double in
            var sum = 0.0
            for i in Threading.Parallel.range(chunk, of: chunks, count: count) {
                let m = mask.map { Double($0[i]) } ?? 1
                let d = m * (Double(a[i]) - Double(b[i]))
                sum += (d * d + eps2).squareRoot()
            }
            return sum
        }
        var total = 0.0
        for sum in partial { total += sum }
        return total / Double(count)
    }

    /// gradA += scale * dL/da and, if given, gradB += scale * dL/db (= -dL/da), where
    /// dL/da_i = m_i^2 (a_i - b_i) / (count * sqrt((m_i (a_i - b_i))^2 + eps^2)).
    public static func backward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                                count: Int, eps: Float = 1e-3, scale: Float,
                                gradA: UnsafeMutablePointer<Float>, gradB: UnsafeMutablePointer<Float>?) {
        guard count > 0 else { return }
        let factor = Double(scale) / Double(count), eps2 = Double(eps) * Double(eps)
        Parallel.chunks(count, minimumChunk: minimumChunk) { range in
            for i in range {
                let m = mask.map { Double($0[i]) } ?? 1
                let diff = Double(a[i]) - Double(b[i])
                let d = m * diff
                let g = Float(factor * m * d / (d * d + eps2).squareRoot())
                gradA[i] += g
                if let gradB { gradB[i] -= g }
            }
        }
    }

    /// No chunk smaller than 16K elements (two per worker at most: see `Parallel.pieces`).
    private static let minimumChunk = 16_384
}
