import Dispatch

/// Runs `body(task)` for task in 0..<count on all cores and returns the per-task results in task
/// order, so reductions over them are deterministic whatever the scheduling.
func parallelMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
    let results = UnsafeMutablePointer<T>.allocate(capacity: count)
    defer { results.deinitialize(count: count); results.deallocate() }
    let shared = SendablePointer(results)
    DispatchQueue.concurrentPerform(iterations: count) { task in
        (shared.pointer + task).initialize(to: body(task))
    }
    return Array(UnsafeBufferPointer(start: results, count: count))
}

/// A raw pointer handed to concurrent workers that write disjoint parts of it.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Splits 0..<count into `parts` nearly equal contiguous ranges.
func evenRange(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
    (part * count / parts)..<((part + 1) * count / parts)
}
