// The generator behind initialisation and dropout: SplitMix64 started one draw past the seed. That
// offset is how every initialisation and dropout mask so far was seeded, so it stays.
import Seeding

public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var core: SplitMix64

    public init(seed: UInt64) { core = SplitMix64(state: seed).advanced(by: 1) }

    public mutating func next() -> UInt64 { core.next() }

    /// Uniform in [0, 1) with 24 bits.
    public mutating func nextUniform() -> Float { core.unitFloat() }

    /// Standard normal (Box-Muller).
    public mutating func nextNormal() -> Float { Float(core.gaussian()) }

    /// Skips `draws` calls to `next()` at once (dropout replay on resume).
    public mutating func skip(_ draws: UInt64) { core = core.advanced(by: draws) }
}
