import Testing
import Models

@Test func ModelsTestsModuleLinks() { #expect(Bool(true)) }
