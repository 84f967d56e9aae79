import Tensors

func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var g = Tensors.SeededGenerator(seed: seed)
    return (0..<count).map { _ in (g.nextUniform() * 2 - 1) * scale }
}

func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    let scale = max(b.map { abs(Double($0)) }.max() ?? 0, 1e-6)
    return zip(a, b).map { abs(Double($0) - Double($1)) }.max()! / scale
}

func tensor(_ values: [Float], n: Int, c: Int, h: Int, w: Int, layout: Layout) -> Tensor {
    let t = Tensor(n: n, c: c, h: h, w: w, layout: layout)
    t.load(plain: values)
    return t
}

/// A conv layer over its own small arena (weights OIHW then bias).
final class ConvFixture {
    let shape: ConvShape
    let arena: ParameterArena
    let conv: Conv2D
    init(_ shape: ConvShape, relu: Bool = false, seed: UInt64) {
        self.shape = shape
        arena = ParameterArena([("weight", [shape.outChannels, shape.inChannels / shape.groups, shape.kernelHeight, shape.kernelWidth]),
                                ("bias", [shape.outChannels])])
        let values = randomValues(shape.parameterCount, seed: seed, scale: 0.5)
        arena.values.update(from: values, count: values.count)
        conv = Conv2D(shape, fusedReLU: relu, weights: arena.values, gradients: arena.gradients)
    }
    var parameters: [Float] { Array(UnsafeBufferPointer(start: arena.values, count: arena.count)) }
    var gradients: [Float] { Array(UnsafeBufferPointer(start: arena.gradients, count: arena.count)) }
}

func maxAbs(_ a: [Float]) -> Double { Double(a.map { abs($0) }.max() ?? 0) }
