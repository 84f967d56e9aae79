import Testing
import Tensors

/// `--precision` names an ElementType or auto, nothing else.
@Test func precisionNamesAreTheElementTypesAndAuto() throws {
    #expect(InferencePrecision.names == ["f32", "bf16", "auto"])
    #expect(InferencePrecision(name: "f32") == .fixed(.f32))
    #expect(InferencePrecision(name: "bf16") == .fixed(.bf16))
    #expect(InferencePrecision(name: "auto") == .auto)
    #expect(InferencePrecision(name: "fp16") == nil && InferencePrecision(name: "F32") == nil)
    #expect(try InferencePrecision.fixed(.f32).resolved() == .f32)
    #expect("\(InferencePrecision.fixed(.bf16))" == "bf16")
}
