import Seeding

/// All randomness of a run, derived from the config seed and the step index alone.
///
/// The run's checkpointed generator is `master`: step s consumes exactly one draw from it (the seed of
/// that step's own generator), so after s steps its state is `seed + s*gamma`. The prefetch thread can
/// therefore prepare step s+3 without touching the master state, and a resumed run re-derives the same
/// numbers. The epoch's patch order comes from a second, independent stream keyed by the epoch.
public struct TrainingRandomness: Sendable, Equatable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The master generator as it stands after `step` steps (what a checkpoint stores).
    public func master(afterSteps step: Int) -> SplitMix64 {
        SplitMix64(state: seed).advanced(by: UInt64(step))
    }

    /// The generator that draws everything step `step` needs (crops, flips, dropout seed), in a fixed order.
    public func stepGenerator(step: Int) -> SplitMix64 {
        var master = master(afterSteps: step)
        return SplitMix64(state: master.next())
    }

    /// The order in which epoch `epoch` visits the `count` training patches (Fisher-Yates).
    public func epochOrder(epoch: Int, count: Int) -> [Int] {
        var order = Array(0..<count)
        var generator = SplitMix64(state: SplitMix64.mix(seed ^ 0x6A09_E667_F3BC_C908) &+ SplitMix64.mix(UInt64(epoch) &+ 1))
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                order.swapAt(i, generator.below(i + 1))
            }
        }
        return order
    }
}
