import Tensors

/// What the loop and the loss need from the deblurring network F (Models.UNet conforms in
/// ModelBindings.swift). Plain NCHW Float host buffers; backward accumulates parameter gradients.
public protocol DeblurNetwork: Trainable {
    /// out = F(input). With `training`, dropout draws fresh masks from the network's own seeded
    /// generators (one draw per dropped element, in a fixed order).
    func deblur(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool)
    /// Brings the dropout generators to where they stand after `forwards` training forwards at (n, h, w):
    /// a resumed run then draws the masks the uninterrupted run drew.
    func fastForwardDropout(forwards: Int, n: Int, h: Int, w: Int)
    /// Accumulates dL/dparameters from dL/dout of the last training forward.
    func backpropagate(gradOutput: UnsafePointer<Float>)
}

/// What the loss needs from the reblurring module R (Models.ReblurModule conforms in ModelBindings.swift).
public protocol ReblurNetwork: Trainable {
    /// reblurred = R(deblurred, blurry).
    func reblur(deblurred: UnsafePointer<Float>, blurry: UnsafePointer<Float>, into reblurred: UnsafeMutablePointer<Float>,
                n: Int, h: Int, w: Int)
    /// The KPN's raw kernel seeds of the last `reblur` (n x 35 x h x w): the blur-map prior's target.
    var rawSeeds: UnsafePointer<Float> { get }
    /// Accumulates dL/dparameters and adds dL/ddeblurred into `gradDeblurred` (+=); `gradRawSeeds`
    /// is a further dL/d(rawSeeds) (the prior's pseudo-supervision).
    func backpropagate(gradReblurred: UnsafePointer<Float>, gradDeblurred: UnsafeMutablePointer<Float>, gradRawSeeds: UnsafePointer<Float>?)
}
