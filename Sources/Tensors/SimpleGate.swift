// NAFNet's SimpleGate: the channels split in two halves, multiplied element by element,
// y[c] = x[c] * x[c + C/2] for c < C/2 (a gate with no activation function).
import Checks
import Threading

public enum SimpleGate {
    /// dst (C/2 channels) = first half of src * second half. dst may not alias src.
    public static func forward(src: Tensor, dst: Tensor) {
        let half = src.c / 2
        require(src.c == 2 * half && dst.c == half && dst.n == src.n && dst.h == src.h && dst.w == src.w && src.layout == dst.layout)
        let w = src.w, h = src.h, ss = src.pixelStride, ds = dst.pixelStride
        // Whole blocks: channel ci and ci + half sit in the same lane of blocks half/block apart.
        let contiguous = dst.hasWholeBlocks && src.hasWholeBlocks, run = w * src.block
        Threading.Parallel.rows(src.n * h, minimumRowsPerChunk: 1) { rows in
            for row in rows {
                let ni = row / h, y = row % h
                if contiguous {
                    for ci in stride(from: 0, to: half, by: src.block) {
                        let a = src.rowStart(ni, ci, y), b = src.rowStart(ni, ci + half, y), d = dst.rowStart(ni, ci, y)
                        for k in 0..<run { d[k] = a[k] * b[k] }
                    }
                    continue
                }
                for ci in 0..<half {
                    let a = src.rowStart(ni, ci, y), b = src.rowStart(ni, ci + half, y), d = dst.rowStart(ni, ci, y)
                    for x in 0..<w { d[x * ds] = a[x * ss] * b[x * ss] }
                }
            }
        }
    }

    /// gradSrc (C channels, overwritten) from gradDst (C/2) and the forward's src.
    public static func backward(src: Tensor, gradDst: Tensor, gradSrc: Tensor) {
        let half = src.c / 2
        require(gradSrc.hasSameShape(src) && gradSrc.layout == src.layout && gradDst.c == half && gradDst.layout == src.layout)
        let w = src.w, h = src.h, ss = src.pixelStride, ds = gradDst.pixelStride
        let contiguous = gradDst.hasWholeBlocks && src.hasWholeBlocks, run = w * src.block
        Threading.Parallel.rows(src.n * h, minimumRowsPerChunk: 1) { rows in
            for row in rows {
                let ni = row / h, y = row % h
                if contiguous {
                    for ci in stride(from: 0, to: half, by: src.block) {
                        let a = src.rowStart(ni, ci, y), b = src.rowStart(ni, ci + half, y), g = gradDst.rowStart(ni, ci, y)
                        let ga = gradSrc.rowStart(ni, ci, y), gb = gradSrc.rowStart(ni, ci + half, y)
                        for k in 0..<run {
                            let dy = g[k]
                            ga[k] = dy * b[k]
                            gb[k] = dy * a[k]
                        }
                    }
                    continue
                }
                for ci in 0..<half {
                    let a = src.rowStart(ni, ci, y), b = src.rowStart(ni, ci + half, y), g = gradDst.rowStart(ni, ci, y)
                    let ga = gradSrc.rowStart(ni, ci, y), gb = gradSrc.rowStart(ni, ci + half, y)
                    for x in 0..<w {
                        let dy = g[x * ds]
                        ga[x * ss] = dy * b[x * ss]
                        gb[x * ss] = dy * a[x * ss]
                    }
                }
            }
        }
    }
}
