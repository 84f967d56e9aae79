import Testing
import Seeding

/// A seed must keep meaning the same numbers: synthesised pairs, initial weights, dropout masks and
/// training crops all derive from these draws. The expected values are SplitMix64's (Steele, Lea & Flood
/// 2014) for these seeds, the numbers every synthesised pair and checkpoint so far was made with, bit for bit.
@Suite struct SplitMix64Tests {
    @Test func drawsMatchTheValuesSeedsHaveAlwaysMeant() {
        var synthesis = SplitMix64(state: 7)
        #expect(synthesis.next() == 0x63cb_e1e4_5932_0dd7)
        #expect(synthesis.uniform(-0.35, 0.35).bitPattern == 13_823_136_994_531_453_090)
        #expect(synthesis.uniform(0.05, 0.95).bitPattern == 4_605_927_577_345_969_543)
        #expect(synthesis.gaussian().bitPattern == 13_830_490_417_565_679_213)
        #expect(synthesis.gaussian().bitPattern == 13_833_404_362_437_984_729)

        var row = SplitMix64(seed: 7, stream: 5)
        #expect(row.next() == 0xe03b_b8e4_c4a1_8163)
        #expect(row.gaussian().bitPattern == 13_813_861_977_357_082_394)

        var training = SplitMix64(state: 42)
        #expect(training.next() == 0xbdd7_3226_2feb_6e95)
        #expect(training.below(8) == 1 && training.below(1000) == 278)
        #expect(training.unitDouble().bitPattern == 4_599_872_008_648_626_872)
        #expect(training.advanced(by: 1000).state == 0x8191_637f_381e_a286)
        #expect(SplitMix64.mix(123) == 0xd94f_a4a9_067d_c0c4)

        var initialisation = SplitMix64(state: 5).advanced(by: 1)   // Tensors.SeededGenerator(seed: 5)
        #expect(initialisation.next() == 0xc097_314d_9397_36f8)
        #expect(initialisation.unitFloat().bitPattern == 1_047_415_628 && initialisation.unitFloat().bitPattern == 1_036_743_280)
        #expect(Float(initialisation.gaussian()).bitPattern == 3_215_669_077)
    }

    @Test func jumpingAheadEqualsDrawing() {
        var g = SplitMix64(state: 42)
        let start = g
        for _ in 0..<1000 { _ = g.next() }
        #expect(start.advanced(by: 1000) == g)
        #expect(SplitMix64(state: 0).advanced(by: 1).state == SplitMix64.gamma)
    }
}
