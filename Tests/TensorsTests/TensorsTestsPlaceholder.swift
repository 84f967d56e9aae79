import Testing
import Tensors

@Test func TensorsTestsModuleLinks() { #expect(Bool(true)) }
