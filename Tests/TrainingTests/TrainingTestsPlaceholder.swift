import Testing
import Training

@Test func TrainingTestsModuleLinks() { #expect(Bool(true)) }
