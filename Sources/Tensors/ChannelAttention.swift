// NAFNet's simplified channel attention: each channel scaled by a 1x1 convolution of the global average
// pool, y[c] = x[c] * s[c] with s = W * mean_hw(x) + b (W: C x C, b: C). Per sample; the pooled means and
// scales of the last forward are kept for the backward pass.
import Checks
import Threading

public final class ChannelAttention {
    public let channels: Int
    /// N x C each, plain: the last forward's pooled means and scales.
    private var pooled: [Float] = []
    private var scales: [Float] = []

    public init(channels: Int) { self.channels = channels }

    /// dst = src * (weight * pool(src) + bias) per channel; `weight` is C x C row-major (output x input).
    public func forward(src: Tensor, dst: Tensor, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
        let c = channels
        require(src.c == c && src.hasSameShape(dst) && src.layout == dst.layout)
        pooled = channelMeans(src)
        scales = [Float](repeating: 0, count: src.n * c)
        for ni in 0..<src.n {
            for o in 0..<c {
                var s = bias[o]
                for i in 0..<c { s += weight[o * c + i] * pooled[ni * c + i] }
                scales[ni * c + o] = s
            }
        }
        let w = src.w, h = src.h, ss = src.pixelStride, ds = dst.pixelStride
        let contiguous = src.hasWholeBlocks && dst.hasWholeBlocks, block = src.block
        scales.withUnsafeBufferPointer { scale in
            let scale = scale.baseAddress!
            Threading.Parallel.rows(src.n * h, minimumRowsPerChunk: 1) { rows in
                for row in rows {
                    let ni = row / h, y = row % h
                    if contiguous {
                        for first in stride(from: 0, to: c, by: block) {
                            let s = src.rowStart(ni, first, y), d = dst.rowStart(ni, first, y), k = scale + ni * c + first
                            for x in 0..<w {
                                let at = x * block
                                for l in 0..<block { d[at + l] = s[at + l] * k[l] }
                            }
                        }
                        continue
                    }
                    for ci in 0..<c {
                        let s = src.rowStart(ni, ci, y), d = dst.rowStart(ni, ci, y), k = scale[ni * c + ci]
                        for x in 0..<w { d[x * ds] = s[x * ss] * k }
                    }
                }
            }
        }
    }

    /// gradSrc overwritten; gradWeight and gradBias accumulate. `src` is the forward's input.
    /// With t[c] = sum_hw gradDst[c] * src[c]: gradSrc[c] = gradDst[c] * s[c] + (W^T t)[c] / HW,
    /// gradWeight[o, i] += t[o] * pool[i], gradBias[o] += t[o].
    public func backward(src: Tensor, gradDst: Tensor, gradSrc: Tensor, weight: UnsafePointer<Float>,
                         gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>) {
        let c = channels
        require(pooled.count == src.n * c, "ChannelAttention.backward before a forward of this shape")
        require(gradDst.hasSameShape(src) && gradSrc.hasSameShape(src) && gradDst.layout == src.layout && gradSrc.layout == src.layout)
        let products = channelSums(src, times: gradDst)
        var fromPool = [Float](repeating: 0, count: src.n * c)
        let area = Float(src.h * src.w)
        for ni in 0..<src.n {
            for o in 0..<c {
                let t = products[ni * c + o]
                gradBias[o] += t
                for i in 0..<c {
                    gradWeight[o * c + i] += t * pooled[ni * c + i]
                    fromPool[ni * c + i] += weight[o * c + i] * t / area
                }
            }
        }
        let w = src.w, h = src.h, stride = src.pixelStride
        let contiguous = src.hasWholeBlocks && gradSrc.hasWholeBlocks, block = src.block
        scales.withUnsafeBufferPointer { scale in
            fromPool.withUnsafeBufferPointer { pool in
                let scale = scale.baseAddress!, pool = pool.baseAddress!
                Threading.Parallel.rows(src.n * h, minimumRowsPerChunk: 1) { rows in
                    for row in rows {
                        let ni = row / h, y = row % h
                        if contiguous {
                            for first in Swift.stride(from: 0, to: c, by: block) {
                                let g = gradDst.rowStart(ni, first, y), gs = gradSrc.rowStart(ni, first, y)
                                let k = scale + ni * c + first, p = pool + ni * c + first
                                for x in 0..<w {
                                    let at = x * block
                                    for l in 0..<block { gs[at + l] = g[at + l] * k[l] + p[l] }
                                }
                            }
                            continue
                        }
                        for ci in 0..<c {
                            let g = gradDst.rowStart(ni, ci, y), gs = gradSrc.rowStart(ni, ci, y)
                            let k = scale[ni * c + ci], p = pool[ni * c + ci]
                            for x in 0..<w { gs[x * stride] = g[x * stride] * k + p }
                        }
                    }
                }
            }
        }
    }

    /// Mean over H x W of every (sample, channel), N x C plain (Double sums: 512x512 planes).
    private func channelMeans(_ t: Tensor) -> [Float] {
        channelSums(t, times: nil).map { $0 / Float(t.h * t.w) }
    }

    /// sum over H x W of a[c] (* b[c]) for every (sample, channel), in Double per channel.
    private func channelSums(_ a: Tensor, times b: Tensor?) -> [Float] {
        let c = channels, w = a.w, h = a.h, sa = a.pixelStride, sb = b?.pixelStride ?? 0
        return Threading.Parallel.map(a.n * c) { task -> Float in
            let ni = task / c, ci = task % c
            var sum = 0.0
            for y in 0..<h {
                let pa = a.rowStart(ni, ci, y)
                if let b {
                    let pb = b.rowStart(ni, ci, y)
                    for x in 0..<w { sum += Double(pa[x * sa] * pb[x * sb]) }
                } else {
                    for x in 0..<w { sum += Double(pa[x * sa]) }
                }
            }
            return Float(sum)
        }
    }
}
