import Foundation

/// Prepares the batches of steps first..<end on a background thread, up to `depth` ahead of the step
/// being trained, in a fixed ring of preallocated `TrainingBatch` slots. It changes no run state: each
/// batch is derived from its step index, so stopping it early (a kill, a NaN) loses nothing.
public final class BatchPrefetcher: @unchecked Sendable {
    private let assembler: BatchAssembler
    private let slots: [TrainingBatch]
    private let condition = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private var free: [Int]                                  // slot indices the producer may fill
    private var ready: [(step: Int, slot: Int)] = []         // filled, in step order
    private var failure: (step: Int, error: Error)?
    private var handedOut: Int?
    private var nextToConsume: Int
    private let end: Int
    private var cancelled = false

    public init(assembler: BatchAssembler, firstStep: Int, endStep: Int, depth: Int) {
        self.assembler = assembler
        self.slots = (0...max(depth, 1)).map { _ in TrainingBatch(batchSize: assembler.localBatchSize, size: assembler.cropSize) }
        self.free = Array(slots.indices)
        self.nextToConsume = firstStep
        self.end = endStep
        let thread = Thread { [self] in produce(from: firstStep) }
        thread.name = "jdrl-prefetch"
        thread.start()
    }

    private func produce(from first: Int) {
        defer { finished.signal() }
        var step = first
        while step < end {
            condition.lock()
            while free.isEmpty && !cancelled { condition.wait() }
            if cancelled { condition.unlock(); return }
            let slot = free.removeFirst()
            condition.unlock()
            do {
                try assembler.fill(slots[slot], step: step)
            } catch {
                condition.lock()
                failure = (step, error)
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.lock()
            ready.append((step, slot))
            condition.broadcast()
            condition.unlock()
            step += 1
        }
    }

    /// The batch of the next step. The batch handed out by the previous call goes back to the ring.
    public func next() throws -> TrainingBatch {
        condition.lock()
        defer { condition.unlock() }
        if let previous = handedOut {
            free.append(previous)
            handedOut = nil
            condition.broadcast()
        }
        precondition(nextToConsume < end, "no step left to prefetch")
        while true {
            if let first = ready.first, first.step == nextToConsume {
                ready.removeFirst()
                handedOut = first.slot
                nextToConsume += 1
                return slots[first.slot]
            }
            if let failure, failure.step == nextToConsume { throw failure.error }
            condition.wait()
        }
    }

    /// Stops the background thread and waits for it (idempotent).
    public func stop() {
        condition.lock()
        let alreadyStopped = cancelled
        cancelled = true
        condition.broadcast()
        condition.unlock()
        if !alreadyStopped { finished.wait() }
    }

    deinit { stop() }
}
