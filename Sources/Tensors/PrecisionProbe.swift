// The micro-benchmark behind `--precision auto`: the same 3x3 convolutions (with the fused ReLU)
// that UNet inference runs, through the project's own Conv2D, once in f32 on the blocked layout and
// once in bf16 on channels-last (the bf16 path's layout). The shapes are those of whole-image
// inference: jdrl-deblur's 512-pixel tiles keep every level of a 4- or 5-level UNet at 32x32 or
// more, where the f32 path takes Winograd (the case bf16 has to beat; below 32x32 f32 runs direct
// convolutions, which bf16 beats easily and which would flatter it). Two shapes of similar work, few
// channels on a wide image and many on a small one, stand for the top and the bottom of a UNet. They
// are timed after one warm-up run each, so a brief stall on a shared machine favours neither side: each round times f32 and bf16 back to back, and the verdict rests on
// the round least favourable to bf16, so bf16 has to win in every round (a stall of the f32 run in
// some rounds cannot make it win).
import Foundation

public enum PrecisionProbe {
    /// (channels, side): 64 channels at 96x96 and 256 at 32x32, 340 and 600 M multiply-adds.
    static let shapes: [(channels: Int, side: Int)] = [(64, 96), (256, 32)]
    public static let rounds = 5

    /// Seconds of one pass over every shape per precision, from the round in which bf16 did worst
    /// against f32 (of `rounds` rounds). Only called where oneDNN has bf16 convolutions
    /// (`NumericPlatform.bf16 != .unavailable`).
    public static func measure(rounds: Int = rounds) -> PrecisionTimings {
        let probes = shapes.map { Probe(channels: $0.channels, side: $0.side) }
        for probe in probes { probe.run(.f32, reuseWeights: false); probe.run(.bf16, reuseWeights: false) }
        var worst: PrecisionTimings?
        for _ in 0..<rounds {
            let f32 = probes.reduce(0) { $0 + $1.run(.f32, reuseWeights: true) }
            let bf16 = probes.reduce(0) { $0 + $1.run(.bf16, reuseWeights: true) }
            if worst == nil || f32 / bf16 < worst!.f32Seconds / worst!.bf16Seconds {
                worst = PrecisionTimings(f32Seconds: f32, bf16Seconds: bf16)
            }
        }
        return worst!
    }

    /// Each shape's best f32 and bf16 forward seconds (jdrl-bench precision-probe prints them for many shapes).
    public static func measure(shapes: [(channels: Int, side: Int)], rounds: Int = rounds) -> [PrecisionTimings] {
        shapes.map { shape in
            let probe = Probe(channels: shape.channels, side: shape.side)
            var best = (f32: Double.infinity, bf16: Double.infinity)
            probe.run(.f32, reuseWeights: false)
            probe.run(.bf16, reuseWeights: false)
            for _ in 0..<rounds {
                best.f32 = min(best.f32, probe.run(.f32, reuseWeights: true))
                best.bf16 = min(best.bf16, probe.run(.bf16, reuseWeights: true))
            }
            return PrecisionTimings(f32Seconds: best.f32, bf16Seconds: best.bf16)
        }
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
