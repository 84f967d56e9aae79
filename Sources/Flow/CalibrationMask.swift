import Foundation
import Imaging

/// Which calibration mask JDRL's adaptive loss uses to drop unreliable flow: the project's one name for
/// it. The raw value is the command-line spelling (jdrl-flow --mask-mode) and part of jdrl-flow's
/// parameter hash; `configName` is the training config's spelling (train.mask_mode).
public enum MaskMode: String, CaseIterable, Sendable {
    /// Paper Eq. 4: 1 where (1 - lambda) mean <= |flow| <= (1 + lambda) mean, mean over the image.
    case paperMagnitude
    /// The released code: the flow rendered with the Middlebury colour wheel (normalised by its
    /// largest length), turned 8-bit grey (ITU-R 601, OpenCV's RGB2GRAY rounding), then the same
    /// +-lambda band around the grey image's mean.
    case referenceColorWheel
    /// Forward-backward consistency (needs the flow of the other direction).
    case forwardBackward

    public var configName: String {
        switch self {
        case .paperMagnitude: return "magnitude"
        case .referenceColorWheel: return "colour_wheel"
        case .forwardBackward: return "forward_backward"
        }
    }
}

public struct MaskParameters: Codable, Sendable, Equatable, Hashable {
    public var lambda: Float = 0.35
    public var consistencyAlpha: Float = 0.01
    public var consistencyBeta: Float = 0.5
    public init() {}
}

public enum MaskError: Error, CustomStringConvertible, Equatable {
    case needsBackwardFlow
    public var description: String { "the forwardBackward mask needs the flow of the other direction" }
}

/// Calibration masks: one plane of 0/1 over A's pixels for a flow f with A(p) ~ B(p + f(p)).
public enum CalibrationMask {
    /// Dispatches on `mode`. `backward` (B -> A) is required only for `.forwardBackward`.
    public static func make(_ mode: MaskMode, forward: FlowField, backward: FlowField? = nil,
                            parameters: MaskParameters = MaskParameters()) throws -> PlanarImage {
        let values: [Float]
        switch mode {
        case .paperMagnitude: values = paperMagnitude(forward, lambda: parameters.lambda)
        case .referenceColorWheel: values = referenceColorWheel(forward, lambda: parameters.lambda)
        case .forwardBackward:
            guard let backward else { throw MaskError.needsBackwardFlow }
            values = Consistency.mask(forward: forward, backward: backward,
                                      alpha: parameters.consistencyAlpha, beta: parameters.consistencyBeta)
        }
        return PlanarImage(width: forward.width, height: forward.height, channels: 1, bitDepth: 8, pixels: values)
    }

    /// 1 where the value lies within (1 +- lambda) of the mean of all values.
    static func band(_ values: [Float], lambda: Float) -> [Float] {
        let mean = Float(values.reduce(0.0) { $0 + Double($1) } / Double(max(values.count, 1)))
        let low = (1 - lambda) * mean, high = (1 + lambda) * mean
        return values.map { $0 >= low && $0 <= high ? 1 : 0 }
    }

    public static func paperMagnitude(_ flow: FlowField, lambda: Float = 0.35) -> [Float] {
        let magnitudes = (0..<(flow.width * flow.height)).map { i -> Float in
            let m = (flow.u[i] * flow.u[i] + flow.v[i] * flow.v[i]).squareRoot()
            return m.isFinite ? m : .greatestFiniteMagnitude
        }
        return band(magnitudes, lambda: lambda)
    }

    /// The colour-wheel rendering in 8-bit grey: (4899 R + 9617 G + 1868 B + 8192) >> 14, the 14-bit
    /// fixed-point ITU-R 601 luma OpenCV's cvtColor uses for 8-bit RGB -> grey.
    public static func colorWheelGrey(_ flow: FlowField) -> [Float] {
        let rgb = ColorWheel.renderBytes(flow)
        var grey = [Float](repeating: 0, count: flow.width * flow.height)
        for i in grey.indices {
            let r: Int = 4899 * Int(rgb[3 * i])
            let g: Int = 9617 * Int(rgb[3 * i + 1])
            let b: Int = 1868 * Int(rgb[3 * i + 2])
            grey[i] = Float((r + g + b + 8192) >> 14)
        }
        return grey
    }

    public static func referenceColorWheel(_ flow: FlowField, lambda: Float = 0.35) -> [Float] {
        band(colorWheelGrey(flow), lambda: lambda)
    }
}
