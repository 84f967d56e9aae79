import Testing
import Tensors

/// Initial weights and dropout masks come from these draws: the expected values are the ones every
/// earlier checkpoint was initialised with, so a seed keeps giving the same network, bit for bit.
@Test("The initialisation and dropout generator draws what it always drew for a seed")
func seededGeneratorKeepsItsValues() {
    var g = Tensors.SeededGenerator(seed: 5)
    #expect(g.next() == 0xc097_314d_9397_36f8)
    #expect(g.nextUniform().bitPattern == 1_047_415_628 && g.nextUniform().bitPattern == 1_036_743_280)
    #expect(g.nextNormal().bitPattern == 3_215_669_077 && g.nextNormal().bitPattern == 3_190_699_249)
}

@Test("Skipping n draws leaves the generator where n draws would")
func seededGeneratorSkips() {
    var drawn = Tensors.SeededGenerator(seed: 8), skipped = drawn
    for _ in 0..<777 { _ = drawn.nextUniform() }
    skipped.skip(777)
    #expect(drawn.next() == skipped.next())
}
