import Tensors

/// What whole-image inference (jdrl-deblur, jdrl-eval) needs from a deblurring network: plain NCHW tiles
/// in [0, 1] in and out, sides a multiple of `sizeMultiple`.
public protocol DeblurInference: Trainable {
    var sizeMultiple: Int { get }
    /// Whether `infer` takes `.bf16` (otherwise only f32).
    var supportsBF16: Bool { get }
    /// For logs: the architecture in a few words.
    var summary: String { get }
    /// `reuseWeights`: the parameters did not change since the previous call (tiles of one image).
    func infer(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int,
               precision: ElementType, reuseWeights: Bool)
}

extension UNet: DeblurInference {
    public var sizeMultiple: Int { config.sizeMultiple }
    public var summary: String { config.summary }
    public func infer(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int,
                      precision: ElementType, reuseWeights: Bool) {
        forward(input: input, output: output, n: n, h: h, w: w, training: false, precision: precision, reuseWeights: reuseWeights)
    }
}

extension NAFNet: DeblurInference {
    public var sizeMultiple: Int { config.sizeMultiple }
    public var supportsBF16: Bool { false }
    public var summary: String { config.summary }
    public func infer(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int,
                      precision: ElementType, reuseWeights: Bool) {
        precondition(precision == .f32, "NAFNet runs in f32 only")
        forward(input: input, output: output, n: n, h: h, w: w, training: false)
    }
}
