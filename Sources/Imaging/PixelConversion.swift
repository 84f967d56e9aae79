import Foundation

/// Conversions between libvips images (interleaved 8/16-bit samples) and planar Float buffers.
/// Float values are sample / 255 or sample / 65535; writing rounds to nearest and clamps to [0, 1].
public enum PixelConversion {
    public static func planar(from image: VipsImage) throws -> PlanarImage {
        guard let depth = image.bitDepth else {
            throw ImagingError.vips(operation: "to planar", reason: "sample format \(image.formatName) is not 8 or 16 bit")
        }
        let bytes = try image.interleavedBytes()
        return planar(fromInterleaved: bytes, width: image.width, height: image.height, channels: image.bands, bitDepth: depth)
    }

    public static func planar(fromInterleaved bytes: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int) -> PlanarImage {
        let plane = width * height
        var pixels = [Float](repeating: 0, count: plane * channels)
        pixels.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBytes { raw in
                if bitDepth == 16 {
                    let samples = raw.bindMemory(to: UInt16.self)
                    let scale: Float = 1 / 65535
                    for i in 0..<plane { for c in 0..<channels { out[c * plane + i] = Float(samples[i * channels + c]) * scale } }
                } else {
                    let scale: Float = 1 / 255
                    for i in 0..<plane { for c in 0..<channels { out[c * plane + i] = Float(raw[i * channels + c]) * scale } }
                }
            }
        }
        return PlanarImage(width: width, height: height, channels: channels, bitDepth: bitDepth, pixels: pixels)
    }

    /// Interleaved samples in the image's `bitDepth` (UInt16 native-endian when 16).
    public static func interleavedBytes(from image: PlanarImage) -> [UInt8] {
        let plane = image.planeSize, channels = image.channels
        if image.bitDepth == 16 {
            var samples = [UInt16](repeating: 0, count: plane * channels)
            image.pixels.withUnsafeBufferPointer { src in
                for i in 0..<plane { for c in 0..<channels {
                    samples[i * channels + c] = UInt16(min(max(src[c * plane + i], 0), 1) * 65535 + 0.5)
                } }
            }
            return samples.withUnsafeBytes { [UInt8]($0) }
        }
        var bytes = [UInt8](repeating: 0, count: plane * channels)
        image.pixels.withUnsafeBufferPointer { src in
            for i in 0..<plane { for c in 0..<channels {
                bytes[i * channels + c] = UInt8(min(max(src[c * plane + i], 0), 1) * 255 + 0.5)
            } }
        }
        return bytes
    }

    public static func vipsImage(from image: PlanarImage) throws -> VipsImage {
        try VipsImage.fromInterleaved(interleavedBytes(from: image), width: image.width, height: image.height,
                                      bands: image.channels, bitDepth: image.bitDepth == 16 ? 16 : 8)
    }
}

extension PlanarImage {
    /// Loads an image file as RGB planar floats (see `ImageFile.loadRGB` for the normalisation).
    public static func load(_ url: URL) throws -> PlanarImage { try ImageFile.loadPlanar(url).image }

    /// Saves as PNG in `bitDepth`.
    public func savePNG(to url: URL, compression: Int = 1) throws {
        try ImageFile.savePNG(self, to: url, compression: compression)
    }
}
