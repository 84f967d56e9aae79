// out = base + scale[c] * branch: NAFNet's scaled residual (beta, gamma: one learnt factor per channel).
import Checks
import Threading

public enum ChannelScaledAdd {
    /// out may alias base.
    public static func forward(base: Tensor, branch: Tensor, scale: UnsafePointer<Float>, into out: Tensor) {
        require(base.hasSameShape(branch) && base.hasSameShape(out) && base.layout == branch.layout && base.layout == out.layout)
        let w = base.w, h = base.h, stride = base.pixelStride, block = base.block
        let contiguous = base.hasWholeBlocks   // the same layout and shape for all three
        Threading.Parallel.rows(base.n * h, minimumRowsPerChunk: 1) { rows in
            for row in rows {
                let ni = row / h, y = row % h
                if contiguous {
                    for first in Swift.stride(from: 0, to: base.c, by: block) {
                        let b = base.rowStart(ni, first, y), t = branch.rowStart(ni, first, y), o = out.rowStart(ni, first, y)
                        let k = scale + first
                        for x in 0..<w {
                            let at = x * block
                            for l in 0..<block { o[at + l] = b[at + l] + k[l] * t[at + l] }
                        }
                    }
                    continue
                }
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
        let contiguous = branch.hasWholeBlocks && gradOut.hasWholeBlocks && gradBranch.hasWholeBlocks, block = branch.block
        let sums = Threading.Parallel.reduceRows(branch.n * h, minimumRowsPerChunk: 1, initial: [Double](repeating: 0, count: c)) { rows in
            var sums = [Double](repeating: 0, count: c)
            var rowSums = [Float](repeating: 0, count: contiguous ? block : 0)
            for row in rows where contiguous {
                let ni = row / h, y = row % h
                for first in Swift.stride(from: 0, to: c, by: block) {
                    let g = gradOut.rowStart(ni, first, y), t = branch.rowStart(ni, first, y), gb = gradBranch.rowStart(ni, first, y)
                    let k = scale + first
                    rowSums.withUnsafeMutableBufferPointer { rowSums in
                        let s = rowSums.baseAddress!
                        s.update(repeating: 0, count: block)
                        for x in 0..<w {
                            let at = x * block
                            for l in 0..<block {
                                s[l] += g[at + l] * t[at + l]
                                gb[at + l] = k[l] * g[at + l]
                            }
                        }
                        for l in 0..<block { sums[first + l] += Double(s[l]) }
                    }
                }
            }
            for row in rows where !contiguous {
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
