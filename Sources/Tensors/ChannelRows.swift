// Walking one image row of a tensor channel by channel, whatever its layout: channel ci of row (ni, y)
// starts at `offset(ni, ci, y, 0)` and its pixels are `pixelStride` floats apart (1 plain, the block
// when blocked, C channels-last). The per-pixel-over-channels ops (layer norm, gate, channel attention)
// run on these row views, so they never assume a block size.
extension Tensor {
    /// Floats between horizontally neighbouring pixels of one channel.
    @inline(__always)
    var pixelStride: Int {
        switch layout {
        case .plain: return 1
        case .blocked: return block
        case .channelsLast: return c
        }
    }

    /// Blocked with whole blocks (no padding channels): row (ni, y) of channel block b is one contiguous
    /// run of w * block floats, pixel-major with the block's channels innermost. The per-pixel ops take
    /// that path (contiguous, vectorisable loops) and the strided one otherwise.
    @inline(__always)
    var hasWholeBlocks: Bool { layout == .blocked && block > 1 && c % block == 0 }

    /// Pointer to channel `ci` of row (`ni`, `y`) at x = 0.
    @inline(__always)
    func rowStart(_ ni: Int, _ ci: Int, _ y: Int) -> UnsafeMutablePointer<Float> {
        pointer + offset(ni, ci, y, 0)
    }
}
