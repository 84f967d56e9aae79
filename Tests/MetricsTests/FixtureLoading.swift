import Foundation
import Imaging

/// Fixtures live next to this file (Tests/MetricsTests/Fixtures), found through #filePath.
enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: folder.appendingPathComponent(name))
    }

    /// Reads HWC little-endian uint8/uint16 samples into a planar image scaled to [0,1] by 255 or 65535.
    static func rawImage(_ name: String, width: Int, height: Int, channels: Int, bitDepth: Int) throws -> PlanarImage {
        let bytes = try data(name)
        let count = width * height * channels
        let peak: Float = bitDepth == 16 ? 65535 : 255
        var image = PlanarImage(width: width, height: height, channels: channels, bitDepth: bitDepth)
        bytes.withUnsafeBytes { raw in
            precondition(raw.count == count * (bitDepth == 16 ? 2 : 1), "\(name): unexpected size \(raw.count)")
            for i in 0..<count {
                let sample: Float = bitDepth == 16
                    ? Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    : Float(raw[i])
                let c = i % channels, pixel = i / channels
                image.pixels[c * width * height + pixel] = sample / peak
            }
        }
        return image
    }
}

/// metric_pairs.json, written by make_metric_fixtures.py.
struct MetricPairsFile: Decodable {
    struct Scores: Decodable { var psnr: Double?; var ssim: Double; var mae: Double? }
    struct Pair: Decodable {
        var name: String
        var width: Int
        var height: Int
        var channels: Int
        var bitDepth: Int
        var output: String
        var target: String
        var expected: [String: Scores]
    }
    var pairs: [Pair]

    static func load() throws -> MetricPairsFile {
        try JSONDecoder().decode(MetricPairsFile.self, from: Fixtures.data("metric_pairs.json"))
    }
}

extension MetricPairsFile.Pair {
    func images() throws -> (output: PlanarImage, target: PlanarImage) {
        (try Fixtures.rawImage(output, width: width, height: height, channels: channels, bitDepth: bitDepth).rgbForMetrics(),
         try Fixtures.rawImage(target, width: width, height: height, channels: channels, bitDepth: bitDepth).rgbForMetrics())
    }
}
