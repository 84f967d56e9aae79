import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so a synthesis seed means the same
/// pair on every machine and Swift version (the standard library's generator is not seedable).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// An independent stream for one sub-task (e.g. the noise of row `y`), derived from a seed and a salt.
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [lower, upper).
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * Double(next() >> 11) / Double(1 << 53)
    }

    /// Standard normal (Box-Muller; one value per call keeps the stream simple to reason about).
    public mutating func gaussian() -> Double {
        let u1 = max(uniform(0, 1), 1e-300), u2 = uniform(0, 1)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// Runs `body` over row ranges on `threads` workers. Each row's result depends only on the row, so the
/// output is identical whatever the thread count.
func parallelRows(_ rows: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    let workers = max(1, min(threads, rows))
    let chunk = (rows + workers * 4 - 1) / (workers * 4)
    let chunks = (rows + chunk - 1) / max(chunk, 1)
    DispatchQueue.concurrentPerform(iterations: chunks) { index in
        let start = index * chunk
        body(start..<min(rows, start + chunk))
    }
}
