import Foundation

// The values the project draws from a SplitMix64, one `next()` each (two for a normal). Each formula
// is part of what a seed means: changing one changes every seeded result (synthesised pairs,
// initial weights, dropout masks, training crops), so they are pinned by SeedingTests.
extension SplitMix64 {
    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func unitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [lower, upper).
    @inlinable
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * Double(next() >> 11) / Double(1 << 53)
    }

    /// Standard normal (Box-Muller; one value per call keeps the stream simple to reason about).
    @inlinable
    public mutating func gaussian() -> Double {
        let u1 = max(uniform(0, 1), 1e-300), u2 = uniform(0, 1)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Uniform in [0, 1) with 24 bits (a Float's mantissa).
    @inlinable
    public mutating func unitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in 0..<bound (Lemire's multiply-shift; the bias is below 2^-40 for the bounds used here).
    @inlinable
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
