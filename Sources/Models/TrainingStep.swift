// One JDRL training step over F (UNet) and R (ReblurModule) with preallocated buffers:
//   L = Charb(F(b), target) + alpha * Charb(R(F(b), b), b)       (eps 1e-3, alpha 0.5)
// i.e. the loss of the benchmark and of the composed-gradient test; the Training module builds its
// masked/warped terms on the same pieces (forward F, forward R, backward both, Adam).
// `computeGradients` and `applyUpdate` are separate so that an allreduce can sit between them.
// After the first step for an (n, h, w) the layers allocate nothing (the custom ops keep per-call scratch).
import Tensors

public final class TrainingStep {
    public let unet: UNet
    public let reblur: ReblurModule
    public var optimizer: Adam
    public var reblurWeight: Float
    public var epsilon: Float

    private var n = 0, h = 0, w = 0
    private var deblurred: [Float] = [], reblurred: [Float] = []
    private var gradDeblurred: [Float] = [], gradReblurred: [Float] = []

    public struct Losses: Sendable { public var deblur: Double; public var reblur: Double; public var total: Double }

    public init(unet: UNet, reblur: ReblurModule, optimizer: Adam, reblurWeight: Float = 0.5, epsilon: Float = 1e-3) {
        self.unet = unet; self.reblur = reblur; self.optimizer = optimizer
        self.reblurWeight = reblurWeight; self.epsilon = epsilon
    }

    private func plan(n: Int, h: Int, w: Int) {
        if n == self.n && h == self.h && w == self.w { return }
        self.n = n; self.h = h; self.w = w
        let count = n * 3 * h * w
        deblurred = [Float](repeating: 0, count: count); reblurred = deblurred
        gradDeblurred = deblurred; gradReblurred = deblurred
    }

    /// The last deblurred output (plain NCHW).
    public var lastDeblurred: [Float] { deblurred }

    /// Zeroes the gradients, runs forward and backward of both networks; returns the loss terms.
    public func computeGradients(blurry: UnsafePointer<Float>, target: UnsafePointer<Float>, n: Int, h: Int, w: Int) -> Losses {
        plan(n: n, h: h, w: w)
        unet.zeroGrad(); reblur.zeroGrad()
        let count = n * 3 * h * w
        let eps = epsilon, alpha = reblurWeight
        return deblurred.withUnsafeMutableBufferPointer { out in
            reblurred.withUnsafeMutableBufferPointer { re in
                gradDeblurred.withUnsafeMutableBufferPointer { gOut in
                    gradReblurred.withUnsafeMutableBufferPointer { gRe in
                        let o = out.baseAddress!, r = re.baseAddress!, go = gOut.baseAddress!, gr = gRe.baseAddress!
                        unet.forward(input: blurry, output: o, n: n, h: h, w: w, training: true)
                        reblur.forward(deblurred: o, blurry: blurry, reblurred: r, seeds: nil, n: n, h: h, w: w)
                        let l1 = Charbonnier.loss(o, target, mask: nil, count: count, eps: eps)
                        let l2 = Charbonnier.loss(r, blurry, mask: nil, count: count, eps: eps)
                        go.update(repeating: 0, count: count); gr.update(repeating: 0, count: count)
                        Charbonnier.backward(o, target, mask: nil, count: count, eps: eps, scale: 1, gradA: go, gradB: nil)
                        Charbonnier.backward(r, blurry, mask: nil, count: count, eps: eps, scale: alpha, gradA: gr, gradB: nil)
                        reblur.backward(gradReblurred: gr, gradDeblurred: go)
                        unet.backward(gradOutput: go)
                        return Losses(deblur: l1, reblur: l2, total: l1 + Double(alpha) * l2)
                    }
                }
            }
        }
    }

    /// One Adam step over both networks (one optimizer, as the JDRL code).
    public func applyUpdate() { optimizer.step([unet, reblur]) }

    public func run(blurry: UnsafePointer<Float>, target: UnsafePointer<Float>, n: Int, h: Int, w: Int) -> Losses {
        let losses = computeGradients(blurry: blurry, target: target, n: n, h: h, w: w)
        applyUpdate()
        return losses
    }
}
