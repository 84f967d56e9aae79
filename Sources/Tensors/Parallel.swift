// Tensors' element-wise loops run on the project's one parallel helper (Threading.Parallel) and its one
// worker count (Workers.count, which oneDNN's pool also gets). This forwarder keeps the names Tensors
// code calls, and shadows Threading's `Parallel` inside this module only.
import Dispatch
import Threading

enum Parallel {
    /// How many pieces `chunks` cuts `count` items into.
    @inline(__always)
    static func pieceCount(_ count: Int, minimumChunk: Int = 1 << 15) -> Int {
        Threading.Parallel.pieces(count, minimumChunk: minimumChunk)
    }

    /// Calls body(range) for disjoint chunks covering 0..<count, in parallel when count is large.
    @inline(__always)
    static func chunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        Threading.Parallel.chunks(count, minimumChunk: minimumChunk, body)
    }

    /// Calls body(piece, range) for `pieces` disjoint, ordered chunks covering 0..<count, in parallel
    /// (for reductions: each piece owns slot `piece` of a partial result).
    @inline(__always)
    static func forEachPiece(_ count: Int, pieces: Int, _ body: (Int, Range<Int>) -> Void) {
        if pieces <= 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            body(piece, Threading.Parallel.range(piece, of: pieces, count: count))
        }
    }
}
