// On whatever CPU runs the suite, the networks' hot paths run vectorised oneDNN kernels: no `ref:`
// implementation in any convolution, pooling, resampling, eltwise or reorder of a UNet training step
// or of the reblurring module. (A fixed nChw16c on an AVX2 CPU once sent every convolution to `ref:any`.)
// Widths are whole 16-channel blocks, as every shipped config's: a width of 8 inside a 16-block is a
// reference kernel on AVX-512 (the run report then warns).
import Models
import Tensors
import Testing

@Suite("No slow path")
struct SlowPathTests {
    @Test("A UNet step (CPU widths) and the reblurring module, forward and backward, execute no ref: primitive",
          arguments: [[32, 64, 128, 256], [16, 32, 48]])
    func networksRunNoReferenceKernels(widths: [Int]) throws {
        let unet = try UNet(config: UNetConfig(widths: widths, dropout: 0.4), seed: 3)
        let reblur = try ReblurModule(width: 32, seed: 4)
        let (n, h, w) = (1, 64, 64)
        let blurry = randomImage(n * 3 * h * w, seed: 5)
        var out = [Float](repeating: 0, count: blurry.count), re = out, grad = out
        let executed = Engine.shared.executedImplementations {
            unet.forward(input: blurry, output: &out, n: n, h: h, w: w, training: true)
            reblur.forward(deblurred: out, blurry: blurry, reblurred: &re, seeds: nil, n: n, h: h, w: w)
            reblur.backward(gradReblurred: blurry, gradDeblurred: &grad)
            unet.backward(gradOutput: grad)
        }
        let slow = executed.filter { $0.contains(": ref") }
        #expect(executed.count > 10, "\(executed)")
        #expect(slow.isEmpty, "reference kernels on \(Engine.shared.platform): \(slow.sorted())")
        #expect((unet.implementations.union(reblur.implementations)).allSatisfy { !$0.hasPrefix("ref") })
    }
}
