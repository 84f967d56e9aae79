// The blur-map prior network: the estimator and the squeeze-excitation gate against naive twins, every
// parameter of the whole network (UNet and NAFNet backbones) by finite differences, and the PyTorch twin
// (pipelines/peers/torch_prior.py: output, seeds and every gradient, through both loss paths).
import Foundation
import Models
import Tensors
import Testing

private func randomValues(_ count: Int, seed: UInt64, scale: Float) -> [Float] {
    var g = Tensors.SeededGenerator(seed: seed)
    return (0..<count).map { _ in (g.nextUniform() * 2 - 1) * scale }
}

private func values(_ arena: ParameterArena, _ name: String) -> [Float] {
    let e = arena.entry(name)!
    return Array(UnsafeBufferPointer(start: arena.values + e.offset, count: e.count))
}

/// concat(blurry, ramp * E(blurry)) gated, from naive convolutions and a naive squeeze-excitation.
private func naiveFeatures(_ blurry: [Float], n: Int, h: Int, w: Int, ramp: Float, arena: ParameterArena) -> [Float] {
    func conv(_ x: [Float], _ name: String, _ shape: ConvShape) -> [Float] {
        NaiveReference.convForward(x, n: n, h: h, w: w, shape: shape, parameters: values(arena, "\(name).weight") + values(arena, "\(name).bias"))
    }
    var x = conv(blurry, "estimator.0", .conv3x3(3, 32))
    for b in 1...3 {
        let inner = conv(x, "estimator.\(b).c1", .conv3x3(32, 32)).map { max($0, 0) }
        x = zip(x, conv(inner, "estimator.\(b).c2", .conv3x3(32, 32))).map(+)
    }
    let seeds = conv(x, "estimator.4", .conv3x3(32, 35))
    let plane = h * w, c = 38
    var concatenated: [Float] = []
    for ni in 0..<n {
        concatenated += blurry[(ni * 3 * plane)..<((ni + 1) * 3 * plane)]
        concatenated += seeds[(ni * 35 * plane)..<((ni + 1) * 35 * plane)].map { ramp * $0 }
    }
    let squeeze = values(arena, "gate.squeeze.weight"), excite = values(arena, "gate.excite.weight")
    var out = concatenated
    for ni in 0..<n {
        let means = (0..<c).map { ch in concatenated[((ni * c + ch) * plane)..<((ni * c + ch + 1) * plane)].reduce(0, +) / Float(plane) }
        let hidden = (0..<2).map { j in max((0..<c).reduce(Float(0)) { $0 + squeeze[j * c + $1] * means[$1] }, 0) }
        for ch in 0..<c {
            let gate = 1 / (1 + exp(-(0..<2).reduce(Float(0)) { $0 + excite[ch * 2 + $1] * hidden[$1] }))
            for p in 0..<plane { out[(ni * c + ch) * plane + p] *= gate }
        }
    }
    return out
}

@Test("The blur estimator has the journal's 66,499 parameters; the gate 38 -> 2 -> 38 without biases; names a twin can load")
func priorParameterTable() throws {
    let net = try PriorGuidedNetwork.unet(UNetConfig(widths: [8, 16], dropout: 0, residual: true), seed: 1)
    let estimator = net.parameters.entries.filter { $0.name.hasPrefix("estimator.") }.reduce(0) { $0 + $1.count }
    #expect(estimator == 66_499)
    #expect(net.parameters.entry("gate.squeeze.weight")!.shape == [2, 38])
    #expect(net.parameters.entry("gate.excite.weight")!.shape == [38, 2])
    #expect(net.parameters.entry("enc.0.0.weight")!.shape == [8, 38, 3, 3])
    // Biases 0.1 as the authors' estimator; the residual UNet's head starts at zero, so F starts as the identity.
    #expect(values(net.parameters, "estimator.4.bias").allSatisfy { $0 == 0.1 })
    let (n, h, w) = (1, 8, 8)
    let blurry = randomValues(n * 3 * h * w, seed: 2, scale: 0.5).map { $0 + 0.5 }
    var out = [Float](repeating: 0, count: blurry.count)
    net.forward(blurry: blurry, output: &out, n: n, h: h, w: w, training: false)
    #expect(out == blurry)
    // The image columns of the first convolution start at twice the 3-channel UNet's He scale (the gate
    // halves them), the seed columns at the 38-channel fan-in's: the image path starts as strong as the
    // plain UNet's.
    let first = values(net.parameters, "enc.0.0.weight")
    func rms(_ columns: Range<Int>) -> Float {
        var sum: Float = 0, count = 0
        for o in 0..<8 { for i in columns { for k in 0..<9 { sum += first[(o * 38 + i) * 9 + k] * first[(o * 38 + i) * 9 + k]; count += 1 } } }
        return (sum / Float(count)).squareRoot()
    }
    let image = rms(0..<3), seeds = rms(3..<38)
    #expect(abs(image / (2 * (2.0 / 27).squareRoot()) - 1) < 0.25, "image columns rms \(image)")
    #expect(abs(seeds / (2.0 / 342).squareRoot() - 1) < 0.1, "seed columns rms \(seeds)")
}

@Test("The prior's gated features match naive convolutions and a naive squeeze-excitation, at a ramp below 1")
func priorFeaturesAgainstNaive() throws {
    let net = try PriorGuidedNetwork.unet(UNetConfig(widths: [8, 16], dropout: 0, residual: true), seed: 3)
    let arena = net.parameters
    arena.values.update(from: randomValues(arena.count, seed: 4, scale: 0.3), count: arena.count)
    let (n, h, w) = (2, 8, 12)
    let blurry = randomValues(n * 3 * h * w, seed: 5, scale: 0.5).map { $0 + 0.5 }
    var out = [Float](repeating: 0, count: blurry.count)
    net.ramp = 0.4
    net.forward(blurry: blurry, output: &out, n: n, h: h, w: w, training: true)
    let ours = Array(UnsafeBufferPointer(start: net.prior.features, count: n * 38 * h * w))
    let expected = naiveFeatures(blurry, n: n, h: h, w: w, ramp: 0.4, arena: arena)
    let error = relativeError(ours, expected)
    #expect(error < 1e-4, "features: max relative error \(error)")
}

/// Random values for NAFNet and the gate; the estimator keeps its initialisation. Random weights of 0.3
/// through its seven 32-channel convolutions grow activations by about 3x per layer, to thousands, where
/// a finite difference crosses ReLU kinks (the PyTorch parity below checks those gradients to 1e-6).
private func randomiseAllButEstimator(_ arena: ParameterArena, seed: UInt64) {
    let random = randomValues(arena.count, seed: seed, scale: 0.3)
    for entry in arena.entries where !entry.name.hasPrefix("estimator.") {
        (arena.values + entry.offset).update(from: Array(random[entry.offset..<(entry.offset + entry.count)]), count: entry.count)
    }
}

/// loss = sum(probe * out) + sum(seedProbe * ramp * seeds): both paths into the estimator. Linear in the
/// seeds on purpose: Charbonnier with eps 1e-3 bends at the scale of a finite-difference step (it has
/// its own check); the parity test below runs the real pseudo-supervision.
private func priorGradientCheck(_ net: PriorGuidedNetwork, n: Int, h: Int, w: Int, step: Float, noiseFloor: Double,
                                minimumEntries: Int) {
    let arena = net.parameters
    let blurry = randomValues(n * 3 * h * w, seed: 7, scale: 0.5).map { $0 + 0.5 }
    let probe = randomValues(blurry.count, seed: 8, scale: 1)
    let seedProbe = randomValues(n * 35 * h * w, seed: 9, scale: 0.5)
    var out = [Float](repeating: 0, count: blurry.count)
    var seeds = [Float](repeating: 0, count: seedProbe.count)
    net.ramp = 0.6
    func loss() -> Double {
        net.forward(blurry: blurry, output: &out, n: n, h: h, w: w, training: true)
        net.copyScaledSeeds(into: &seeds)
        return GradientCheck.weightedSum(out, probe, count: probe.count) + GradientCheck.weightedSum(seeds, seedProbe, count: seeds.count)
    }
    arena.zeroGradients()
    _ = loss()
    net.addSeedGradient(seedProbe)
    net.backward(gradOutput: probe)
    var errors: [Double] = []
    for entry in arena.entries {
        let grads = Array(UnsafeBufferPointer(start: arena.gradients + entry.offset, count: entry.count))
        let report = GradientCheck.check(values: arena.values + entry.offset, analytic: arena.gradients + entry.offset, count: entry.count,
                                         probes: 3, step: entry.name.hasPrefix("estimator.") ? 1e-3 : step, floor: max(0.05 * Double(grads.map(abs).max()!), noiseFloor), loss: loss)
        #expect(report.maxRelativeError < 0.1, "\(entry.name): \(report)")
        errors.append(report.maxRelativeError)
    }
    #expect(errors.count >= minimumEntries)
    let median = errors.sorted()[errors.count / 2]
    #expect(median < 2e-2, "median of the entries' largest relative errors \(median)")
}

// The paper's sigmoid UNet at its initialisation: a residual UNet's zero head would hide every gradient
// behind it, and random weights put ReLU kinks within a step of most coordinates.
@Test("Prior + UNet: every parameter's gradient passes finite differences (deblurring and pseudo-supervision paths)")
func priorUNetFiniteDifferences() throws {
    let net = try PriorGuidedNetwork.unet(UNetConfig(widths: [4, 8], dropout: 0), seed: 10)
    priorGradientCheck(net, n: 2, h: 8, w: 8, step: 1e-3, noiseFloor: 1e-3, minimumEntries: 24)
}

@Test("Prior + NAFNet: every parameter's gradient passes finite differences")
func priorNAFNetFiniteDifferences() throws {
    let net = try PriorGuidedNetwork.nafnet(NAFNetConfig(width: 8, encoderBlocks: [1], middleBlocks: 1, decoderBlocks: [1]), seed: 12)
    let arena = net.parameters
    randomiseAllButEstimator(arena, seed: 13)
    for entry in arena.entries where ["norm1.weight", "norm2.weight", "beta", "gamma"].contains(where: entry.name.hasSuffix) {
        for i in 0..<entry.count { arena.values[entry.offset + i] += 1 }
    }
    #expect(arena.entry("intro.weight")!.shape == [8, 38, 3, 3])
    // NAFNet is smooth (no ReLU): a large step keeps float32 noise below its blocks' small gradients
    // (the estimator's ReLUs keep a small one); gradients below 1e-2 are compared to 1e-3 absolute, as
    // in NAFNet's own check.
    priorGradientCheck(net, n: 1, h: 8, w: 8, step: 3e-2, noiseFloor: 1e-2, minimumEntries: 40)
}

// pipelines/peers/torch_prior.py export Tests/ModelsTests/Fixtures/parity.
@Test("Parity with the PyTorch twin (torch_prior.py): output, seeds and every parameter's gradient within 1e-4")
func priorParityWithPyTorch() throws {
    let dir = fixtures.appendingPathComponent("parity")
    let io = try SafeTensors.read(dir.appendingPathComponent("prior_io.safetensors"))
    let torchGradients = try SafeTensors.read(dir.appendingPathComponent("prior_grads.safetensors"))
    let weights = try SafeTensors.read(dir.appendingPathComponent("prior_unet.safetensors"))
    let net = try PriorGuidedNetwork.unet(UNetConfig(widths: [8, 16], dropout: 0, residual: true), seed: 0)
    #expect(Set(weights.keys) == Set(net.parameters.entries.map(\.name)))
    try net.parameters.load(weights)
    let input = io["input"]!, probe = io["probe"]!, target = io["seed_target"]!
    #expect(input.shape == [2, 3, 16, 16])
    net.ramp = io["ramp"]!.values[0]
    var output = [Float](repeating: 0, count: input.values.count)
    net.forward(blurry: input.values, output: &output, n: 2, h: 16, w: 16, training: true)
    var seeds = [Float](repeating: 0, count: target.values.count)
    net.copyScaledSeeds(into: &seeds)
    let outputError = relativeError(output, io["output"]!.values), seedError = relativeError(seeds, io["scaled_seeds"]!.values)
    #expect(outputError < 1e-4 && seedError < 1e-4, "output \(outputError), seeds \(seedError)")
    net.parameters.zeroGradients()
    var gradSeeds = [Float](repeating: 0, count: seeds.count)
    Charbonnier.backward(seeds, target.values, mask: nil, count: seeds.count, scale: 0.5, gradA: &gradSeeds, gradB: nil)
    net.addSeedGradient(gradSeeds)
    net.backward(gradOutput: probe.values)
    let worst = expectGradientParity(net.parameters, torchGradients)
    print("prior parity: output \(outputError), seeds \(seedError), worst gradient \(worst.name) \(worst.error)")
}
