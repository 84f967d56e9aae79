import Foundation
import Imaging
import Testing

/// The one sRGB curve (IEC 61966-2-1) Synthesis and the colour fit share.
@Suite struct SRGBTests {
    @Test func knownValuesRoundTripAndTheEnds() {
        #expect(SRGB.toLinear(0) == 0 && abs(SRGB.toLinear(1) - 1) < 1e-6)
        #expect(abs(SRGB.toLinear(0.5) - 0.214041) < 1e-5)
        #expect(abs(SRGB.toLinear(0.04) - 0.04 / 12.92) < 1e-9)
        #expect(abs(SRGB.fromLinear(0.214041) - 0.5) < 1e-5)
        for v in stride(from: Float(0), through: 1, by: 0.01) {
            #expect(abs(SRGB.fromLinear(SRGB.toLinear(v)) - v) < 1e-5, "\(v)")
        }
        // Negative values count as 0; above 1 the power law goes on, unless the caller clamps.
        #expect(SRGB.toLinear(-0.2) == 0 && SRGB.fromLinear(-0.2) == 0)
        #expect(SRGB.fromLinear(1.2) > 1.05)
        #expect(SRGB.fromLinear([1.2, 0.5], threads: 2, clampingToUnit: true) == [SRGB.fromLinear(1), SRGB.fromLinear(0.5)])
        let values = (0..<10_000).map { Float($0) / 9_999 }
        #expect(SRGB.toLinear(values, threads: 2) == values.map { SRGB.toLinear($0) })
        #expect(SRGB.fromLinear(values, threads: 2) == values.map { SRGB.fromLinear($0) })
    }
}
