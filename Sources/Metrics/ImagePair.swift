import Imaging

/// What a metric value was measured against. Every number a user sees says this (docs/design.md,
/// "Conventions"): the target's name (e.g. "GT" or "deformed GT (DIS)"), the bit depths the two
/// files held, the border cropped from each side and the data range (always 1: images are in [0,1]).
public struct MeasurementBasis: Sendable, Equatable, Codable {
    public var targetName: String
    public var targetBitDepth: Int
    public var outputBitDepth: Int
    public var border: Int
    public var dataRange: Double

    public init(targetName: String, targetBitDepth: Int, outputBitDepth: Int, border: Int, dataRange: Double = 1) {
        self.targetName = targetName
        self.targetBitDepth = targetBitDepth
        self.outputBitDepth = outputBitDepth
        self.border = border
        self.dataRange = dataRange
    }
}

public enum MetricsError: Error, Equatable, CustomStringConvertible {
    case sizeMismatch(output: String, target: String)
    case borderTooLarge(border: Int, width: Int, height: Int)
    case imageTooSmall(width: Int, height: Int, window: Int)

    public var description: String {
        switch self {
        case let .sizeMismatch(output, target):
            return "output is \(output) but target is \(target) (channels x height x width); they must match"
        case let .borderTooLarge(border, width, height):
            return "border \(border) leaves nothing of a \(width)x\(height) image"
        case let .imageTooSmall(width, height, window):
            return "a \(width)x\(height) image (after the border crop) is smaller than the \(window)x\(window) SSIM window"
        }
    }
}

/// An output and the target it is scored against, validated once: same shape, and a border crop
/// (BasicSR's `crop_border`) that leaves pixels. Metrics read the cropped region in place.
public struct ImagePair: Sendable {
    public let output: PlanarImage
    public let target: PlanarImage
    public let basis: MeasurementBasis

    public init(output: PlanarImage, target: PlanarImage, targetName: String = "GT", border: Int = 0) throws {
        guard output.channels == target.channels, output.height == target.height, output.width == target.width else {
            throw MetricsError.sizeMismatch(output: "\(output.channels)x\(output.height)x\(output.width)",
                                            target: "\(target.channels)x\(target.height)x\(target.width)")
        }
        guard border >= 0, 2 * border < output.width, 2 * border < output.height else {
            throw MetricsError.borderTooLarge(border: border, width: output.width, height: output.height)
        }
        self.output = output
        self.target = target
        self.basis = MeasurementBasis(targetName: targetName, targetBitDepth: target.bitDepth,
                                      outputBitDepth: output.bitDepth, border: border)
    }

    public var channels: Int { output.channels }
    /// Size of the region the metrics see (after the border crop).
    public var croppedWidth: Int { output.width - 2 * basis.border }
    public var croppedHeight: Int { output.height - 2 * basis.border }
}

extension PlanarImage {
    /// The three channels the reference metric code scores: RGB kept, alpha dropped, grey repeated
    /// (as `metrics_skimage.py` loads files).
    public func rgbForMetrics() -> PlanarImage {
        switch channels {
        case 3: return self
        case 1: return PlanarImage(width: width, height: height, channels: 3, bitDepth: bitDepth,
                                   pixels: pixels + pixels + pixels)
        default:
            let planes = min(channels, 3)
            return PlanarImage(width: width, height: height, channels: planes, bitDepth: bitDepth,
                               pixels: Array(pixels[0..<(planes * planeSize)]))
        }
    }
}
