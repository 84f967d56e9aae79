// Splitting plain-Swift loops over the cores. Element-wise ops over big buffers are memory-bound;
// two chunks per core keep both busy without paying for many dispatches.
import Dispatch

public enum Parallel {
    /// How many pieces `chunks` cuts `count` items into.
    @inline(__always)
    public static func pieceCount(_ count: Int, minimumChunk: Int = 1 << 15) -> Int {
        min(max(1, count / minimumChunk), 2 * Engine.shared.threads)
    }

    /// Calls body(range) for disjoint chunks covering 0..<count, in parallel when count is large.
    @inline(__always)
    public static func chunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        forEachPiece(count, pieces: pieceCount(count, minimumChunk: minimumChunk)) { _, range in body(range) }
    }

    /// Calls body(piece, range) for `pieces` disjoint, ordered chunks covering 0..<count, in parallel
    /// (for reductions: each piece owns slot `piece` of a partial result).
    @inline(__always)
    public static func forEachPiece(_ count: Int, pieces: Int, _ body: (Int, Range<Int>) -> Void) {
        if pieces <= 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            let start = count * piece / pieces, end = count * (piece + 1) / pieces
            body(piece, start..<end)
        }
    }
}
