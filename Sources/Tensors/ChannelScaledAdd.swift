// out = base + scale[c] * branch: NAFNet's scaled residual (beta, gamma: one learnt factor per channel).
import Checks
import Threading

public enum ChannelScaledAdd {
    /// out may alias base.
    public static func forward(base: Tensor, branch: Tensor, scale: UnsafePointer<Float>, into out: Tensor) {
        require(base.hasSameShape(branch) && base.hasSameShape(out) && base.layout == branch.layout && base.layout == out.layout)
        let w = base.w, h = base.h, stride = base.pixelStride
        Threading.Parallel.rows(base.n * h, minimumRowsPerChunk: 1) { rows in
            for row in rows {
                let ni = row / h, y = row % h
                for ci in 0..<base.c {
                    let b = base.rowStart(ni, ci, y), t = branch.rowStart(ni, ci, y), o = out.rowStart(ni, ci, y), k = scale[ci]
                    for x in 0..<w { o[x * stride] = b[x * stride] + k * t[x * stride] }
                }
            }
        }
    }

    /// gradBranch = scale * gradOut (overwritten); gradScale[c] += sum(gradOut * branch). (gradBase is gradOut itself.)
    public static func backward(gradOut: Tensor, branch: Tensor, scale: UnsafePointer<Float>, gradBranch: Tensor,
                                gradScale: UnsafeMutablePointer<Float>) {
        require(gradOut.hasSameShape(branch) && gradBranch.hasSameShape(branch) && gradOut.layout == branch.layout
                && gradBranch.layout == branch.layout)
        let w = branch.w, h = branch.h, stride = branch.pixelStride, c = branch.c
        let sums = Threading.Parallel.reduceRows(branch.n * h, minimumRowsPerChunk: 1, initial: [Double](repeating: 0, count: c)) { rows in
            var sums = [Double](repeating: 0, count: c)
            for row in rows {
                let ni = row / h, y = row % h
                for ci in 0..<c {
                    let g = gradOut.rowStart(ni, ci, y), t = branch.rowStart(ni, ci, y), gb = gradBranch.rowStart(ni, ci, y), k = scale[ci]
                    var sum: Float = 0
                    for x in 0..<w {
                        sum += g[x * stride] * t[x * stride]
                        gb[x * stride] = k * g[x * stride]
                    }
                    sums[ci] += Double(sum)
                }
            }
            return sums
        } combine: { total, part in
            for i in total.indices { total[i] += part[i] }
        }
        for ci in 0..<c { gradScale[ci] += Float(sums[ci]) }
    }
}
