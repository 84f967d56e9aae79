import Foundation

/// Runs `body` over row ranges on `threads` workers. Each row's result depends only on the row, so the
/// output is identical whatever the thread count.
func parallelRows(_ rows: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    let workers = max(1, min(threads, rows))
    let chunk = (rows + workers * 4 - 1) / (workers * 4)
    let chunks = (rows + chunk - 1) / max(chunk, 1)
    DispatchQueue.concurrentPerform(iterations: chunks) { index in
        let start = index * chunk
        body(start..<min(rows, start + chunk))
    }
}
