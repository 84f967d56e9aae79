import Models
import Tensors

/// What the loss needs from the reblurring module R (Models.ReblurModule conforms below).
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

extension ReblurModule: ReblurNetwork {
    public func reblur(deblurred: UnsafePointer<Float>, blurry: UnsafePointer<Float>, into reblurred: UnsafeMutablePointer<Float>,
                       n: Int, h: Int, w: Int) {
        forward(deblurred: deblurred, blurry: blurry, reblurred: reblurred, seeds: nil, n: n, h: h, w: w)
    }

    public func backpropagate(gradReblurred: UnsafePointer<Float>, gradDeblurred: UnsafeMutablePointer<Float>, gradRawSeeds: UnsafePointer<Float>?) {
        backward(gradReblurred: gradReblurred, gradDeblurred: gradDeblurred, gradRawSeeds: gradRawSeeds)
    }
}
