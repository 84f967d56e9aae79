import Testing
import Manifest

@Test func ManifestTestsModuleLinks() { #expect(Bool(true)) }
