import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit counter advanced by a fixed odd gamma, then mixed.
/// The project's one seeded generator (synthesis, initialisation, dropout, training order and crops):
/// the standard library's generator is not seedable, and a seed must mean the same numbers on every
/// machine and Swift version. Its whole state is one integer (trivial to checkpoint), and jumping
/// ahead n draws is one multiply, so any step's randomness can be re-derived without replaying it.
/// Inlinable: dropout and sensor noise draw once per element in their hot loops.
public struct SplitMix64: RandomNumberGenerator, Codable, Equatable, Sendable {
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    public var state: UInt64

    @inlinable
    public init(state: UInt64) { self.state = state }

    /// An independent stream for one sub-task (e.g. the noise of row `y`), derived from a seed and a salt.
    @inlinable
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(state: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        state = mixer.next()
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.mix(state)
    }

    /// The generator after `draws` more calls to `next()`, without making them.
    @inlinable
    public func advanced(by draws: UInt64) -> SplitMix64 {
        SplitMix64(state: state &+ Self.gamma &* draws)
    }

    /// The SplitMix64 output function (also a good 64-bit hash of an integer).
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
