// The micro-benchmark behind `--precision auto`: the same 3x3 convolutions (with the fused ReLU)
// that UNet inference runs, through the project's own Conv2D, once in f32 on the blocked layout
// (where the f32 path takes Winograd) and once in bf16 on channels-last (the bf16 path's layout).
// Two shapes of equal work, a wide image with few channels and a small image with many, stand for
// the top and the bottom of a UNet. Each is timed as the best of a few alternating runs after one
// warm-up run, so a brief stall on a shared machine favours neither side.
import Foundation

public enum PrecisionProbe {
    /// (channels, side): 64 channels at 64x64 and 128 at 32x32, about 150 M multiply-adds each.
    static let shapes: [(channels: Int, side: Int)] = [(64, 64), (128, 32)]
    static let rounds = 3

    /// Seconds of one pass over every shape, best of `rounds`, per precision. Only called where
    /// oneDNN has bf16 convolutions (`NumericPlatform.bf16 != .unavailable`).
    public static func measure() -> PrecisionTimings {
        var f32 = 0.0, bf16 = 0.0
        for shape in shapes {
            let probe = Probe(channels: shape.channels, side: shape.side)
            var best = (f32: Double.infinity, bf16: Double.infinity)
            probe.run(.f32, reuseWeights: false)
            probe.run(.bf16, reuseWeights: false)
            for _ in 0..<rounds {
                best.f32 = min(best.f32, probe.run(.f32, reuseWeights: true))
                best.bf16 = min(best.bf16, probe.run(.bf16, reuseWeights: true))
            }
            f32 += best.f32; bf16 += best.bf16
        }
        return PrecisionTimings(f32Seconds: f32, bf16Seconds: bf16)
    }

    /// One convolution layer and its input and output in both precisions.
    private final class Probe {
        let parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>
        let f32Layer: Conv2D, bf16Layer: Conv2D
        let f32Tensors: (src: Tensor, dst: Tensor), bf16Tensors: (src: Tensor, dst: Tensor)

        init(channels: Int, side: Int) {
            let shape = ConvShape.conv3x3(channels, channels)
            parameters = .allocate(capacity: shape.parameterCount)
            gradients = .allocate(capacity: shape.parameterCount)
            for i in 0..<shape.parameterCount { parameters[i] = Float(i % 7 - 3) * 0.01 }
            gradients.initialize(repeating: 0, count: shape.parameterCount)
            f32Layer = Conv2D(shape, fusedReLU: true, weights: parameters, gradients: gradients)
            bf16Layer = Conv2D(shape, fusedReLU: true, weights: parameters, gradients: gradients)
            func pair(_ layout: Layout, _ type: ElementType) -> (Tensor, Tensor) {
                (Tensor(n: 1, c: channels, h: side, w: side, layout: layout, elementType: type),
                 Tensor(n: 1, c: channels, h: side, w: side, layout: layout, elementType: type))
            }
            f32Tensors = pair(.blocked, .f32)
            bf16Tensors = pair(.channelsLast, .bf16)
        }

        @discardableResult
        func run(_ type: ElementType, reuseWeights: Bool) -> Double {
            let start = ProfileClock.now()
            if type == .f32 {
                f32Layer.forward(src: f32Tensors.src, dst: f32Tensors.dst, reuseWeights: reuseWeights)
            } else {
                bf16Layer.forward(src: bf16Tensors.src, dst: bf16Tensors.dst, reuseWeights: reuseWeights)
            }
            return ProfileClock.now() - start
        }

        deinit {
            parameters.deallocate(); gradients.deallocate()
        }
    }
}
