import Foundation
import Imaging
import Models
import Tensors

/// Real files for the tests: a tiny UNet saved in jdrl-train's checkpoint layout and small
/// misaligned blurry/sharp pairs (the blurry one shifted and smoothed, so an aligner has work to do).
enum TinyData {
    static func folder(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-evaltests-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// runs/<run>/checkpoints/step_00000002/net_g.safetensors plus latest.json, as CheckpointStore writes them.
    @discardableResult
    static func checkpoint(in runs: URL, run: String = "tiny", widths: [Int] = [4, 8], seed: UInt64 = 7) throws -> URL {
        let checkpoints = runs.appendingPathComponent(run).appendingPathComponent("checkpoints")
        let step = checkpoints.appendingPathComponent("step_00000002")
        try FileManager.default.createDirectory(at: step, withIntermediateDirectories: true)
        let unet = try UNet(config: UNetConfig(widths: widths, dropout: 0), seed: seed)
        try unet.save(safetensors: step.appendingPathComponent("net_g.safetensors"))
        try Data(#"{"folder": "step_00000002", "step": 2}"#.utf8).write(to: checkpoints.appendingPathComponent("latest.json"))
        return step
    }

    /// A textured scene sampled at (x + dx, y + dy), optionally smoothed (3x3 box, `blurPasses` times).
    static func scene(width: Int, height: Int, dx: Double = 0, dy: Double = 0, blurPasses: Int = 0, bitDepth: Int = 8) -> PlanarImage {
        var image = PlanarImage(width: width, height: height, channels: 3, bitDepth: bitDepth)
        for c in 0..<3 {
            for y in 0..<height {
                for x in 0..<width {
                    let u = Double(x) + dx, v = Double(y) + dy
                    let value = 0.5 + 0.2 * sin(u * 0.21 + Double(c)) * cos(v * 0.17) + 0.15 * sin((u + 2 * v) * 0.09 + Double(c) * 0.5)
                        + 0.1 * cos(u * 0.05 - v * 0.11)
                    image[c, y, x] = Float(value)
                }
            }
        }
        for _ in 0..<blurPasses { image = boxBlur(image) }
        image.quantizeToBitDepth()
        return image
    }

    static func boxBlur(_ image: PlanarImage) -> PlanarImage {
        var out = image
        for c in 0..<image.channels {
            for y in 0..<image.height {
                for x in 0..<image.width {
                    var sum: Float = 0
                    for j in -1...1 { for i in -1...1 {
                        sum += image[c, min(max(y + j, 0), image.height - 1), min(max(x + i, 0), image.width - 1)]
                    } }
                    out[c, y, x] = sum / 9
                }
            }
        }
        return out
    }

    /// NAME_blur.png / NAME_sharp.png in `folder`: the sharp scene, and the scene shifted by (dx, dy) and blurred.
    static func pair(_ name: String, in folder: URL, width: Int = 96, height: Int = 80, dx: Double = 1.5, dy: Double = -1, bitDepth: Int = 8) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try scene(width: width, height: height, bitDepth: bitDepth).savePNG(to: folder.appendingPathComponent("\(name)_sharp.png"))
        try scene(width: width, height: height, dx: dx, dy: dy, blurPasses: 2, bitDepth: bitDepth)
            .savePNG(to: folder.appendingPathComponent("\(name)_blur.png"))
    }
}
