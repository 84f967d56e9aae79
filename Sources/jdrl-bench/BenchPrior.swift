import Foundation
import Models
import Tensors

/// A training step of jdrl-prior-unet-cpu.yaml's network F (the blur-map prior in front of the residual
/// UNet widths 32..256) at its batch shape, 4 x 64x64: forward, Charb(out, target) + 0.5 Charb(seeds,
/// seed target), backward, Adam; median of 10 after a warm-up. The peer is the PyTorch twin doing the same
/// (pipelines/peers/torch_prior.py time), in the same run.
func benchTrainStepPrior() throws {
    let (size, batch, steps) = (64, 4, 10)
    let count = batch * 3 * size * size, seedCount = batch * BlurMapPrior.seedCount * size * size
    let net = try PriorGuidedNetwork.unet(UNetConfig(widths: [32, 64, 128, 256], dropout: 0, residual: true), seed: 0)
    var adam = Adam(lr: 1e-4)
    var g = SeededGenerator(seed: 3)
    let blurry = (0..<count).map { _ in g.nextUniform() }, target = (0..<count).map { _ in g.nextUniform() }
    let seedTarget = (0..<seedCount).map { _ in g.nextUniform() }
    var output = [Float](repeating: 0, count: count), gradient = output
    var seeds = [Float](repeating: 0, count: seedCount), seedGradient = seeds
    func step() {
        net.forward(blurry: blurry, output: &output, n: batch, h: size, w: size, training: true)
        net.copyScaledSeeds(into: &seeds)
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        seedGradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        Charbonnier.backward(output, target, mask: nil, count: count, scale: 1, gradA: &gradient, gradB: nil)
        Charbonnier.backward(seeds, seedTarget, mask: nil, count: seedCount, scale: 0.5, gradA: &seedGradient, gradB: nil)
        net.zeroGrad()
        net.addSeedGradient(seedGradient)
        net.backward(gradOutput: gradient)
        adam.step(net)
    }
    let times = NumericBenchmarks.timedRuns(steps, step)
    let ours = NumericBenchmarks.median(times)
    let script = PeerLocations.ownScript("torch_prior.py")
    let peer = NumericBenchmarks.runPeer(["time", "--threads", "\(Engine.shared.threads)", "--size", "\(size)", "--batch", "\(batch)",
                                          "--steps", "\(steps)"], script: script)
    var fields: [String: Any] = [
        "bench": "train-step-prior", "ours_s": ours, "ours_s_all": times, "size": size, "batch": batch, "threads": Engine.shared.threads,
        "parameters": net.parameterCount,
        "timed": "blur-map prior + residual UNet [32,64,128,256]: forward, Charb(out) + 0.5 Charb(seeds), backward, Adam; batch 4 x 64x64; median of 10 after a warm-up, both sides",
    ]
    PeerFields.add(peer, key: "train_step_s_median", ours: ours, to: &fields)
    Benchmarks.emit(fields)
}
