/// An image pyramid of grey planes: level 0 is the input, each next level averages 2x2 blocks
/// (a trailing odd row/column is averaged with itself). Level-l pixel x_l covers level-0 position
/// x_0 = 2^l (x_l + 0.5) - 0.5, the mapping `GlobalMotion.atLevel` and the dense flow use.
import Threading
struct Pyramid {
    var levels: [Plane]

    /// Halves until the next level would have a side shorter than `minimumSide` (at most `maximumLevels`).
    init(_ base: Plane, minimumSide: Int, maximumLevels: Int = 12, workers: Int) {
        var levels = [base]
        while levels.count < maximumLevels {
            let top = levels[levels.count - 1]
            guard (top.width + 1) / 2 >= minimumSide, (top.height + 1) / 2 >= minimumSide else { break }
            levels.append(Pyramid.halve(top, workers: workers))
        }
        self.levels = levels
    }

    static func halve(_ plane: Plane, workers: Int) -> Plane {
        let w = plane.width, h = plane.height
        let ow = (w + 1) / 2, oh = (h + 1) / 2
        var out = [Float](repeating: 0, count: ow * oh)
        plane.data.withUnsafeBufferPointer { srcBuffer in
            out.withUnsafeMutableBufferPointer { dstBuffer in
                let s = srcBuffer.baseAddress!, d = dstBuffer.baseAddress!
                Parallel.rows(oh, workers: workers) { rows in
                    for y in rows {
                        let r0 = s + 2 * y * w, r1 = s + min(2 * y + 1, h - 1) * w
                        for x in 0..<ow {
                            let x0 = 2 * x, x1 = min(2 * x + 1, w - 1)
                            d[y * ow + x] = 0.25 * (r0[x0] + r0[x1] + r1[x0] + r1[x1])
                        }
                    }
                }
            }
        }
        return Plane(width: ow, height: oh, data: out)
    }
}
