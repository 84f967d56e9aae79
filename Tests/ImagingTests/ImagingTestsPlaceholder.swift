import Testing
import Imaging

@Test func ImagingTestsModuleLinks() { #expect(Bool(true)) }
