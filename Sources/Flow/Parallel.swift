import Dispatch
import Foundation

/// Row-parallel loops for the Flow module's hot paths. Work is cut into contiguous row ranges
/// (a few per worker, so an uneven range does not leave a core idle) and run with
/// `DispatchQueue.concurrentPerform`. `workers` is passed explicitly: no process-wide switch.
enum Parallel {
    static var defaultWorkers: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Calls `body` once per disjoint row range covering `0..<rows`.
    static func rows(_ rows: Int, workers: Int, minimumRowsPerChunk: Int = 8, _ body: (Range<Int>) -> Void) {
        guard rows > 0 else { return }
        let chunks = max(1, min(rows / max(1, minimumRowsPerChunk), max(1, workers) * 4))
        if chunks == 1 || workers <= 1 {
            body(0..<rows)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            body((rows * chunk / chunks)..<(rows * (chunk + 1) / chunks))
        }
    }

    /// Like `rows`, but each range also returns a partial result, combined in range order
    /// (deterministic reductions: the same input gives bit-identical sums on every run).
    static func reduceRows<Partial>(_ rows: Int, workers: Int, minimumRowsPerChunk: Int = 8,
                                    initial: Partial, _ body: (Range<Int>) -> Partial,
                                    combine: (inout Partial, Partial) -> Void) -> Partial {
        guard rows > 0 else { return initial }
        let chunks = max(1, min(rows / max(1, minimumRowsPerChunk), max(1, workers) * 4))
        var partials = [Partial?](repeating: nil, count: chunks)
        let lock = NSLock()
        if chunks == 1 || workers <= 1 {
            partials[0] = body(0..<rows)
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let partial = body((rows * chunk / chunks)..<(rows * (chunk + 1) / chunks))
                lock.lock(); partials[chunk] = partial; lock.unlock()
            }
        }
        var total = initial
        for case let partial? in partials { combine(&total, partial) }
        return total
    }
}
