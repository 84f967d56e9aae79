import Foundation
import Imaging
import Models
import StageSupport
import Tensors

/// Deblurs whole images of any size with a checkpoint's network (UNet or NAFNet), by overlapping tiles blended without
/// seams (`TiledInference`): memory is the image, one tile's activations and the output, whatever the
/// image size. The output keeps the input's bit depth and is rounded to it, as writing it would.
public final class FullImageDeblurrer {
    public let network: DeblurNetwork
    public let tiling: TiledInference
    /// f32 (the reference) or bf16 (AMX convolutions; about 1e-3 mean difference on [0, 1] images).
    public let precision: ElementType

    /// `tile` is rounded up to the network's size multiple (the UNet's 2^(depth-1)); `overlap` is clamped to tile/2.
    /// `bf16OrF32`: bf16 was chosen for the CPU, not asked for (`--precision auto`), so a network
    /// that cannot run it runs in f32 instead of being refused.
    public init(checkpoint: DeblurCheckpoint, tile: Int = 512, overlap: Int = 128, precision: ElementType = .f32,
                bf16OrF32: Bool = false) throws {
        network = try checkpoint.makeNetwork()
        let precision = precision == .bf16 && bf16OrF32 && !network.supportsBF16 ? .f32 : precision
        if precision == .bf16 && !network.supportsBF16 {
            throw CheckpointError.unsupported(path: checkpoint.weightsURL.path,
                                              reason: "bf16 inference needs a UNet with widths in multiples of 16; this is a \(network.summary)")
        }
        self.precision = precision
        let multiple = network.sizeMultiple
        let roundedTile = max(multiple, (tile + multiple - 1) / multiple * multiple)
        let clampedOverlap = overlap < 2 ? 0 : min(overlap, roundedTile / 2)
        tiling = TiledInference(tile: roundedTile, overlap: clampedOverlap, multiple: multiple)
    }

    /// The deblurred image (RGB, same size and bit depth as `image`, values on the bit depth's grid).
    public func deblur(_ image: PlanarImage) -> PlanarImage {
        let rgb = image.channels == 3 ? image : image.threeChannels()
        var output = PlanarImage(width: rgb.width, height: rgb.height, channels: 3, bitDepth: rgb.bitDepth)
        var firstTile = true
        rgb.pixels.withUnsafeBufferPointer { input in
            output.pixels.withUnsafeMutableBufferPointer { out in
                tiling.run(input: input.baseAddress!, channels: 3, height: rgb.height, width: rgb.width, output: out.baseAddress!) { tileIn, tileOut, h, w in
                    // The weights are fixed during one image: their oneDNN-layout copies are made once.
                    network.infer(input: tileIn, output: tileOut, n: 1, h: h, w: w, precision: precision, reuseWeights: !firstTile)
                    firstTile = false
                }
            }
        }
        output.quantizeToBitDepth()
        return output
    }
}


extension PlanarImage {
    /// Values rounded to the nearest level of `bitDepth` and clamped to [0, 1] (what a file holds).
    public mutating func quantizeToBitDepth() {
        let levels: Float = bitDepth == 16 ? 65535 : 255
        pixels.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = (min(max(values[i], 0), 1) * levels).rounded() / levels }
        }
    }

    /// Grey repeated to RGB, extra bands dropped (the UNet reads three channels).
    func threeChannels() -> PlanarImage {
        if channels >= 3 {
            return PlanarImage(width: width, height: height, channels: 3, bitDepth: bitDepth, pixels: Array(pixels[0..<(3 * planeSize)]))
        }
        let grey = Array(pixels[0..<planeSize])
        return PlanarImage(width: width, height: height, channels: 3, bitDepth: bitDepth, pixels: grey + grey + grey)
    }

    /// A rectangle of the image (clipped to it).
    public func crop(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> PlanarImage {
        let w = min(cropWidth, width - x), h = min(cropHeight, height - y)
        var out = [Float](); out.reserveCapacity(channels * w * h)
        for c in 0..<channels {
            for row in y..<(y + h) {
                let start = (c * height + row) * width + x
                out.append(contentsOf: pixels[start..<(start + w)])
            }
        }
        return PlanarImage(width: w, height: h, channels: channels, bitDepth: bitDepth, pixels: out)
    }
}
