// Helpers for the custom-op tests: a seeded generator, buffer comparison, and a central-difference
// gradient check. Written for these tests only; the library's own gradient checker lives elsewhere.

import Tensors

/// SplitMix64: small, seeded, reproducible across runs and platforms.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBuffer(_ count: Int, in range: ClosedRange<Float>, _ rng: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// max |a - b| / max(max |b|, floor): the error relative to the reference's scale.
func relativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
    precondition(a.count == b.count)
    var maxDiff: Float = 0, scale: Float = floor
    for i in 0..<a.count {
        maxDiff = max(maxDiff, abs(a[i] - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return maxDiff / scale
}

/// Central differences of a scalar loss over the chosen entries of `values`. The loss is evaluated
/// by the caller (in Double where it can), the step is relative to the entry's magnitude.
func centralDifference(_ values: inout [Float], at indices: [Int], step: Float,
                       loss: ([Float]) -> Double) -> [Double] {
    indices.map { i in
        let original = values[i]
        values[i] = original + step
        let plus = loss(values)
        values[i] = original - step
        let minus = loss(values)
        values[i] = original
        // The actual perturbation after Float rounding, not the nominal step.
        let actual = Double(original + step) - Double(original - step)
        return (plus - minus) / actual
    }
}

/// Largest |analytic - numeric| / (|numeric| + absoluteFloor) over the checked entries.
func worstGradientMismatch(analytic: [Double], numeric: [Double], absoluteFloor: Double) -> Double {
    zip(analytic, numeric).map { abs($0 - $1) / (abs($1) + absoluteFloor) }.max() ?? 0
}
