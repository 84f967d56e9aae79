import Foundation
import Testing
import WeightFiles

/// Files whose bytes the test writes itself, one per dtype, read by the project's one safetensors reader.

/// A safetensors file with one tensor of `dtype` holding `payload` (little-endian element bytes).
func safetensorsBytes(name: String, dtype: String, shape: [Int], payload: [UInt8]) -> Data {
    let shapeText = shape.map(String.init).joined(separator: ",")
    let header = Array("{\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shapeText)],\"data_offsets\":[0,\(payload.count)]}}".utf8)
    var data = Data()
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: header)
    data.append(contentsOf: payload)
    return data
}

func readOne(_ data: Data) throws -> SafeTensors.Tensor {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-st-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try data.write(to: url)
    let tensors = try SafeTensors.read(url)
    #expect(tensors.count == 1)
    return try #require(tensors.values.first)
}

func littleEndian(_ words: [UInt16]) -> [UInt8] { words.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

@Test func f32IsReadBitForBit() throws {
    let values: [Float] = [1.5, -0.0, .greatestFiniteMagnitude, 3.0e-40]   // the last one subnormal
    let payload = values.flatMap { v in (0..<4).map { UInt8((v.bitPattern >> (8 * UInt32($0))) & 0xFF) } }
    let tensor = try readOne(safetensorsBytes(name: "w", dtype: "F32", shape: [2, 2], payload: payload))
    #expect(tensor.name == "w" && tensor.shape == [2, 2])
    #expect(tensor.values.map(\.bitPattern) == values.map(\.bitPattern))
}

@Test func f16IsWidenedExactly() throws {
    // 1.0, -2.0, 0.5, 65504 (largest half), 2^-24 (smallest subnormal), 3 * 2^-24 (subnormal), +inf
    let halves: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x0003, 0x7C00]
    let tensor = try readOne(safetensorsBytes(name: "h", dtype: "F16", shape: [7], payload: littleEndian(halves)))
    #expect(tensor.values == [1, -2, 0.5, 65504, 0x1p-24, 3 * 0x1p-24, .infinity])
    let nan = try readOne(safetensorsBytes(name: "n", dtype: "F16", shape: [1], payload: littleEndian([0x7E00])))
    #expect(nan.values[0].isNaN)
}

@Test func bf16IsTheTopHalfOfAFloat() throws {
    // 1.0, -3.0 (0xC040), 1/3 rounded to bf16 (0x3EAB), the largest bf16 (0x7F7F)
    let words: [UInt16] = [0x3F80, 0xC040, 0x3EAB, 0x7F7F]
    let tensor = try readOne(safetensorsBytes(name: "b", dtype: "BF16", shape: [1, 4], payload: littleEndian(words)))
    #expect(tensor.shape == [1, 4])
    #expect(tensor.values == words.map { Float(bitPattern: UInt32($0) << 16) })
    #expect(tensor.values[0] == 1 && tensor.values[1] == -3 && abs(tensor.values[2] - 1.0 / 3) < 2e-3)
}

@Test func otherDtypesAndInconsistentEntriesAreRefused() throws {
    #expect(throws: SafeTensors.Error.self) {
        _ = try readOne(safetensorsBytes(name: "i", dtype: "I64", shape: [1], payload: [UInt8](repeating: 0, count: 8)))
    }
    // Two bytes for a shape of two F16 values
    #expect(throws: SafeTensors.Error.self) {
        _ = try readOne(safetensorsBytes(name: "short", dtype: "F16", shape: [2], payload: [0, 0x3C]))
    }
    // Cut off inside the header
    #expect(throws: SafeTensors.Error.self) {
        _ = try readOne(safetensorsBytes(name: "w", dtype: "F32", shape: [1], payload: [0, 0, 0x80, 0x3F]).prefix(12))
    }
}

@Test func writtenTensorsReadBackUnchanged() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-st-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    let a = SafeTensors.Tensor(name: "enc.0.weight", shape: [2, 3], values: [1, 2, 3, 4, 5, -6])
    let b = SafeTensors.Tensor(name: "\"quoted\"/name", shape: [1], values: [0.25])
    try SafeTensors.write([a, b], to: url)
    let read = try SafeTensors.read(url)
    #expect(read == [a.name: a, b.name: b])
}
