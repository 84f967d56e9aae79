// NAFNet against the composition of its layers' naive twins, every parameter by finite differences, the
// PyTorch twin (forward and every gradient), and the parameter count of NAFNet's published GoPro model.
import Foundation
import Models
import Tensors
import Testing

/// out[n, c, 2y + i, 2x + j] = in[n, 4c + 2i + j, y, x] (PyTorch's PixelShuffle(2)), plain NCHW.
private func naivePixelShuffle(_ x: [Float], n: Int, c: Int, h: Int, w: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    for b in 0..<n { for ch in 0..<c { for y in 0..<(2 * h) { for xx in 0..<(2 * w) {
        let source = ((b * 4 * c + 4 * ch + 2 * (y % 2) + xx % 2) * h + y / 2) * w + xx / 2
        out[((b * c + ch) * 2 * h + y) * 2 * w + xx] = x[source]
    } } } }
    return out
}

/// NAFNet's forward from naive convolutions, the naive block and the naive pixel shuffle, reading `arena`.
private func naiveNAFNet(_ input: [Float], n: Int, h: Int, w: Int, config c: NAFNetConfig, arena: ParameterArena) -> [Float] {
    func conv(_ x: [Float], _ name: String, _ shape: ConvShape, _ side: (Int, Int)) -> [Float] {
        func p(_ s: String) -> [Float] {
            let e = arena.entry("\(name).\(s)")!
            return Array(UnsafeBufferPointer(start: arena.values + e.offset, count: e.count))
        }
        return NaiveReference.convForward(x, n: n, h: side.0, w: side.1, shape: shape, parameters: p("weight") + p("bias"))
    }
    func blocks(_ x: [Float], _ group: String, _ count: Int, _ channels: Int, _ level: Int) -> [Float] {
        (0..<count).reduce(x) { naiveBlock($0, n: n, c: channels, h: h >> level, w: w >> level, arena: arena, prefix: "\(group).\($1)") }
    }
    var x = conv(input, "intro", .conv3x3(3, c.width), (h, w))
    var skips: [[Float]] = []
    for i in 0..<c.levels {
        x = blocks(x, "encoders.\(i)", c.encoderBlocks[i], c.width << i, i)
        skips.append(x)
        x = conv(x, "downs.\(i)", .down2x2(c.width << i, c.width << (i + 1)), (h >> i, w >> i))
    }
    x = blocks(x, "middle_blks", c.middleBlocks, c.width << c.levels, c.levels)
    for j in 0..<c.levels {
        let level = c.levels - 1 - j, inner = c.width << (level + 1)
        let up = conv(x, "ups.\(j).0", .conv1x1(inner, 2 * inner), (h >> (level + 1), w >> (level + 1)))
        let shuffled = naivePixelShuffle(up, n: n, c: inner / 2, h: h >> (level + 1), w: w >> (level + 1))
        x = blocks(zip(shuffled, skips[level]).map(+), "decoders.\(j)", c.decoderBlocks[j], inner / 2, level)
    }
    return zip(conv(x, "ending", .conv3x3(c.width, 3), (h, w)), input).map(+)
}

private func randomValues(_ count: Int, seed: UInt64, scale: Float) -> [Float] {
    var g = Tensors.SeededGenerator(seed: seed)
    return (0..<count).map { _ in (g.nextUniform() * 2 - 1) * scale }
}

// Two levels, a level without decoder blocks (the sum feeds the next up-convolution directly), a
// middle block; every parameter random (beta and gamma near 1, where NAFNet starts them at 0).
@Test("NAFNet matches its layers' naive twins composed; every parameter's gradient passes finite differences")
func nafNetAgainstNaiveAndFiniteDifferences() throws {
    let config = NAFNetConfig(width: 8, encoderBlocks: [1, 2], middleBlocks: 1, decoderBlocks: [0, 1])
    let net = try NAFNet(config: config, seed: 5)
    let arena = net.parameters
    arena.values.update(from: randomValues(arena.count, seed: 6, scale: 0.3), count: arena.count)
    // Norm weights and the branch scales near 1: each block's branches then carry gradients well above the
    // float32 noise of a finite difference through 9 blocks (with scales of 0.3 the first halves' fell below it).
    for entry in arena.entries where ["norm1.weight", "norm2.weight", "beta", "gamma"].contains(where: entry.name.hasSuffix) {
        for i in 0..<entry.count { arena.values[entry.offset + i] += 1 }
    }
    let (n, h, w) = (2, 8, 8)
    let input = randomValues(n * 3 * h * w, seed: 7, scale: 0.5).map { $0 + 0.5 }
    var output = [Float](repeating: 0, count: input.count)
    net.forward(input: input, output: &output, n: n, h: h, w: w, training: true)
    let expected = naiveNAFNet(input, n: n, h: h, w: w, config: config, arena: arena)
    let scale = expected.map(abs).max()!
    let worst = zip(output, expected).map { abs($0 - $1) }.max()!
    #expect(worst < 1e-5 * max(scale, 1), "largest difference to the naive composition \(worst) (values up to \(scale))")

    let probe = randomValues(input.count, seed: 8, scale: 1)
    func loss() -> Double {
        net.forward(input: input, output: &output, n: n, h: h, w: w, training: true)
        return GradientCheck.weightedSum(output, probe, count: probe.count)
    }
    net.zeroGrad()
    _ = loss()
    net.backward(gradOutput: probe)
    // Through 9 blocks in float32 a finite difference carries noise of up to 5e-4 absolute (with AVX-512
    // kernels; the channel attention's small weights show it first): each entry is held to 10 % of its
    // largest gradient or of 1e-2, whichever is larger, and the median over all entries to 2 % (a
    // wiring error, such as a lost skip gradient, moves most entries by far more).
    var errors: [Double] = []
    for entry in arena.entries {
        let grads = Array(UnsafeBufferPointer(start: arena.gradients + entry.offset, count: entry.count))
        let report = GradientCheck.check(values: arena.values + entry.offset, analytic: arena.gradients + entry.offset, count: entry.count,
                                         probes: 3, step: 2e-2, floor: max(0.05 * Double(grads.map(abs).max()!), 1e-2), loss: loss)
        #expect(report.maxRelativeError < 0.1, "\(entry.name): \(report)")
        errors.append(report.maxRelativeError)
    }
    #expect(errors.count == arena.entries.count && errors.count > 60)
    let median = errors.sorted()[errors.count / 2]
    #expect(median < 2e-2, "median of the entries' largest relative errors \(median)")
}

@Test("NAFNet's GoPro model has NAFNet's published 17.11M parameters (plus the up-convolutions' biases); NAFNet's initial state")
func nafNetPaperParameterCountAndInitialisation() throws {
    let net = try NAFNet(config: .paper, seed: 1)
    // 17,111,907 in NAFNet's code (its ups.N.0 have no bias); ours add 1024 + 512 + 256 + 128.
    #expect(net.parameterCount == 17_111_907 + 1_920)
    let names = Set(net.parameters.entries.map(\.name))
    for name in ["intro.weight", "encoders.3.27.conv2.weight", "downs.0.weight", "middle_blks.0.sca.1.weight", "ups.0.0.weight",
                 "decoders.3.0.beta", "ending.bias"] {
        #expect(names.contains(name), "missing \(name)")
    }
    #expect(net.parameters.entry("ups.0.0.weight")!.shape == [1024, 512, 1, 1])
    #expect(net.parameters.entry("downs.3.weight")!.shape == [512, 256, 2, 2])
    let beta = net.parameters.entry("encoders.0.0.beta")!
    #expect((0..<beta.count).allSatisfy { net.parameters.values[beta.offset + $0] == 0 })
    let intro = net.parameters.entry("intro.weight")!
    let bound = 1 / Float(27).squareRoot()
    let introValues = (0..<intro.count).map { net.parameters.values[intro.offset + $0] }
    #expect(introValues.allSatisfy { abs($0) <= bound } && introValues.contains { abs($0) > bound / 2 })
}

@Test("NAFNet refuses a size that does not halve evenly at every level, and configs whose lists disagree")
func nafNetRefusesBadConfigs() {
    #expect(throws: NAFNet.ConfigError.self) { try NAFNet(config: NAFNetConfig(width: 8, encoderBlocks: [1], middleBlocks: 1, decoderBlocks: [1, 1]), seed: 0) }
    #expect(NAFNetConfig.paper.sizeMultiple == 16)
}

// pipelines/peers/torch_nafnet.py export Tests/ModelsTests/Fixtures/parity: PyTorch's weights, an input, a
// probe, its output and d sum(probe * output) / d every parameter.
@Test("Parity with the PyTorch twin (torch_nafnet.py): the output and every parameter's gradient within 1e-4")
func nafNetParityWithPyTorch() throws {
    let dir = fixtures.appendingPathComponent("parity")
    let io = try SafeTensors.read(dir.appendingPathComponent("nafnet_io.safetensors"))
    let torchGradients = try SafeTensors.read(dir.appendingPathComponent("nafnet_grads.safetensors"))
    let net = try NAFNet(config: NAFNetConfig(width: 8, encoderBlocks: [1, 2], middleBlocks: 1, decoderBlocks: [0, 1]), seed: 0)
    let weights = try SafeTensors.read(dir.appendingPathComponent("nafnet.safetensors"))
    #expect(Set(weights.keys) == Set(net.parameters.entries.map(\.name)))
    try net.parameters.load(weights)
    let input = io["input"]!, probe = io["probe"]!, expected = io["output"]!
    #expect(input.shape == [2, 3, 16, 16])
    var output = [Float](repeating: 0, count: input.values.count)
    net.forward(input: input.values, output: &output, n: 2, h: 16, w: 16, training: true)
    let outputError = relativeError(output, expected.values)
    #expect(outputError < 1e-4, "output: max relative error \(outputError)")
    net.zeroGrad()
    net.backward(gradOutput: probe.values)
    let worst = expectGradientParity(net.parameters, torchGradients)
    print("nafnet parity: output \(outputError), worst gradient \(worst.name) \(worst.error)")
}
