import Foundation
import Threading

/// The sRGB transfer curve (IEC 61966-2-1). Defocus is an optical sum of light, so the blur is computed
/// on linear values and the result encoded back.
public enum SRGB {
    @inline(__always) public static func toLinear(_ v: Float) -> Float {
        v <= 0.04045 ? v / 12.92 : powf((v + 0.055) / 1.055, 2.4)
    }

    @inline(__always) public static func fromLinear(_ v: Float) -> Float {
        let c = min(max(v, 0), 1)
        return c <= 0.0031308 ? c * 12.92 : 1.055 * powf(c, 1 / 2.4) - 0.055
    }

    public static func toLinear(_ values: [Float], threads: Int) -> [Float] { map(values, threads: threads, toLinear) }
    public static func fromLinear(_ values: [Float], threads: Int) -> [Float] { map(values, threads: threads, fromLinear) }

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
