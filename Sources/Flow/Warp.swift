import Checks
import Foundation
import Imaging
import Tensors

/// The warp (Tensors' `Warp`: backward warp by a flow and its adjoint) on `PlanarImage` and
/// `FlowField`: same convention and border handling; bilinear unless asked otherwise.
extension Warp {
    /// `output` = `image` (B) sampled at p + flow(p), the edge repeated outwards; resized to match if needed.
    public static func backward(image: PlanarImage, flow: FlowField, interpolation: WarpInterpolation = .bilinear,
                                output: inout PlanarImage) {
        require(image.width == flow.width && image.height == flow.height, "image and flow sizes differ")
        if output.width != image.width || output.height != image.height || output.channels != image.channels {
            output = PlanarImage(width: image.width, height: image.height, channels: image.channels, bitDepth: image.bitDepth)
        }
        output.bitDepth = image.bitDepth
        image.pixels.withUnsafeBufferPointer { src in
        flow.u.withUnsafeBufferPointer { u in
        flow.v.withUnsafeBufferPointer { v in
        output.pixels.withUnsafeMutableBufferPointer { dst in
            warp(src.baseAddress!, channels: image.channels, height: image.height, width: image.width,
                 flowU: u.baseAddress!, flowV: v.baseAddress!, interpolation: interpolation, into: dst.baseAddress!)
        }}}}
    }

    /// `image` (B) brought into A's frame: sampled at p + flow(p), the edge repeated outwards.
    public static func backward(image: PlanarImage, flow: FlowField, interpolation: WarpInterpolation = .bilinear) -> PlanarImage {
        var output = PlanarImage(width: image.width, height: image.height, channels: image.channels, bitDepth: image.bitDepth)
        backward(image: image, flow: flow, interpolation: interpolation, output: &output)
        return output
    }

    /// gradImage += d(warp)/d(image)^T gradOutput (same convention and border handling as `backward`).
    public static func backwardGradient(gradOutput: PlanarImage, flow: FlowField, interpolation: WarpInterpolation = .bilinear,
                                        gradImage: inout PlanarImage) {
        require(gradOutput.width == flow.width && gradOutput.height == flow.height, "gradient and flow sizes differ")
        require(gradImage.width == gradOutput.width && gradImage.height == gradOutput.height
                     && gradImage.channels == gradOutput.channels, "gradImage must have gradOutput's shape")
        gradOutput.pixels.withUnsafeBufferPointer { g in
        flow.u.withUnsafeBufferPointer { u in
        flow.v.withUnsafeBufferPointer { v in
        gradImage.pixels.withUnsafeMutableBufferPointer { s in
            warpBackward(gradOutput: g.baseAddress!, channels: gradOutput.channels, height: gradOutput.height,
                         width: gradOutput.width, flowU: u.baseAddress!, flowV: v.baseAddress!, interpolation: interpolation,
                         gradSource: s.baseAddress!)
        }}}}
    }
}
