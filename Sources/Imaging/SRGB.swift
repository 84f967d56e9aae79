import Foundation
import Threading

/// The sRGB transfer curve (IEC 61966-2-1). Defocus sums light and exposure scales it, so Synthesis blurs
/// and the colour fit maps linear values, encoding the result back. Negative values count as 0; values
/// above 1 follow the same power law (an unclamped colour map may leave [0, 1]).
public enum SRGB {
    @inlinable @inline(__always) public static func toLinear(_ v: Float) -> Float {
        let c = max(v, 0)
        return c <= 0.04045 ? c / 12.92 : powf((c + 0.055) / 1.055, 2.4)
    }

    @inlinable @inline(__always) public static func fromLinear(_ v: Float) -> Float {
        let c = max(v, 0)
        return c <= 0.0031308 ? c * 12.92 : 1.055 * powf(c, 1 / 2.4) - 0.055
    }

    public static func toLinear(_ values: [Float], threads: Int) -> [Float] { map(values, threads: threads, toLinear) }

    /// `clampingToUnit`: values above 1 encode as 1 (an image to store).
    public static func fromLinear(_ values: [Float], threads: Int, clampingToUnit: Bool = false) -> [Float] {
        clampingToUnit ? map(values, threads: threads) { fromLinear(min($0, 1)) } : map(values, threads: threads, fromLinear)
    }

    private static func map(_ values: [Float], threads: Int, _ f: (Float) -> Float) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        let rowLength = 4096
        out.withUnsafeMutableBufferPointer { dst in
            values.withUnsafeBufferPointer { src in
                let d = dst, s = src
                Parallel.rows((values.count + rowLength - 1) / rowLength, workers: threads, minimumRowsPerChunk: 1) { rows in
                    for i in (rows.lowerBound * rowLength)..<min(values.count, rows.upperBound * rowLength) { d[i] = f(s[i]) }
                }
            }
        }
        return out
    }
}
