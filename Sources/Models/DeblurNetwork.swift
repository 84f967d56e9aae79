import Tensors

/// A deblurring network F, as training and whole-image inference (jdrl-deblur, jdrl-eval) use it: plain
/// NCHW Float buffers in [0, 1], sides a multiple of `sizeMultiple`; backward accumulates parameter
/// gradients. `NetworkSpec.make` builds one.
public protocol DeblurNetwork: Trainable {
    var sizeMultiple: Int { get }
    /// Whether `infer` takes `.bf16` (otherwise only f32).
    var supportsBF16: Bool { get }
    /// For logs: the architecture in a few words.
    var summary: String { get }
    /// out = F(input). With `training`, dropout draws fresh masks from the network's own seeded
    /// generators (one draw per dropped element, in a fixed order).
    func deblur(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool)
    /// Brings the dropout generators to where they stand after `forwards` training forwards at (n, h, w):
    /// a resumed run then draws the masks the uninterrupted run drew.
    func fastForwardDropout(forwards: Int, n: Int, h: Int, w: Int)
    /// Accumulates dL/dparameters from dL/dout of the last training forward.
    func backpropagate(gradOutput: UnsafePointer<Float>)
    /// Inference on tiles. `reuseWeights`: the parameters did not change since the previous call (tiles of one image).
    func infer(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int,
               precision: ElementType, reuseWeights: Bool)
}

extension UNet: DeblurNetwork {
    public var sizeMultiple: Int { config.sizeMultiple }
    public var summary: String { config.summary }

    public func deblur(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool) {
        forward(input: input, output: output, n: n, h: h, w: w, training: training)
    }

    public func backpropagate(gradOutput: UnsafePointer<Float>) {
        backward(gradOutput: gradOutput)
    }

    public func infer(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int,
                      precision: ElementType, reuseWeights: Bool) {
        forward(input: input, output: output, n: n, h: h, w: w, training: false, precision: precision, reuseWeights: reuseWeights)
    }
}

extension NAFNet: DeblurNetwork {
    public var sizeMultiple: Int { config.sizeMultiple }
    public var supportsBF16: Bool { false }
    public var summary: String { config.summary }

    public func deblur(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool) {
        forward(input: input, output: output, n: n, h: h, w: w, training: training)
    }

    public func backpropagate(gradOutput: UnsafePointer<Float>) {
        backward(gradOutput: gradOutput)
    }

    public func infer(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int,
                      precision: ElementType, reuseWeights: Bool) {
        precondition(precision == .f32, "NAFNet runs in f32 only")
        forward(input: input, output: output, n: n, h: h, w: w, training: false)
    }
}

extension PriorGuidedNetwork: DeblurNetwork {
    public var sizeMultiple: Int { backbone.sizeMultiple }
    public var supportsBF16: Bool { false }
    public var summary: String { backbone.summary + ", blur-map prior" }

    public func deblur(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool) {
        forward(blurry: input, output: output, n: n, h: h, w: w, training: training)
    }

    public func backpropagate(gradOutput: UnsafePointer<Float>) {
        backward(gradOutput: gradOutput)
    }

    public func infer(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int,
                      precision: ElementType, reuseWeights: Bool) {
        precondition(precision == .f32, "the prior network runs in f32 only")
        let saved = ramp
        ramp = 1
        forward(blurry: input, output: output, n: n, h: h, w: w, training: false)
        ramp = saved
    }
}
