import Testing
import Synthesis

@Test func SynthesisTestsModuleLinks() { #expect(Bool(true)) }
