import Testing
import Metrics

@Test func MetricsTestsModuleLinks() { #expect(Bool(true)) }
