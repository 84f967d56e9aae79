// ChannelSoftmax: softmax over the channel axis at each pixel of an NCHW tensor (the reblurring
// module's WPN head: 8 branch weights per pixel). Numerically stable: the per-pixel maximum is
// subtracted before exp. Parallel over rows; channels are strided by a plane, so the loops run
// along x to stay contiguous.

import Foundation

public enum ChannelSoftmax {
    /// output[b, i, y, x] = exp(input[b, i, y, x] - m) / sum_j exp(input[b, j, y, x] - m), m the max over j.
    public static func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                               n: Int, c: Int, h: Int, w: Int) {
        let plane = h * w
        guard c > 0, plane > 0 else { return }
        for b in 0..<n {
            let src = input + b * c * plane, dst = output + b * c * plane
            ReblurOpsBands.forEach(rows: h) { rows in
                let total = UnsafeMutablePointer<Float>.allocate(capacity: w)
                let maximum = UnsafeMutablePointer<Float>.allocate(capacity: w)
                defer { total.deallocate(); maximum.deallocate() }
                for y in rows {
                    let row = y * w
                    maximum.update(from: src + row, count: w)
                    for i in 1..<max(c, 1) {
                        let s = src + i * plane + row
                        for x in 0..<w { maximum[x] = max(maximum[x], s[x]) }
                    }
                    total.initialize(repeating: 0, count: w)
                    for i in 0..<c {
                        let s = src + i * plane + row, d = dst + i * plane + row
                        for x in 0..<w {
                            let e = exp(s[x] - maximum[x])
                            d[x] = e
                            total[x] += e
                        }
                    }
                    for x in 0..<w { total[x] = 1 / total[x] }
                    for i in 0..<c {
                        let d = dst + i * plane + row
                        for x in 0..<w { d[x] *= total[x] }
                    }
                }
            }
        }
    }

    /// Accumulates gradInput += y * (gradOutput - sum_j y_j * gradOutput_j), y the forward output.
    public static func backward(output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                gradInput: UnsafeMutablePointer<Float>, n: Int, c: Int, h: Int, w: Int) {
        let plane = h * w
        guard c > 0, plane > 0 else { return }
        for b in 0..<n {
            let y0 = output + b * c * plane, g0 = gradOutput + b * c * plane, gi0 = gradInput + b * c * plane
            ReblurOpsBands.forEach(rows: h) { rows in
                let dot = UnsafeMutablePointer<Float>.allocate(capacity: w)
                defer { dot.deallocate() }
                for y in rows {
                    let row = y * w
                    dot.initialize(repeating: 0, count: w)
                    for i in 0..<c {
                        let o = y0 + i * plane + row, g = g0 + i * plane + row
                        for x in 0..<w { dot[x] += o[x] * g[x] }
                    }
                    for i in 0..<c {
                        let o = y0 + i * plane + row, g = g0 + i * plane + row, gi = gi0 + i * plane + row
                        for x in 0..<w { gi[x] += o[x] * (g[x] - dot[x]) }
                    }
                }
            }
        }
    }
}
