// Layer normalisation over the channels of each pixel, with a per-channel scale and shift (NAFNet's
// LayerNorm2d): y = weight * (x - mean) / sqrt(var + eps) + bias, mean and (biased) variance over C.
// Forward keeps the normalised values and 1/sqrt(var + eps) per pixel for the backward pass; buffers
// are allocated on the first forward of a shape and reused.
import Checks
import Threading

public final class ChannelLayerNorm {
    public let channels: Int
    public let eps: Float
    /// The last forward's normalised input (x - mean) * rstd, same shape and layout as the input.
    private var normalised: Tensor?
    /// 1/sqrt(var + eps) per pixel (N x H x W, plain).
    private var rstd: [Float] = []

    public init(channels: Int, eps: Float = 1e-6) {
        self.channels = channels
        self.eps = eps
    }

    /// dst = weight * normalise(src) + bias; `weight` and `bias` hold `channels` floats. dst may not alias src.
    public func forward(src: Tensor, dst: Tensor, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>) {
        require(src.c == channels && src.hasSameShape(dst) && src.layout == dst.layout && src !== dst)
        if normalised == nil || !normalised!.hasSameShape(src) || normalised!.layout != src.layout {
            normalised = Tensor(n: src.n, c: src.c, h: src.h, w: src.w, layout: src.layout)
            rstd = [Float](repeating: 0, count: src.n * src.h * src.w)
        }
        let xhat = normalised!, c = channels, w = src.w, h = src.h, stride = src.pixelStride, eps = eps
        let contiguous = src.hasWholeBlocks && dst.hasWholeBlocks, block = src.block
        rstd.withUnsafeMutableBufferPointer { r in
            let r = r.baseAddress!
            Threading.Parallel.rows(src.n * h, minimumRowsPerChunk: 1) { rows in
                var mean = [Float](repeating: 0, count: w), variance = [Float](repeating: 0, count: w)
                // Whole blocks: per-lane partial sums over the blocks (contiguous), then over the lanes.
                var lanes = [Float](repeating: 0, count: contiguous ? w * block : 0)
                for row in rows where contiguous {
                    let ni = row / h, y = row % h, rr = r + row * w
                    Self.sumOverChannels(src, ni, y, into: &lanes, perPixel: &mean, block: block, c: c) { _, v in v }
                    for x in 0..<w { mean[x] /= Float(c) }
                    Self.sumOverChannels(src, ni, y, into: &lanes, perPixel: &variance, block: block, c: c) { x, v in
                        let d = v - mean[x]
                        return d * d
                    }
                    for x in 0..<w { rr[x] = 1 / (variance[x] / Float(c) + eps).squareRoot() }
                    for first in Swift.stride(from: 0, to: c, by: block) {
                        let s = src.rowStart(ni, first, y), n = xhat.rowStart(ni, first, y), d = dst.rowStart(ni, first, y)
                        let g = weight + first, b = bias + first
                        for x in 0..<w {
                            let at = x * block, m = mean[x], scale = rr[x]
                            for l in 0..<block {
                                let v = (s[at + l] - m) * scale
                                n[at + l] = v
                                d[at + l] = g[l] * v + b[l]
                            }
                        }
                    }
                }
                for row in rows where !contiguous {
                    let ni = row / h, y = row % h
                    for x in 0..<w { mean[x] = 0; variance[x] = 0 }
                    for ci in 0..<c {
                        let s = src.rowStart(ni, ci, y)
                        for x in 0..<w { mean[x] += s[x * stride] }
                    }
                    for x in 0..<w { mean[x] /= Float(c) }
                    for ci in 0..<c {
                        let s = src.rowStart(ni, ci, y)
                        for x in 0..<w { let d = s[x * stride] - mean[x]; variance[x] += d * d }
                    }
                    let rr = r + row * w
                    for x in 0..<w { rr[x] = 1 / (variance[x] / Float(c) + eps).squareRoot() }
                    for ci in 0..<c {
                        let s = src.rowStart(ni, ci, y), n = xhat.rowStart(ni, ci, y), d = dst.rowStart(ni, ci, y)
                        let g = weight[ci], b = bias[ci]
                        for x in 0..<w {
                            let v = (s[x * stride] - mean[x]) * rr[x]
                            n[x * stride] = v
                            d[x * stride] = g * v + b
                        }
                    }
                }
            }
        }
    }

    /// One row (n, y) of `backward` on whole-block tensors: per-lane partial sums of g = gradDst * weight and
    /// g * xhat over the blocks (contiguous runs), reduced per pixel, then gradSrc; the weight and bias
    /// gradients accumulate into sums[0..<c] and sums[c..<2c]. `scratch`: 2 * w * block + 2 * w floats.
    @inline(__always)
    private static func backwardRowOfWholeBlocks(_ gradDst: Tensor, _ xhat: Tensor, _ gradSrc: Tensor, row: Int, rstd: UnsafePointer<Float>,
                                                 weight: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                                 sums: UnsafeMutablePointer<Float>, c: Int) {
        let w = gradDst.w, block = gradDst.block, ni = row / gradDst.h, y = row % gradDst.h
        let lanesG = scratch, lanesGX = scratch + w * block, meanG = scratch + 2 * w * block, meanGX = meanG + w
        lanesG.update(repeating: 0, count: 2 * w * block)
        for first in Swift.stride(from: 0, to: c, by: block) {
            let gd = gradDst.rowStart(ni, first, y), n = xhat.rowStart(ni, first, y)
            let g = weight + first, sumWeight = sums + first, sumBias = sums + c + first
            for x in 0..<w {
                let at = x * block
                for l in 0..<block {
                    let dy = gd[at + l], v = n[at + l], gy = g[l] * dy
                    lanesG[at + l] += gy
                    lanesGX[at + l] += gy * v
                    sumWeight[l] += dy * v
                    sumBias[l] += dy
                }
            }
        }
        for x in 0..<w {
            var a: Float = 0, b: Float = 0
            for l in 0..<block { a += lanesG[x * block + l]; b += lanesGX[x * block + l] }
            meanG[x] = a / Float(c); meanGX[x] = b / Float(c)
        }
        for first in Swift.stride(from: 0, to: c, by: block) {
            let gd = gradDst.rowStart(ni, first, y), n = xhat.rowStart(ni, first, y), gs = gradSrc.rowStart(ni, first, y)
            let g = weight + first
            for x in 0..<w {
                let at = x * block, scale = rstd[x], mg = meanG[x], mgx = meanGX[x]
                for l in 0..<block { gs[at + l] = scale * (g[l] * gd[at + l] - mg - n[at + l] * mgx) }
            }
        }
    }

    /// perPixel[x] = sum over the channels of value(x, src[channel, x]) for row (ni, y) of a whole-blocks
    /// tensor: the blocks are summed lane by lane into `lanes` (contiguous runs), then each pixel's lanes.
    @inline(__always)
    private static func sumOverChannels(_ src: Tensor, _ ni: Int, _ y: Int, into lanes: inout [Float], perPixel: inout [Float],
                                        block: Int, c: Int, _ value: (Int, Float) -> Float) {
        let w = src.w
        lanes.withUnsafeMutableBufferPointer { lanes in
            let lanes = lanes.baseAddress!
            lanes.update(repeating: 0, count: w * block)
            for first in Swift.stride(from: 0, to: c, by: block) {
                let s = src.rowStart(ni, first, y)
                for x in 0..<w {
                    let at = x * block
                    for l in 0..<block { lanes[at + l] += value(x, s[at + l]) }
                }
            }
            for x in 0..<w {
                var total: Float = 0
                for l in 0..<block { total += lanes[x * block + l] }
                perPixel[x] = total
            }
        }
    }

    /// gradSrc = d(loss)/d(src) (overwritten); gradWeight and gradBias accumulate (+=).
    /// With g = gradDst * weight: gradSrc = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)).
    public func backward(gradDst: Tensor, gradSrc: Tensor, weight: UnsafePointer<Float>,
                         gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>) {
        guard let xhat = normalised, xhat.hasSameShape(gradDst) else { fatalError("ChannelLayerNorm.backward before a forward of this shape") }
        require(gradSrc.hasSameShape(gradDst) && gradSrc.layout == gradDst.layout && gradDst.layout == xhat.layout)
        let c = channels, w = gradDst.w, h = gradDst.h, stride = gradDst.pixelStride
        let contiguous = gradDst.hasWholeBlocks && gradSrc.hasWholeBlocks && xhat.hasWholeBlocks, block = gradDst.block
        // Parameter gradients per worker, summed after (no shared accumulator in the parallel loop).
        let sums = rstd.withUnsafeBufferPointer { r -> [Float] in
            let r = r.baseAddress!
            return Threading.Parallel.reduceRows(gradDst.n * h, minimumRowsPerChunk: 1, initial: [Float](repeating: 0, count: 2 * c)) { rows in
                var sums = [Float](repeating: 0, count: 2 * c)
                var meanG = [Float](repeating: 0, count: w), meanGX = [Float](repeating: 0, count: w)
                if contiguous {
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * w * block + 2 * w)
                    defer { scratch.deallocate() }
                    sums.withUnsafeMutableBufferPointer { sums in
                        for row in rows {
                            Self.backwardRowOfWholeBlocks(gradDst, xhat, gradSrc, row: row, rstd: r + row * w, weight: weight,
                                                          scratch: scratch, sums: sums.baseAddress!, c: c)
                        }
                    }
                    return sums
                }
                for row in rows {
                    let ni = row / h, y = row % h
                    for x in 0..<w { meanG[x] = 0; meanGX[x] = 0 }
                    for ci in 0..<c {
                        let gd = gradDst.rowStart(ni, ci, y), n = xhat.rowStart(ni, ci, y), g = weight[ci]
                        var sumWeight: Float = 0, sumBias: Float = 0
                        for x in 0..<w {
                            let dy = gd[x * stride], v = n[x * stride]
                            meanG[x] += g * dy
                            meanGX[x] += g * dy * v
                            sumWeight += dy * v
                            sumBias += dy
                        }
                        sums[ci] += sumWeight
                        sums[c + ci] += sumBias
                    }
                    for x in 0..<w { meanG[x] /= Float(c); meanGX[x] /= Float(c) }
                    let rr = r + row * w
                    for ci in 0..<c {
                        let gd = gradDst.rowStart(ni, ci, y), n = xhat.rowStart(ni, ci, y), gs = gradSrc.rowStart(ni, ci, y)
                        let g = weight[ci]
                        for x in 0..<w {
                            gs[x * stride] = rr[x] * (g * gd[x * stride] - meanG[x] - n[x * stride] * meanGX[x])
                        }
                    }
                }
                return sums
            } combine: { total, part in
                for i in total.indices { total[i] += part[i] }
            }
        }
        for ci in 0..<c { gradWeight[ci] += sums[ci]; gradBias[ci] += sums[c + ci] }
    }
}
