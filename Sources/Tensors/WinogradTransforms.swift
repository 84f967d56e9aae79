// The transforms of Winograd's minimal filtering algorithm F(4x4, 3x3) (Lavin & Gray 2015), in
// plain Swift over the engine's blocked activation layout. With a 6x6 input patch d (stride 4, the
// tiles overlap by 2), a 3x3 kernel g and
//   V = B^T d B   (input),  U = G g G^T   (weights),  Y = A^T (sum over input channels of U ⊙ V) A,
// Y is the 4x4 output tile of the cross-correlation a CNN calls convolution. The 36 positions ξ of
// the 6x6 products become 36 matrix products over channels, which oneDNN runs (WinogradConvolution).
//
// The backward passes are the adjoints of these linear maps, so gradients are exactly those of the
// computed forward: dM = A dY A^T, dV = dM U^T (per ξ), dd = B dV B^T scattered back onto the
// overlapping patches, dU = V^T dM summed over tiles, dg = G^T dU G.
//
// Buffers: V and dV are [tiles][36][Cin], M and dM [tiles][36][Cout] (tile-major: a tile's transform
// reads or writes one contiguous run, where [36][tiles][C] scattered it over 36 streams), U and dU
// [36][Cin][Cout]; the matmuls read each ξ as a strided matrix. Channels move in SIMD4 lanes (128-bit: what baseline x86-64 and
// aarch64 both vectorise); the layout's block must be a multiple of 4.

typealias Lanes = SIMD4<Float>

/// An f32 activation in nChw<block>c layout, as the transforms see it (channels in whole blocks).
struct BlockedPlanes {
    let pointer: UnsafeMutablePointer<Float>
    let channels: Int, block: Int, h: Int, w: Int
    var c: Int { channels }
}

/// Where the 4x4 output tiles of an n x h x w image lie: tile t = (image * tilesY + row) * tilesX + column.
struct WinogradTiling: Hashable, CustomStringConvertible {
    let n: Int, h: Int, w: Int
    var tilesY: Int { (h + 3) / 4 }
    var tilesX: Int { (w + 3) / 4 }
    var tileRows: Int { n * tilesY }
    var tiles: Int { tileRows * tilesX }
    var description: String { "\(n)x\(h)x\(w)" }
}

enum WinogradF4x3 {
    static let positions = 36

    // MARK: 1-D kernels (one row or column of six or four values; each SIMD4 holds four channels)

    /// o = B^T x (six values to six).
    @inline(__always)
    static func input1D(_ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes, _ x4: Lanes, _ x5: Lanes,
                        _ o: UnsafeMutablePointer<Lanes>, _ os: Int) {
        let a = x4 - x2, b = x1 - x3
        o[0] = 4 * x0 - 5 * x2 + x4
        o[os] = x3 + x4 - 4 * (x1 + x2)
        o[2 * os] = x4 - x3 + 4 * (x1 - x2)
        o[3 * os] = a - 2 * b
        o[4 * os] = a + 2 * b
        o[5 * os] = 4 * x1 - 5 * x3 + x5
    }

    /// x = B y (the adjoint of input1D).
    @inline(__always)
    static func inputAdjoint1D(_ y: UnsafePointer<Lanes>, _ ys: Int, _ x: UnsafeMutablePointer<Lanes>, _ xs: Int) {
        let y0 = y[0], y1 = y[ys], y2 = y[2 * ys], y3 = y[3 * ys], y4 = y[4 * ys], y5 = y[5 * ys]
        x[0] = 4 * y0
        x[xs] = 4 * (y2 - y1 + y5) + 2 * (y4 - y3)
        x[2 * xs] = -5 * y0 - 4 * (y1 + y2) - y3 - y4
        x[3 * xs] = y1 - y2 + 2 * (y3 - y4) - 5 * y5
        x[4 * xs] = y0 + y1 + y2 + y3 + y4
        x[5 * xs] = y5
    }

    /// y = A^T m (six values to four).
    @inline(__always)
    static func output1D(_ m: UnsafePointer<Lanes>, _ ms: Int, _ y: UnsafeMutablePointer<Lanes>, _ ys: Int) {
        let m0 = m[0], m1 = m[ms], m2 = m[2 * ms], m3 = m[3 * ms], m4 = m[4 * ms], m5 = m[5 * ms]
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        y[0] = m0 + a + c
        y[ys] = b + 2 * d
        y[2 * ys] = a + 4 * c
        y[3 * ys] = b + 8 * d + m5
    }

    /// m = A y (the adjoint of output1D: four values to six).
    @inline(__always)
    static func outputAdjoint1D(_ y: UnsafePointer<Lanes>, _ ys: Int, _ m: UnsafeMutablePointer<Lanes>, _ ms: Int) {
        let y0 = y[0], y1 = y[ys], y2 = y[2 * ys], y3 = y[3 * ys]
        let p = y0 + y2, q = y1 + y3, r = y0 + 4 * y2, s = 2 * y1 + 8 * y3
        m[0] = y0
        m[ms] = p + q
        m[2 * ms] = p - q
        m[3 * ms] = r + s
        m[4 * ms] = r - s
        m[5 * ms] = y3
    }

    /// u = G g (three values to six).
    @inline(__always)
    static func weight1D(_ g: UnsafePointer<Lanes>, _ gs: Int, _ u: UnsafeMutablePointer<Lanes>, _ us: Int) {
        let g0 = g[0], g1 = g[gs], g2 = g[2 * gs]
        let s = g0 + g2, e = g0 * (1 / 24) + g2 * (1 / 6), f = g1 * (1 / 12)
        u[0] = g0 * 0.25
        u[us] = (s + g1) * (-1 / 6)
        u[2 * us] = (s - g1) * (-1 / 6)
        u[3 * us] = e + f
        u[4 * us] = e - f
        u[5 * us] = g2
    }

    /// g = G^T u (the adjoint of weight1D: six values to three).
    @inline(__always)
    static func weightAdjoint1D(_ u: UnsafePointer<Lanes>, _ us: Int, _ g: UnsafeMutablePointer<Lanes>, _ gs: Int) {
        let u0 = u[0], u1 = u[us], u2 = u[2 * us], u3 = u[3 * us], u4 = u[4 * us], u5 = u[5 * us]
        let sum12 = u1 + u2, sum34 = u3 + u4
        g[0] = u0 * 0.25 - sum12 * (1 / 6) + sum34 * (1 / 24)
        g[gs] = (u2 - u1) * (1 / 6) + (u3 - u4) * (1 / 12)
        g[2 * gs] = (sum34 - sum12) * (1 / 6) + u5
    }

    // MARK: activations

    /// Where tile t's image, top row and left column are.
    @inline(__always)
    static func tileOrigin(_ t: Int, _ tiling: WinogradTiling) -> (image: Int, y: Int, x: Int) {
        let row = t / tiling.tilesX
        return (row / tiling.tilesY, 4 * (row % tiling.tilesY), 4 * (t % tiling.tilesX))
    }

    /// V[ξ][t - tiles.lowerBound][c] = (B^T d B)[ξ] for the 6x6 patch d of `src` (zero padding 1)
    /// under each tile. Parallel over tiles: each tile's channels are one contiguous row per ξ.
    static func transformInput(_ src: BlockedPlanes, tiles: Range<Int>, tiling: WinogradTiling, into v: UnsafeMutablePointer<Float>) {
        let channels = src.c, block = src.block, blocks = channels / block, h = src.h, w = src.w
        let base = src.pointer, count = tiles.count, first = tiles.lowerBound
        let lanesStride = channels / 4   // between positions ξ of one tile, in SIMD4 lanes
        Parallel.chunks(count, minimumChunk: 8) { range in
            withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 72) { scratch in
                let d = scratch.baseAddress!, t = d + 36
                for local in range {
                    let (image, y0, x0) = tileOrigin(first + local, tiling)
                    // Most patches lie inside the image: they load without bounds checks (2.7x faster)
                    // and without staging (another 1.2-1.5x).
                    let interior = y0 >= 1 && x0 >= 1 && y0 + 5 <= h && x0 + 5 <= w
                    for cb in 0..<blocks {
                        let plane = base + ((image * blocks + cb) * h) * w * block
                        for lane in stride(from: 0, to: block, by: 4) {
                            // Rows first, straight from the image: t[r] = (d B)[r] ...
                            if interior {
                                let corner = plane + ((y0 - 1) * w + x0 - 1) * block + lane
                                for r in 0..<6 {
                                    let row = corner + r * w * block
                                    let x0v = UnsafeRawPointer(row).loadUnaligned(as: Lanes.self)
                                    let x1v = UnsafeRawPointer(row + block).loadUnaligned(as: Lanes.self)
                                    let x2v = UnsafeRawPointer(row + 2 * block).loadUnaligned(as: Lanes.self)
                                    let x3v = UnsafeRawPointer(row + 3 * block).loadUnaligned(as: Lanes.self)
                                    let x4v = UnsafeRawPointer(row + 4 * block).loadUnaligned(as: Lanes.self)
                                    let x5v = UnsafeRawPointer(row + 5 * block).loadUnaligned(as: Lanes.self)
                                    input1D(x0v, x1v, x2v, x3v, x4v, x5v, t + 6 * r, 1)
                                }
                            } else {
                                for r in 0..<6 {
                                    let y = y0 - 1 + r
                                    for c in 0..<6 {
                                        let x = x0 - 1 + c
                                        d[c] = y >= 0 && y < h && x >= 0 && x < w
                                            ? UnsafeRawPointer(plane + (y * w + x) * block + lane).loadUnaligned(as: Lanes.self) : Lanes()
                                    }
                                    input1D(d[0], d[1], d[2], d[3], d[4], d[5], t + 6 * r, 1)
                                }
                            }
                            // ... then columns, straight into V: V[., c] = B^T t[., c].
                            // (16-byte aligned: V starts on 64 bytes and every offset is a multiple of 4 floats.)
                            let out = UnsafeMutableRawPointer(v + local * positions * channels + cb * block + lane).assumingMemoryBound(to: Lanes.self)
                            for c in 0..<6 {
                                input1D(t[c], t[6 + c], t[12 + c], t[18 + c], t[24 + c], t[30 + c], out + c * lanesStride, 6 * lanesStride)
                            }
                        }
                    }
                }
            }
        }
    }

    /// dst tile = A^T M A + bias (then ReLU), clipped at the image's right and bottom edges.
    static func transformOutput(_ m: UnsafePointer<Float>, tiles: Range<Int>, tiling: WinogradTiling,
                                bias: UnsafePointer<Float>, relu: Bool, into dst: BlockedPlanes) {
        let channels = dst.c, block = dst.block, blocks = channels / block, h = dst.h, w = dst.w
        let base = dst.pointer, count = tiles.count, first = tiles.lowerBound
        let lanesStride = channels / 4   // between positions ξ of one tile, in SIMD4 lanes
        Parallel.chunks(count, minimumChunk: 8) { range in
            withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 24 + 16) { scratch in
                let t = scratch.baseAddress!, y = t + 24
                for local in range {
                    let (image, y0, x0) = tileOrigin(first + local, tiling)
                    let rows = min(4, h - y0), columns = min(4, w - x0)
                    for cb in 0..<blocks {
                        let plane = base + ((image * blocks + cb) * h) * w * block
                        for lane in stride(from: 0, to: block, by: 4) {
                            // Straight from M (16-byte aligned like V): t = A^T M, 4 x 6.
                            let source = UnsafeRawPointer(m + local * positions * channels + cb * block + lane).assumingMemoryBound(to: Lanes.self)
                            for c in 0..<6 { output1D(source + c * lanesStride, 6 * lanesStride, t + c, 6) }
                            for r in 0..<4 { output1D(t + 6 * r, 1, y + 4 * r, 1) } // y: 4 x 4
                            let b = UnsafeRawPointer(bias + cb * block + lane).loadUnaligned(as: Lanes.self)
                            for r in 0..<rows {
                                for c in 0..<columns {
                                    var value = y[4 * r + c] + b
                                    if relu { value = pointwiseMax(value, Lanes()) }
                                    UnsafeMutableRawPointer(plane + ((y0 + r) * w + x0 + c) * block + lane).storeBytes(of: value, as: Lanes.self)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dM[ξ][t][c] = (A dY A^T)[ξ] for each tile's 4x4 output gradient (zero beyond the edges), and
    /// biasGradient[c] += the sum of dY over those tiles.
    static func transformOutputGradient(_ gradDst: BlockedPlanes, tiles: Range<Int>, tiling: WinogradTiling,
                                        into dm: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>) {
        let channels = gradDst.c, block = gradDst.block, blocks = channels / block, h = gradDst.h, w = gradDst.w
        let base = gradDst.pointer, count = tiles.count, first = tiles.lowerBound
        let lanesStride = channels / 4   // between positions ξ of one tile, in SIMD4 lanes
        // Each piece sums the bias gradient of its own tiles; the pieces are added afterwards in order.
        let pieces = Parallel.pieceCount(count, minimumChunk: 8)
        let partialSums = UnsafeMutablePointer<Float>.allocate(capacity: pieces * channels)
        partialSums.initialize(repeating: 0, count: pieces * channels)
        defer { partialSums.deallocate() }
        Parallel.forEachPiece(count, pieces: pieces) { piece, range in
            let sums = partialSums + piece * channels
            withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 16 + 24) { scratch in
                let y = scratch.baseAddress!, t = y + 16
                for local in range {
                    let (image, y0, x0) = tileOrigin(first + local, tiling)
                    let rows = min(4, h - y0), columns = min(4, w - x0)
                    for cb in 0..<blocks {
                        let plane = base + ((image * blocks + cb) * h) * w * block
                        for lane in stride(from: 0, to: block, by: 4) {
                            var total = Lanes()
                            let corner = plane + (y0 * w + x0) * block + lane
                            if rows == 4 && columns == 4 {
                                for r in 0..<4 {
                                    for c in 0..<4 {
                                        let value = UnsafeRawPointer(corner + (r * w + c) * block).loadUnaligned(as: Lanes.self)
                                        y[4 * r + c] = value
                                        total += value
                                    }
                                }
                            } else {
                                for r in 0..<4 {
                                    for c in 0..<4 {
                                        let value = r < rows && c < columns
                                            ? UnsafeRawPointer(corner + (r * w + c) * block).loadUnaligned(as: Lanes.self) : Lanes()
                                        y[4 * r + c] = value
                                        total += value
                                    }
                                }
                            }
                            let sum = sums + cb * block + lane
                            UnsafeMutableRawPointer(sum).storeBytes(of: UnsafeRawPointer(sum).loadUnaligned(as: Lanes.self) + total, as: Lanes.self)
                            for c in 0..<4 { outputAdjoint1D(y + c, 4, t + c, 4) }   // t: 6 x 4
                            let out = UnsafeMutableRawPointer(dm + local * positions * channels + cb * block + lane).assumingMemoryBound(to: Lanes.self)
                            for r in 0..<6 { outputAdjoint1D(t + 4 * r, 1, out + 6 * r * lanesStride, lanesStride) }
                        }
                    }
                }
            }
        }
        for piece in 0..<pieces {
            for c in 0..<channels { biasGradient[c] += partialSums[piece * channels + c] }
        }
    }

    /// gradSrc += B dV B^T of each tile, scattered onto its 6x6 patch (the parts in the padding are
    /// dropped). Neighbouring patches overlap, so the work is split by channel block, whose planes
    /// are disjoint, and the tiles of one block run in order.
    static func transformInputGradient(_ dv: UnsafePointer<Float>, tiles: Range<Int>, tiling: WinogradTiling,
                                       accumulateInto gradSrc: BlockedPlanes) {
        let channels = gradSrc.c, block = gradSrc.block, blocks = channels / block, h = gradSrc.h, w = gradSrc.w
        let base = gradSrc.pointer, count = tiles.count, first = tiles.lowerBound
        let lanesStride = channels / 4   // between positions ξ of one tile, in SIMD4 lanes
        let lanesPerBlock = block / 4
        Parallel.chunks(blocks * lanesPerBlock, minimumChunk: 1) { range in
            withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 72) { scratch in
                let vv = scratch.baseAddress!, t = vv + 36
                for item in range {
                    let cb = item / lanesPerBlock, lane = 4 * (item % lanesPerBlock)
                    for local in 0..<count {
                        let (image, y0, x0) = tileOrigin(first + local, tiling)
                        let plane = base + ((image * blocks + cb) * h) * w * block
                        let source = UnsafeRawPointer(dv + local * positions * channels + cb * block + lane).assumingMemoryBound(to: Lanes.self)
                        for c in 0..<6 { inputAdjoint1D(source + c * lanesStride, 6 * lanesStride, t + c, 6) }
                        for r in 0..<6 { inputAdjoint1D(t + 6 * r, 1, vv + 6 * r, 1) }
                        if y0 >= 1 && x0 >= 1 && y0 + 5 <= h && x0 + 5 <= w {
                            let corner = plane + ((y0 - 1) * w + x0 - 1) * block + lane
                            for r in 0..<6 {
                                let row = corner + r * w * block
                                for c in 0..<6 {
                                    let target = UnsafeMutableRawPointer(row + c * block)
                                    target.storeBytes(of: target.loadUnaligned(as: Lanes.self) + vv[6 * r + c], as: Lanes.self)
                                }
                            }
                            continue
                        }
                        for r in 0..<6 {
                            let y = y0 - 1 + r
                            if y < 0 || y >= h { continue }
                            for c in 0..<6 {
                                let x = x0 - 1 + c
                                if x < 0 || x >= w { continue }
                                let target = UnsafeMutableRawPointer(plane + (y * w + x) * block + lane)
                                target.storeBytes(of: target.loadUnaligned(as: Lanes.self) + vv[6 * r + c], as: Lanes.self)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: weights

    /// U[ξ][i][o] = (G g_{o,i} G^T)[ξ] from 3x3 weights in HWIO order ([kh][kw][i][o], which a oneDNN
    /// reorder makes from the arena's OIHW): every (i, o) pair is one column of nine contiguous planes,
    /// so four pairs are one SIMD4 load per tap and one store per ξ, streamed (the transform is
    /// memory-bound: U is four times the weights). Parallel over pairs.
    static func transformWeights(hwio: UnsafePointer<Float>, pairs: Int, into u: UnsafeMutablePointer<Float>) {
        precondition(pairs % 4 == 0, "Winograd weights: channel pairs in whole SIMD4 lanes")
        let lanes = pairs / 4
        let g = UnsafeRawPointer(hwio).assumingMemoryBound(to: Lanes.self)
        let out = UnsafeMutableRawPointer(u).assumingMemoryBound(to: Lanes.self)
        Parallel.chunks(lanes, minimumChunk: 1024) { range in
            withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 9 + 18) { scratch in
                let taps = scratch.baseAddress!, t = taps + 9
                for q in range {
                    for k in 0..<9 { taps[k] = g[k * lanes + q] }
                    for c in 0..<3 { weight1D(taps + c, 3, t + c, 3) }                   // t: 6 x 3
                    for r in 0..<6 { weight1D(t + 3 * r, 1, out + 6 * r * lanes + q, lanes) }
                }
            }
        }
    }

    /// HWIO gradient = G^T dU G (overwritten), the adjoint of transformWeights; a oneDNN reorder then
    /// adds it to the arena's OIHW gradient.
    static func transformWeightGradient(_ du: UnsafePointer<Float>, pairs: Int, into hwio: UnsafeMutablePointer<Float>) {
        precondition(pairs % 4 == 0, "Winograd weights: channel pairs in whole SIMD4 lanes")
        let lanes = pairs / 4
        let source = UnsafeRawPointer(du).assumingMemoryBound(to: Lanes.self)
        let g = UnsafeMutableRawPointer(hwio).assumingMemoryBound(to: Lanes.self)
        Parallel.chunks(lanes, minimumChunk: 1024) { range in
            withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 18) { scratch in
                let t = scratch.baseAddress!
                for q in range {
                    for c in 0..<6 { weightAdjoint1D(source + c * lanes + q, 6 * lanes, t + c, 6) }   // t: 3 x 6
                    for r in 0..<3 { weightAdjoint1D(t + 6 * r, 1, g + 3 * r * lanes + q, lanes) }
                }
            }
        }
    }
}
