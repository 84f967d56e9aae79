// Splitting plain-Swift loops over the cores. Element-wise ops over big buffers are memory-bound;
// two chunks per core keep both busy without paying for many dispatches.
import Dispatch

public enum Parallel {
    /// Calls body(range) for disjoint chunks covering 0..<count, in parallel when count is large.
    @inline(__always)
    public static func chunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        let pieces = min(max(1, count / minimumChunk), 2 * Engine.shared.threads)
        if pieces <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            let start = count * piece / pieces, end = count * (piece + 1) / pieces
            body(start..<end)
        }
    }
}
