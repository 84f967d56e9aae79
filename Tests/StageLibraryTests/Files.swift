import Foundation
import Imaging

func scratchFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-lib-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A textured RGB PNG (each seed a different image), 8 or 16 bit, with its folder created.
func writeTestPNG(_ url: URL, width: Int, height: Int, bitDepth: Int = 8, seed: Int) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let top = bitDepth == 16 ? 65535.0 : 255.0
    var samples: [Int] = []
    samples.reserveCapacity(width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<3 {
                let value = 0.5 + 0.4 * sin(Double(x * (c + 2) + y * 3 + seed * 7) * 0.37)
                samples.append(Int(value * top))
            }
        }
    }
    let bytes = bitDepth == 16 ? samples.map { UInt16($0) }.withUnsafeBytes { [UInt8]($0) } : samples.map { UInt8($0) }
    try VipsImage.fromInterleaved(bytes, width: width, height: height, bands: 3, bitDepth: bitDepth).savePNG(to: url)
}

/// Small distinct images at these paths under `root` (seeds 1, 2, ...).
func writeTestPNGs(_ paths: [String], in root: URL, size: Int = 16) throws {
    for (index, path) in paths.enumerated() {
        try writeTestPNG(root.appendingPathComponent(path), width: size, height: size, seed: index + 1)
    }
}
