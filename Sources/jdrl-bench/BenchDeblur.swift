// deblur-4k: the paper UNet over a 4096x2160 capture as jdrl-deblur runs it (512-pixel tiles,
// 128 overlap), in f32 and in bf16, against PyTorch running the same number of tiles.
import Foundation
import Models
import Tensors

extension NumericBenchmarks {
    static func deblur4K() throws {
        let height = 2160, width = 4096
        let unet = try UNet(config: .paper, seed: 0)
        let tiling = TiledInference(tile: 512, overlap: 128, multiple: unet.config.sizeMultiple)
        let tiles = tiling.tileCount(height: height, width: width)
        var g = SeededGenerator(seed: 3)
        let image = (0..<(3 * height * width)).map { _ in g.nextUniform() }
        var output = [Float](repeating: 0, count: image.count)

        func deblur(_ precision: ElementType) -> (seconds: Double, peakMB: Double) {
            resetPeakMemory()
            var firstTile = true
            let start = now()
            image.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    tiling.run(input: input.baseAddress!, channels: 3, height: height, width: width, output: out.baseAddress!) { tileIn, tileOut, h, w in
                        unet.forward(input: tileIn, output: tileOut, n: 1, h: h, w: w, training: false,
                                     precision: precision, reuseWeights: !firstTile)
                        firstTile = false
                    }
                }
            }
            let seconds = now() - start
            FileHandle.standardError.write("deblur-4k: \(precision) \(tiles) tiles in \(String(format: "%.1f", seconds)) s\n".data(using: .utf8)!)
            return (seconds, peakMemoryMB())
        }
        // bf16 only where oneDNN has bf16 convolutions (AVX-512 and up).
        let hasBF16 = Engine.shared.platform.bf16 != .unavailable
        let bf16 = hasBF16 ? deblur(.bf16) : nil
        let lowPrecision = output
        let f32 = deblur(.f32)
        let script = PeerLocations.ownScript("torch_tiled_unet.py")
        let peerArguments = ["--tiles", "\(tiles)", "--size", "512", "--threads", "\(Engine.shared.threads)", "--peers", PeerLocations.folder]
        let peer = runPeer(peerArguments + ["--onnx"], script: script)
        let debianPeer = runPeer(peerArguments + ["--modes", "default"], script: script, interpreter: PeerLocations.debianPython)
        var fields: [String: Any] = ["bench": "deblur-4k", "image": "\(width)x\(height)", "tile": 512, "overlap": 128, "tiles": tiles,
                                     "ours_s": f32.seconds, "vmhwm_mb": f32.peakMB, "threads": Engine.shared.threads,
                                     "peers_timed": "the median seconds of a 512x512 tile times the tile count (PyTorch and ONNX Runtime)"]
        if let bf16 {
            fields["bf16_s"] = bf16.seconds; fields["bf16_vmhwm_mb"] = bf16.peakMB
            fields["bf16_vs_f32_max_abs_diff"] = Double(zip(lowPrecision, output).map { abs($0 - $1) }.max() ?? 0)
        }
        let scale = Double(tiles)
        PeerFields.add(peer, key: "tile_s", ours: f32.seconds, scale: scale, to: &fields)
        PeerFields.addONNXRuntime(peer, key: "onnxruntime_tile_s", ours: f32.seconds, scale: scale, to: &fields)
        PeerFields.addDebian(debianPeer, key: "tile_s", scale: scale, to: &fields)
        if let bf16, let peerSeconds = fields["peer_s"] as? Double { fields["bf16_speedup"] = peerSeconds / bf16.seconds }
        Benchmarks.emit(fields)
    }
}
