// bf16 inference: close to the f32 reference, really in bf16, and reusing reordered weights only
// when asked.
import Foundation
import Models
import Tensors
import Testing

/// bf16 convolutions exist from AVX-512 on; below it the refusal is tested (EvaluationTests, StageTests).
let bf16Available = Engine.shared.platform.bf16 != .unavailable

@Suite("bf16 inference", .enabled(if: bf16Available, "oneDNN has no bf16 convolution on this CPU"))
struct PrecisionTests {
    let unet: UNet
    let input: [Float]
    let n = 2, h = 32, w = 48

    init() throws {
        unet = try UNet(config: UNetConfig(widths: [16, 32, 48], dropout: 0.4), seed: 21)
        input = randomImage(2 * 3 * 32 * 48, seed: 22)
    }

    func run(_ precision: ElementType, reuseWeights: Bool = false) -> [Float] {
        var out = [Float](repeating: 0, count: input.count)
        unet.forward(input: input, output: &out, n: n, h: h, w: w, training: false, precision: precision, reuseWeights: reuseWeights)
        return out
    }

    @Test("bf16 output is within bf16 rounding of f32, and not equal to it")
    func bf16CloseToF32() {
        let reference = run(.f32), bf16 = run(.bf16)
        let differences = zip(reference, bf16).map { abs($0 - $1) }
        let mean = differences.reduce(0, +) / Float(differences.count)
        // bf16 keeps 8 significant bits (relative rounding 2^-9 ~ 2e-3 per value).
        #expect(differences.max()! < 0.05)
        #expect(mean < 5e-3)
        #expect(mean > 0, "bf16 gave exactly the f32 output: the bf16 path did not run")
        #expect(unet.forwardImplementations.allSatisfy { !$0.contains("ref:") }, "\(unet.forwardImplementations)")
        #expect(run(.f32) == reference, "switching back to f32 replans to the f32 primitives")
    }

    @Test("Reusing reordered weights gives the same output until the weights change")
    func reuseWeights() {
        for precision in [ElementType.f32, .bf16] {
            let first = run(precision)
            #expect(run(precision, reuseWeights: true) == first)
            unet.parameters.values[0] += 0.5        // enc.0.0.weight[0,0,0,0]
            #expect(run(precision, reuseWeights: true) == first, "reuse keeps the old weights, as documented")
            #expect(run(precision) != first)
            unet.parameters.values[0] -= 0.5
        }
    }

    @Test("bf16 refuses widths that are not whole 16-channel blocks")
    func bf16Support() throws {
        #expect(unet.supportsBF16)
        #expect(try !UNet(config: UNetConfig(widths: [8, 16]), seed: 1).supportsBF16)
    }
}
