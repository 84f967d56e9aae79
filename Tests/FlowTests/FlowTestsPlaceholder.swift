import Testing
import Flow

@Test func FlowTestsModuleLinks() { #expect(Bool(true)) }
