import Foundation
import Testing
import Threading

/// The one parallel helper: every loop covers its range exactly once, reductions are in range order,
/// and the worker count is one setting.

@Test func rowsAndChunksCoverEveryIndexOnce() {
    for count in [0, 1, 7, 100, 70_001] {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
        defer { hits.deallocate() }
        hits.initialize(repeating: 0, count: max(count, 1))
        let shared = SendablePointer(hits)
        Parallel.rows(count, workers: 3, minimumRowsPerChunk: 1) { range in for i in range { shared.pointer[i] += 1 } }
        Parallel.chunks(count, minimumChunk: 1_000) { range in for i in range { shared.pointer[i] += 10 } }
        #expect((0..<count).allSatisfy { hits[$0] == 11 }, "count \(count)")
    }
}

@Test func reductionsCombineInRangeOrderWhateverTheScheduling() {
    // Concatenation is order-sensitive: the ranges must come back in order.
    let joined = Parallel.reduceRows(50, workers: 4, minimumRowsPerChunk: 2, initial: [Int](), { Array($0) }, combine: { $0 += $1 })
    #expect(joined == Array(0..<50))
    #expect(Parallel.map(9) { $0 * $0 } == (0..<9).map { $0 * $0 })
    #expect(Parallel.pieces(10, minimumChunk: 100, workers: 8) == 1)
    #expect(Parallel.pieces(1 << 20, minimumChunk: 1 << 15, workers: 2) == 4)
    #expect((0..<5).map { Parallel.range($0, of: 5, count: 12) }.map(\.count).reduce(0, +) == 12)
}

struct Stop: Error, Equatable {}

@Test func eachItemVisitsAllItemsAndStopsAtTheFirstError() throws {
    let lock = NSLock()
    var seen = Set<Int>()
    try Parallel.eachItem(40, workers: 3) { item in lock.lock(); seen.insert(item); lock.unlock() }
    #expect(seen == Set(0..<40))
    #expect(throws: Stop()) { try Parallel.eachItem(1_000, workers: 2) { if $0 == 3 { throw Stop() } } }
}

@Test func theWorkerCountIsOneSettingThatStartsFromTheEnvironment() {
    let expected = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
        ?? ProcessInfo.processInfo.activeProcessorCount
    #expect(Workers.fromEnvironment == expected)
}
