/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit counter advanced by a fixed odd gamma, then mixed.
/// Chosen for training because its whole state is one integer (trivial to checkpoint) and jumping
/// ahead n draws is one multiply, so any step's randomness can be re-derived from (seed, step)
/// without replaying the steps before it.
public struct SplitMix64: RandomNumberGenerator, Codable, Equatable, Sendable {
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.mix(state)
    }

    /// The generator after `draws` more calls to `next()`, without making them.
    public func advanced(by draws: UInt64) -> SplitMix64 {
        SplitMix64(state: state &+ Self.gamma &* draws)
    }

    /// The SplitMix64 output function (also a good 64-bit hash of an integer).
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound (Lemire's multiply-shift; the bias is below 2^-40 for the bounds used here).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}

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
