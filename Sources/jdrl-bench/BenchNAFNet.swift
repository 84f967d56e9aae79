import Foundation
import Models
import Tensors

/// A NAFNet training step: NAFNet's GoPro model (width 32, 36 blocks) at 256x256, batch 1, forward,
/// Charbonnier to a fixed target, backward, Adam; median of 3 after a warm-up. The peer is the PyTorch
/// twin doing the same (pipelines/peers/torch_nafnet.py time), in the same run.
func benchTrainStepNAFNet() throws {
    let size = 256, steps = 3, count = 3 * size * size
    let net = try NAFNet(config: .paper, seed: 0)
    var adam = Adam(lr: 1e-4)
    var g = SeededGenerator(seed: 2)
    let blurry = (0..<count).map { _ in g.nextUniform() }, target = (0..<count).map { _ in g.nextUniform() }
    var output = [Float](repeating: 0, count: count), gradient = output
    func step() {
        net.forward(input: blurry, output: &output, n: 1, h: size, w: size, training: true)
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        Charbonnier.backward(output, target, mask: nil, count: count, scale: 1, gradA: &gradient, gradB: nil)
        net.zeroGrad()
        net.backward(gradOutput: gradient)
        adam.step(net)
    }
    let times = NumericBenchmarks.timedRuns(steps, step)
    let ours = NumericBenchmarks.median(times)
    // Where one more step goes, part by part (outside the median).
    var t = NumericBenchmarks.now()
    net.forward(input: blurry, output: &output, n: 1, h: size, w: size, training: true)
    let forward = NumericBenchmarks.now() - t
    Charbonnier.backward(output, target, mask: nil, count: count, scale: 1, gradA: &gradient, gradB: nil)
    net.zeroGrad()
    t = NumericBenchmarks.now()
    net.backward(gradOutput: gradient)
    let backward = NumericBenchmarks.now() - t
    t = NumericBenchmarks.now()
    adam.step(net)
    let update = NumericBenchmarks.now() - t
    let script = PeerLocations.ownScript("torch_nafnet.py")
    let peer = NumericBenchmarks.runPeer(["time", "--threads", "\(Engine.shared.threads)", "--size", "\(size)", "--steps", "\(steps)"],
                                         script: script)
    var fields: [String: Any] = [
        "bench": "train-step-nafnet", "ours_s": ours, "ours_s_all": times, "size": size, "threads": Engine.shared.threads,
        "parameters": net.parameterCount, "parts_s": ["forward": forward, "backward": backward, "adam": update],
        "timed": "NAFNet width 32, blocks [1,1,1,28] + 1 + [1,1,1,1]: forward, Charbonnier to a fixed target, backward, Adam; batch 1; median of 3 after a warm-up, both sides",
    ]
    PeerFields.add(peer, key: "train_step_s_median", ours: ours, to: &fields)
    Benchmarks.emit(fields)
}
