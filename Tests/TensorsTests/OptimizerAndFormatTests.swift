// Adam against PyTorch's update formula written out by hand, safetensors round trips.
import Foundation
import Testing
import Tensors

final class ArenaModel: Trainable {
    let parameters = ParameterArena([("a.weight", [2, 3]), ("a.bias", [2])])
}

@Test("Adam follows torch.optim.Adam's update (bias corrections, eps outside the sqrt)")
func adamMatchesPyTorchFormula() {
    let model = ArenaModel()
    let p0: [Float] = [0.5, -1, 2, 0, 0.25, -0.75, 1, -2]
    model.parameters.values.update(from: p0, count: 8)
    var adam = Adam(lr: 0.1)
    let grads: [[Float]] = [[1, -2, 0.5, 0, 3, -0.1, 0.01, 2], [0.5, 0.5, -1, 1, -3, 0.2, 0.02, -2]]
    // Reference in Double: exactly torch's formula.
    var p = p0.map(Double.init), m = [Double](repeating: 0, count: 8), v = m
    for (t, g) in grads.enumerated() {
        model.zeroGrad()
        model.parameters.gradients.update(from: g, count: 8)
        adam.step(model)
        for i in 0..<8 {
            m[i] = 0.9 * m[i] + 0.1 * Double(g[i]); v[i] = 0.999 * v[i] + 0.001 * Double(g[i]) * Double(g[i])
            let bc1 = 1 - pow(0.9, Double(t + 1)), bc2 = 1 - pow(0.999, Double(t + 1))
            p[i] -= 0.1 / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + 1e-8)
        }
    }
    let got = Array(UnsafeBufferPointer(start: model.parameters.values, count: 8))
    #expect(zip(got, p).allSatisfy { abs(Double($0) - $1) < 1e-6 })
    #expect(adam.step == 2)
    // A parameter whose gradient was always zero does not move.
    #expect(got[3] == 0 || grads.contains { $0[3] != 0 })
}

@Test("safetensors round trip keeps names, shapes and values; bad shapes are refused")
func safetensorsRoundTrip() throws {
    let model = ArenaModel()
    let values = randomValues(8, seed: 71)
    model.parameters.values.update(from: values, count: 8)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-tensors-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    let adam = Adam(lr: 1e-3)
    try SafeTensors.write(model.parameters.namedTensors() + [adam.stateScalars()], to: url)
    let bytes = try Data(contentsOf: url)
    let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    #expect(headerLength % 8 == 0)
    #expect(bytes.count == 8 + headerLength + (8 + 5) * 4)
    let read = try SafeTensors.read(url)
    #expect(read["a.weight"]?.shape == [2, 3] && read["a.bias"]?.values == Array(values[6...]))
    let other = ArenaModel()
    #expect(throws: SafeTensors.Error.self) { try other.parameters.load(read) }   // extra adam.state
    try other.parameters.load(read, allowExtra: true)
    #expect(Array(UnsafeBufferPointer(start: other.parameters.values, count: 8)) == values)
    var wrong = read
    wrong["a.bias"] = SafeTensors.Tensor(name: "a.bias", shape: [1, 2], values: Array(values[6...]))
    #expect(throws: SafeTensors.Error.self) { try other.parameters.load(wrong, allowExtra: true) }
}
