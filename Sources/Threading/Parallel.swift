import Dispatch
import Foundation

/// The project's parallel loops, all over `DispatchQueue.concurrentPerform` and `Workers.count` unless a
/// caller passes its own count. Work is cut into contiguous ranges in a fixed way for a given count and
/// worker number, so a loop whose ranges write disjoint outputs, or whose partial results are combined
/// in range order, gives the same bits on every run.
public enum Parallel {
    /// How many pieces to cut `count` elements into: at least `minimumChunk` each (smaller pieces cost
    /// more to dispatch than they save), at most two per worker (memory-bound loops gain nothing more).
    public static func pieces(_ count: Int, minimumChunk: Int, workers: Int = Workers.count) -> Int {
        min(max(1, count / minimumChunk), 2 * max(1, workers))
    }

    /// Part `part` of `0..<count` cut into `parts` nearly equal contiguous ranges.
    @inline(__always)
    public static func range(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }

    /// Calls body(range) for disjoint chunks covering 0..<count (element-wise loops over big buffers).
    @inline(__always)
    public static func chunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
        let parts = pieces(count, minimumChunk: minimumChunk)
        if parts <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: parts) { part in body(range(part, of: parts, count: count)) }
    }

    /// Calls `body` once per disjoint row range covering `0..<rows`: a few ranges per worker, so an
    /// uneven range does not leave a core idle.
    public static func rows(_ rows: Int, workers: Int = Workers.count, minimumRowsPerChunk: Int = 8, _ body: (Range<Int>) -> Void) {
        guard rows > 0 else { return }
        let parts = rowRanges(rows, workers: workers, minimumRowsPerChunk: minimumRowsPerChunk)
        if parts == 1 || workers <= 1 {
            body(0..<rows)
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { part in body(range(part, of: parts, count: rows)) }
    }

    /// Like `rows`, but each range returns a partial result, combined in range order (a deterministic
    /// reduction: the same input and worker count give bit-identical sums).
    public static func reduceRows<Partial>(_ rows: Int, workers: Int = Workers.count, minimumRowsPerChunk: Int = 8,
                                           initial: Partial, _ body: (Range<Int>) -> Partial,
                                           combine: (inout Partial, Partial) -> Void) -> Partial {
        guard rows > 0 else { return initial }
        let parts = rowRanges(rows, workers: workers, minimumRowsPerChunk: minimumRowsPerChunk)
        let partials = parts == 1 || workers <= 1 ? [body(0..<rows)] : map(parts) { body(range($0, of: parts, count: rows)) }
        var total = initial
        for partial in partials { combine(&total, partial) }
        return total
    }

    /// `body(task)` for task in 0..<count, all at once, returning the results in task order.
    public static func map<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        let results = UnsafeMutablePointer<T>.allocate(capacity: count)
        defer { results.deinitialize(count: count); results.deallocate() }
        let shared = SendablePointer(results)
        DispatchQueue.concurrentPerform(iterations: count) { task in
            (shared.pointer + task).initialize(to: body(task))
        }
        return Array(UnsafeBufferPointer(start: results, count: count))
    }

    /// `body(item)` for every item in 0..<count on `workers` threads that take the next item as they
    /// finish one (balanced when items take uneven time, e.g. decoding files). Stops handing out items
    /// at the first error and rethrows it.
    public static func eachItem(_ count: Int, workers: Int = Workers.count, _ body: (Int) throws -> Void) throws {
        guard count > 0 else { return }
        let lock = NSLock()
        var firstError: Error?
        var next = 0
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, count))) { _ in
            while true {
                lock.lock()
                if firstError != nil || next >= count { lock.unlock(); return }
                let item = next
                next += 1
                lock.unlock()
                do { try body(item) } catch {
                    lock.lock()
                    if firstError == nil { firstError = error }
                    lock.unlock()
                    return
                }
            }
        }
        if let firstError { throw firstError }
    }

    private static func rowRanges(_ rows: Int, workers: Int, minimumRowsPerChunk: Int) -> Int {
        max(1, min(rows / max(1, minimumRowsPerChunk), max(1, workers) * 4))
    }
}

/// A raw pointer handed to concurrent workers that write disjoint parts of it.
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
