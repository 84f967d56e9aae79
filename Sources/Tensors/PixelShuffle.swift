// PixelShuffle (PyTorch's): C * r^2 channels of H x W become C channels of rH x rW,
// out[n, c, r*y + i, r*x + j] = in[n, (c * r + i) * r + j, y, x]. NAFNet's up-sampling follows a 1x1
// convolution with it. A permutation: the backward pass is the inverse permutation of the gradient.
import Checks
import Threading

public enum PixelShuffle {
    /// dst (C channels, rH x rW) from src (C r^2 channels, H x W), any layouts.
    public static func forward(src: Tensor, dst: Tensor, factor r: Int) {
        check(src: src, dst: dst, factor: r)
        permute(src: src, dst: dst, factor: r, shuffle: true)
    }

    /// gradSrc (C r^2 channels, overwritten) from gradDst (C channels, rH x rW).
    public static func backward(gradDst: Tensor, gradSrc: Tensor, factor r: Int) {
        check(src: gradSrc, dst: gradDst, factor: r)
        permute(src: gradSrc, dst: gradDst, factor: r, shuffle: false)
    }

    private static func check(src: Tensor, dst: Tensor, factor r: Int) {
        require(r >= 1 && src.c == dst.c * r * r && dst.h == src.h * r && dst.w == src.w * r && dst.n == src.n,
                "PixelShuffle x\(r): \(src.c)x\(src.h)x\(src.w) cannot become \(dst.c)x\(dst.h)x\(dst.w)")
    }

    /// shuffle: dst[.., r*y+i, r*x+j] = src[.., (c r + i) r + j, y, x]; else the same positions copied back.
    private static func permute(src: Tensor, dst: Tensor, factor r: Int, shuffle: Bool) {
        let h = src.h, w = src.w, c = dst.c, ss = src.pixelStride, ds = dst.pixelStride
        Threading.Parallel.rows(src.n * h, minimumRowsPerChunk: 1) { rows in
            for row in rows {
                let ni = row / h, y = row % h
                for ci in 0..<c {
                    for i in 0..<r {
                        let out = dst.rowStart(ni, ci, r * y + i)
                        for j in 0..<r {
                            let input = src.rowStart(ni, (ci * r + i) * r + j, y)
                            if shuffle {
                                for x in 0..<w { out[(r * x + j) * ds] = input[x * ss] }
                            } else {
                                for x in 0..<w { input[x * ss] = out[(r * x + j) * ds] }
                            }
                        }
                    }
                }
            }
        }
    }
}
