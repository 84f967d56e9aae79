import Foundation
import Imaging
import Metrics

/// PSNR + SSIM (uniform window) on a 2048x1080 RGB pair: ours against scikit-image
/// (`peak_signal_noise_ratio` and `structural_similarity` as metrics_skimage.py calls them), both
/// timed in this run on the same pixels, best of three, computation only (no file decoding).
/// Prints one JSON line.
func benchMetrics() throws {
    let width = 2048, height = 1080, repeats = 3
    let (output, target) = benchmarkPair(width: width, height: height)

    let pair = try ImagePair(output: output, target: target)
    var ours = Double.infinity, oursSSIM = 0.0
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = pair.psnr()
        oursSSIM = try pair.ssim().value
        ours = min(ours, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-bench-metrics-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try interleavedFloat32(output).write(to: folder.appendingPathComponent("output.f32"))
    try interleavedFloat32(target).write(to: folder.appendingPathComponent("target.f32"))
    let peer = try timeScikitImage(folder: folder, width: width, height: height, repeats: repeats)
    guard abs(peer.ssim - oursSSIM) < 1e-4 else {
        throw BenchFailure("SSIM disagrees with scikit-image: ours \(oursSSIM), skimage \(peer.ssim)")
    }
    print(String(format: "{\"bench\":\"metrics\",\"ours_s\":%.4f,\"peer\":\"scikit-image\",\"peer_s\":%.4f,\"speedup\":%.2f,\"size\":\"%dx%d\"}",
                 ours, peer.seconds, peer.seconds / ours, width, height))
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A textured target (sums of sinusoids) and a noisy, darkened "output", deterministic.
private func benchmarkPair(width: Int, height: Int) -> (PlanarImage, PlanarImage) {
    var target = PlanarImage(width: width, height: height, channels: 3)
    var output = target
    var state: UInt32 = 7
    for c in 0..<3 {
        for y in 0..<height {
            for x in 0..<width {
                let value = 0.5 + 0.25 * sin(Double(x) * 0.031 * Double(c + 1)) * cos(Double(y) * 0.017) + 0.2 * sin(Double(x + y) * 0.003)
                state = state &* 1_664_525 &+ 1_013_904_223
                let noise = (Double(state >> 8) / Double(1 << 24) - 0.5) * 0.06
                target[c, y, x] = Float(value)
                output[c, y, x] = Float(min(1, max(0, 0.95 * value + noise)))
            }
        }
    }
    return (output, target)
}

/// HWC little-endian float32, the layout numpy reads back with `fromfile(...).reshape(h, w, 3)`.
private func interleavedFloat32(_ image: PlanarImage) -> Data {
    var values = [Float](repeating: 0, count: image.pixels.count)
    for c in 0..<image.channels {
        for i in 0..<image.planeSize { values[i * image.channels + c] = image.pixels[c * image.planeSize + i] }
    }
    return values.withUnsafeBufferPointer { Data(buffer: $0) }
}

private func timeScikitImage(folder: URL, width: Int, height: Int, repeats: Int) throws -> (seconds: Double, ssim: Double) {
    let script = """
    import json, sys, time, numpy as np
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    d, h, w, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    x = np.fromfile(d + '/output.f32', '<f4').reshape(h, w, 3).astype(np.float64)
    y = np.fromfile(d + '/target.f32', '<f4').reshape(h, w, 3).astype(np.float64)
    best = float('inf')
    for _ in range(n):
        t = time.perf_counter()
        peak_signal_noise_ratio(y, x, data_range=1.0)
        s = structural_similarity(y, x, channel_axis=2, data_range=1.0)
        best = min(best, time.perf_counter() - t)
    print(json.dumps({'seconds': best, 'ssim': s}))
    """
    let run = try PeerRun.python(["-c", script, folder.path, "\(height)", "\(width)", "\(repeats)"])
    guard let result = run.result, let seconds = result["seconds"] as? Double, let ssim = result["ssim"] as? Double else {
        throw BenchFailure("scikit-image timing failed (python3 with numpy and scikit-image needed; exit \(run.status))")
    }
    return (seconds, ssim)
}
