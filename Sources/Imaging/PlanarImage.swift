/// An image as planar Float samples (channel-major: all of channel 0, then channel 1, ...),
/// row-major within a channel. Values are in [0, 1] unless a producer says otherwise.
/// This is the currency between Imaging (files), Flow, Metrics, Synthesis and Training;
/// `bitDepth` remembers what the file held so writers can keep it.
public struct PlanarImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    /// 8 or 16: the bit depth of the file this came from (or should be written as).
    public var bitDepth: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, bitDepth: Int = 8, pixels: [Float]) {
        precondition(pixels.count == width * height * channels, "pixel count does not match \(channels)x\(height)x\(width)")
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int, bitDepth: Int = 8, repeating value: Float = 0) {
        self.init(width: width, height: height, channels: channels, bitDepth: bitDepth,
                  pixels: [Float](repeating: value, count: width * height * channels))
    }

    public var planeSize: Int { width * height }

    public subscript(channel: Int, y: Int, x: Int) -> Float {
        get { pixels[(channel * height + y) * width + x] }
        set { pixels[(channel * height + y) * width + x] = newValue }
    }
}
