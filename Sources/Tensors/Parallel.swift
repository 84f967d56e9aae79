// Tensors' element-wise loops run on the project's one parallel helper (Threading.Parallel) and its one
// worker count (Workers.count, which oneDNN's pool also gets). This forwarder keeps the name Tensors
// code has always called, `Parallel.chunks`, and shadows Threading's `Parallel` inside this module only.
import Threading

enum Parallel {
    /// Calls body(range) for disjoint chunks covering 0..<count, in parallel when count is large.
    @inline(__always)
    static func chunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        Threading.Parallel.chunks(count, minimumChunk: minimumChunk, body)
    }
}
