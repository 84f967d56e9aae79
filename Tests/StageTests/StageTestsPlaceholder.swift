import Testing
import Imaging

@Test func StageTestsModuleLinks() { #expect(Bool(true)) }
