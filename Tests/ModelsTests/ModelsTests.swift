// UNet and ReblurModule: parameter counts, PyTorch names, parity with torch_jdrl.py, finite-difference
// check of the composed JDRL loss, training steps, checkpoints.
import Foundation
import Models
import Tensors
import Testing

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

func randomImage(_ count: Int, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in g.nextUniform() }
}

/// max |a - b| / max |b|: the error relative to the reference's scale.
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    let scale = Double(b.map { abs($0) }.max() ?? 0)
    return zip(a, b).map { abs(Double($0) - Double($1)) }.max()! / max(scale, 1e-12)
}

/// Every tensor's gradient in `arena` against the PyTorch twin's (`reference`, by name), each within 1e-4
/// of the reference's scale; returns the worst (name, error) for the log line.
@discardableResult
func expectGradientParity(_ arena: ParameterArena, _ reference: [String: SafeTensors.Tensor]) -> (name: String, error: Double) {
    var worst = (name: "", error: 0.0)
    for entry in arena.entries {
        let ours = Array(UnsafeBufferPointer(start: arena.gradients + entry.offset, count: entry.count))
        let error = relativeError(ours, reference[entry.name]!.values)
        #expect(error < 1e-4, "\(entry.name): gradient max relative error \(error)")
        if error > worst.error { worst = (entry.name, error) }
    }
    return worst
}

@Test("Parameter counts: paper UNet 31,033,411; KPN 245,283 and WPN 229,704 at width 64")
func parameterCounts() throws {
    let unet = try UNet(config: .paper, seed: 0)
    #expect(unet.parameterCount == 31_033_411)
    let rb = try ReblurModule(width: 64, seed: 0)
    #expect(rb.parameterCount(trunk: "kpn") == 245_283)
    #expect(rb.parameterCount(trunk: "wpn") == 229_704)
    #expect(rb.parameterCount == 245_283 + 229_704)
}

@Test("Parameter names, order and shapes are torch_jdrl.py's state_dict")
func stateDictNames() throws {
    let unet = try UNet(config: UNetConfig(widths: [8, 16, 32], dropout: 0), seed: 0)
    let torch = try SafeTensors.read(fixtures.appendingPathComponent("parity/unet.safetensors"))
    #expect(Set(unet.parameters.entries.map(\.name)) == Set(torch.keys))
    #expect(unet.parameters.entries.allSatisfy { torch[$0.name]?.shape == $0.shape })
    #expect(unet.parameters.entries.prefix(3).map(\.name) == ["enc.0.0.weight", "enc.0.0.bias", "enc.0.2.weight"])
    let rb = try ReblurModule(width: 8, seed: 0)
    let torchRB = try SafeTensors.read(fixtures.appendingPathComponent("parity/reblur.safetensors"))
    #expect(Set(rb.parameters.entries.map(\.name)) == Set(torchRB.keys))
    #expect(rb.parameters.entry("kpn.1.c1.weight")?.shape == [8, 8, 3, 3])
}

@Test("Parity with PyTorch: UNet and ReblurModule loaded from torch_jdrl.py export reproduce its outputs")
func parityWithPyTorch() throws {
    let dir = fixtures.appendingPathComponent("parity")
    let io = try SafeTensors.read(dir.appendingPathComponent("io.safetensors"))
    let unet = try UNet(config: UNetConfig(widths: [8, 16, 32], dropout: 0.4), seed: 99)
    try unet.load(safetensors: dir.appendingPathComponent("unet.safetensors"))
    let rb = try ReblurModule(width: 8, seed: 99)
    try rb.load(safetensors: dir.appendingPathComponent("reblur.safetensors"))
    let blurry = io["blurry"]!, expectedOut = io["deblurred"]!, expectedSeeds = io["seeds"]!, expectedRe = io["reblurred"]!
    #expect(blurry.shape == [1, 3, 64, 64])
    var out = [Float](repeating: 0, count: blurry.values.count)
    unet.forward(input: blurry.values, output: &out, n: 1, h: 64, w: 64, training: false)
    let unetError = relativeError(out, expectedOut.values)
    #expect(unetError < 1e-4, "UNet max relative error \(unetError)")
    // The reblurring module on PyTorch's deblurred image (isolates R from F's float differences).
    var re = [Float](repeating: 0, count: blurry.values.count)
    var seeds = [Float](repeating: 0, count: expectedSeeds.values.count)
    rb.forward(deblurred: expectedOut.values, blurry: blurry.values, reblurred: &re, seeds: &seeds, n: 1, h: 64, w: 64)
    let seedError = relativeError(seeds, expectedSeeds.values), reError = relativeError(re, expectedRe.values)
    #expect(seedError < 1e-4, "seeds max relative error \(seedError)")
    #expect(reError < 1e-4, "reblurred max relative error \(reError)")
    // And chained on our own output.
    rb.forward(deblurred: out, blurry: blurry.values, reblurred: &re, seeds: &seeds, n: 1, h: 64, w: 64)
    #expect(relativeError(re, expectedRe.values) < 1e-4)
    print("parity: unet \(unetError), seeds \(seedError), reblurred \(reError)")
}

/// A tiny F and R (no dropout: finite differences need a deterministic loss).
func tinyStep(seed: UInt64, lr: Float = 1e-3) throws -> TrainingStep {
    let unet = try UNet(config: UNetConfig(widths: [4, 8], dropout: 0), seed: seed)
    let rb = try ReblurModule(width: 4, seed: seed + 1)
    return TrainingStep(unet: unet, reblur: rb, optimizer: Adam(lr: lr))
}

@Test("Composed loss Charb(F(b), gt) + 0.5 Charb(R(F(b), b), b): analytic gradients match finite differences")
func composedLossGradient() throws {
    let (h, w) = (16, 16)
    let step = try tinyStep(seed: 3)
    let blurry = randomImage(3 * h * w, seed: 10), target = randomImage(3 * h * w, seed: 11)
    _ = step.computeGradients(blurry: blurry, target: target, n: 1, h: h, w: w)
    func loss() -> Double {
        let unet = step.unet, rb = step.reblur
        var out = [Float](repeating: 0, count: 3 * h * w), re = out
        unet.forward(input: blurry, output: &out, n: 1, h: h, w: w, training: true)
        rb.forward(deblurred: out, blurry: blurry, reblurred: &re, seeds: nil, n: 1, h: h, w: w)
        return Tensors.Charbonnier.loss(out, target, mask: nil, count: out.count, eps: 1e-3)
            + 0.5 * Tensors.Charbonnier.loss(re, blurry, mask: nil, count: re.count, eps: 1e-3)
    }
    for model in [step.unet as Trainable, step.reblur as Trainable] {
        let p = model.parameters
        let analytic = Array(UnsafeBufferPointer(start: p.gradients, count: p.count))
        let scale = Double(analytic.map { abs($0) }.max()!)
        #expect(scale > 0)
        let report = GradientCheck.check(values: p.values, analytic: p.gradients, count: p.count, probes: 40,
                                         step: 1e-3, floor: 0.05 * scale, loss: loss)
        #expect(report.maxRelativeError < 3e-2, "\(type(of: model)): \(report)")
    }
}

@Test("Training steps lower the composed loss and the step reuses its buffers")
func trainingStepsReduceLoss() throws {
    let (h, w) = (16, 16)
    let step = try tinyStep(seed: 5, lr: 1e-2)
    let blurry = randomImage(3 * h * w, seed: 20), target = randomImage(3 * h * w, seed: 21)
    let first = step.run(blurry: blurry, target: target, n: 1, h: h, w: w)
    var last = first
    for _ in 0..<10 { last = step.run(blurry: blurry, target: target, n: 1, h: h, w: w) }
    #expect(last.total < first.total * 0.95, "loss \(first.total) -> \(last.total)")
    #expect(step.optimizer.step == 11)
}

@Test("UNet replans for a new size (inference at any multiple of 2^(depth-1)) and checkpoints round-trip")
func replanAndCheckpoint() throws {
    let unet = try UNet(config: UNetConfig(widths: [8, 16, 32], dropout: 0.4), seed: 7)
    let small = randomImage(3 * 8 * 12, seed: 30), big = randomImage(2 * 3 * 16 * 20, seed: 31)
    var outSmall = [Float](repeating: 0, count: small.count), outBig = [Float](repeating: 0, count: big.count)
    unet.forward(input: small, output: &outSmall, n: 1, h: 8, w: 12, training: false)
    unet.forward(input: big, output: &outBig, n: 2, h: 16, w: 20, training: false)
    var again = [Float](repeating: 0, count: small.count)
    unet.forward(input: small, output: &again, n: 1, h: 8, w: 12, training: false)
    #expect(again == outSmall)
    #expect(outBig.allSatisfy { $0 > 0 && $0 < 1 })
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-unet-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    var adam = Adam(lr: 1e-3)
    unet.zeroGrad(); adam.step(unet)
    try unet.save(safetensors: url, extra: adam.stateTensors(of: unet.parameters) + [adam.stateScalars()])
    let copy = try UNet(config: unet.config, seed: 8)
    #expect(throws: SafeTensors.Error.self) { try copy.load(safetensors: url) }
    try copy.load(safetensors: url, allowExtra: true)
    var restored = Adam(lr: 1e-3)
    try restored.restore(try SafeTensors.read(url), arena: copy.parameters)
    #expect(restored.step == 1)
    var outCopy = [Float](repeating: 0, count: small.count)
    copy.forward(input: small, output: &outCopy, n: 1, h: 8, w: 12, training: false)
    #expect(outCopy == outSmall)
}
