// Benchmark of the reblurring module's isotropic blur: our ring-sum forward + backward against
// PyTorch's unfold formulation (Reblur.forward in peers/torch_jdrl.py), 256x256, batch 1, both on
// this machine's cores. Prints one JSON line.

import Foundation
import Seeding
import Tensors

/// Times IsotropicBlur.forward + backward at 256x256 (median of several runs), checks the fast path
/// against the naive oracle on a small case, then times PyTorch's unfold version of the same math.
func benchIsotropicBlur() throws {
    let size = 256, plane = size * size, repeats = 5
    let threads = ProcessInfo.processInfo.activeProcessorCount
    var rng = SplitMix64(state: 42)   // the same inputs on every run
    let image = (0..<(3 * plane)).map { _ in Float.random(in: 0...1, using: &rng) }
    let seeds = (0..<(35 * plane)).map { _ in Float.random(in: -3...3, using: &rng) }
    let logits = (0..<(8 * plane)).map { _ in Float.random(in: -2...2, using: &rng) }
    let gradOutput = (0..<(3 * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
    var weights = [Float](repeating: 0, count: 8 * plane)
    ChannelSoftmax.forward(input: logits, output: &weights, n: 1, c: 8, h: size, w: size)
    var output = [Float](repeating: 0, count: 3 * plane)
    var gradImage = [Float](repeating: 0, count: 3 * plane)
    var gradSeeds = [Float](repeating: 0, count: 35 * plane)
    var gradWeights = [Float](repeating: 0, count: 8 * plane)

    var forwardTimes: [Double] = [], backwardTimes: [Double] = [], totalTimes: [Double] = []
    for run in 0...repeats {                      // run 0 warms caches and page mappings
        let start = DispatchTime.now().uptimeNanoseconds
        IsotropicBlur.forward(image: image, seeds: seeds, weights: weights, output: &output, n: 1, h: size, w: size)
        let middle = DispatchTime.now().uptimeNanoseconds
        IsotropicBlur.backward(image: image, seeds: seeds, weights: weights, gradOutput: gradOutput, gradImage: &gradImage,
                               gradSeeds: &gradSeeds, gradWeights: &gradWeights, n: 1, h: size, w: size)
        let end = DispatchTime.now().uptimeNanoseconds
        if run > 0 {
            forwardTimes.append(Double(middle - start) * 1e-9)
            backwardTimes.append(Double(end - middle) * 1e-9)
            totalTimes.append(Double(end - start) * 1e-9)
        }
    }
    let median = { (values: [Double]) in values.sorted()[values.count / 2] }
    let ours = median(totalTimes)

    var result: [String: Any] = [
        "bench": "isotropic-blur", "size": size, "n": 1, "threads": threads, "repeats": repeats,
        "ours_s": ours, "ours_forward_s": median(forwardTimes), "ours_backward_s": median(backwardTimes),
        "ours_min_s": totalTimes.min()!, "max_rel_err_vs_naive_32x32": fastVersusNaiveError(size: 32),
        "peer": "pytorch unfold",
    ]
    switch runTorchUnfoldPeer(size: size, threads: threads, repeats: repeats) {
    case .success(let peer):
        result["peer_s"] = peer.median
        result["peer_min_s"] = peer.min
        result["peer_version"] = peer.version
        result["speedup"] = peer.median / ours
    case .failure(let error):
        result["peer_s"] = NSNull()
        result["speedup"] = NSNull()
        result["peer_error"] = "\(error)"
    }
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

/// Max over forward and all gradients of |fast - naive| / max |naive|, on a random n=1 case.
private func fastVersusNaiveError(size: Int) -> Double {
    let plane = size * size
    var rng = SplitMix64(state: 7)
    let image = (0..<(3 * plane)).map { _ in Float.random(in: 0...1, using: &rng) }
    let seeds = (0..<(35 * plane)).map { _ in Float.random(in: -3...3, using: &rng) }
    let weights = (0..<(8 * plane)).map { _ in Float.random(in: 0...0.25, using: &rng) }
    let gradOutput = (0..<(3 * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
    var worst = 0.0
    func compare(_ a: [Float], _ b: [Float]) {
        let scale = Double(b.map { abs($0) }.max() ?? 1)
        let diff = zip(a, b).map { Double(abs($0 - $1)) }.max() ?? 0
        worst = max(worst, diff / max(scale, 1e-12))
    }
    var results: [[Float]] = []
    for naive in [false, true] {
        var out = [Float](repeating: 0, count: 3 * plane)
        var gImage = [Float](repeating: 0, count: 3 * plane)
        var gSeeds = [Float](repeating: 0, count: 35 * plane)
        var gWeights = [Float](repeating: 0, count: 8 * plane)
        if naive {
            IsotropicBlurNaive.forward(image: image, seeds: seeds, weights: weights, output: &out, n: 1, h: size, w: size)
            IsotropicBlurNaive.backward(image: image, seeds: seeds, weights: weights, gradOutput: gradOutput, gradImage: &gImage,
                                        gradSeeds: &gSeeds, gradWeights: &gWeights, n: 1, h: size, w: size)
        } else {
            IsotropicBlur.forward(image: image, seeds: seeds, weights: weights, output: &out, n: 1, h: size, w: size)
            IsotropicBlur.backward(image: image, seeds: seeds, weights: weights, gradOutput: gradOutput, gradImage: &gImage,
                                   gradSeeds: &gSeeds, gradWeights: &gWeights, n: 1, h: size, w: size)
        }
        results += [out, gImage, gSeeds, gWeights]
    }
    for i in 0..<4 { compare(results[i], results[i + 4]) }
    return worst
}

private struct TorchTiming { let median: Double; let min: Double; let version: String }

private struct PeerFailure: Error, CustomStringConvertible { let description: String }

/// Runs today's PyTorch (the peers' interpreter) on the unfold formulation: the same abs, interpolation matrices,
/// einsum, softmax over K*K taps and unfold as torch_jdrl.py's Reblur.forward, then backward.
private func runTorchUnfoldPeer(size: Int, threads: Int, repeats: Int) -> Result<TorchTiming, PeerFailure> {
    let script = """
    import json, math, sys, time
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(int(sys.argv[1])); size = int(sys.argv[2]); repeats = int(sys.argv[3])
    torch.manual_seed(0)
    RADIAL = [2, 3, 4, 5, 6, 7, 8]
    def tap_matrix(k):
        mid = (k - 1) // 2; m = torch.zeros(k * k, mid + 1)
        for i in range(k):
            for j in range(k):
                d = math.hypot(i - mid, j - mid)
                if d > mid: continue
                lo, hi = math.floor(d), math.ceil(d)
                if lo == hi: m[i * k + j, lo] = 1.0
                else: m[i * k + j, lo] = hi - d; m[i * k + j, hi] = d - lo
        return m
    mats = [tap_matrix(2 * r - 1) for r in RADIAL]
    image = torch.rand(1, 3, size, size, requires_grad=True)
    raw = (6 * torch.rand(1, 35, size, size) - 3).requires_grad_()
    weights = torch.softmax(torch.randn(1, 8, size, size), 1).requires_grad_()
    grad = torch.randn(1, 3, size, size)
    def forward_backward():
        seeds = raw.abs(); out = weights[:, :1] * image; first = 0
        for i, r in enumerate(RADIAL):
            k = 2 * r - 1
            kern = torch.softmax(torch.einsum('tr,brhw->bthw', mats[i], seeds[:, first:first + r]), 1); first += r
            cols = F.unfold(image, k, padding=k // 2).view(1, 3, k * k, size, size)
            out = out + weights[:, i + 1:i + 2] * (cols * kern.unsqueeze(1)).sum(2)
        out.backward(grad)
    times = []
    for run in range(repeats + 1):
        t = time.perf_counter(); forward_backward(); elapsed = time.perf_counter() - t
        if run: times.append(elapsed)
    times.sort()
    print(json.dumps({'version': torch.__version__, 'median_s': times[len(times) // 2], 'min_s': times[0]}))
    """
    let run: PeerRun
    do { run = try PeerRun.python(["-c", script, "\(threads)", "\(size)", "\(repeats)"], interpreter: PeerLocations.modernPython) } catch {
        return .failure(PeerFailure(description: "cannot run python3: \(error)"))
    }
    guard let object = run.result, let median = object["median_s"] as? Double, let min = object["min_s"] as? Double else {
        return .failure(PeerFailure(description: "python3 peer failed (status \(run.status)): \(run.lastError)"))
    }
    return .success(TorchTiming(median: median, min: min, version: object["version"] as? String ?? "unknown"))
}
