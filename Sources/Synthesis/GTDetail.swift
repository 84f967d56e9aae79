import Foundation
import Imaging

/// How much of the photo's fine detail a synthesised GT keeps: the GT mapped back onto the blurry frame
/// by the true flow (with the resampler that rendered it), its Laplacian energy as a fraction of the
/// aligned sharp image's. Both resampling steps soften; a good resampler keeps the fraction near 1.
public enum GTDetail {
    /// `sharp`: the photo in the blurry frame before the blurry shot's illumination change (the GT has
    /// the photo's illumination, so this is the reference it is compared with). `zoom`: the transform's,
    /// so that mapping back uses the footprint the GT's pixels have in the blurry frame. The region
    /// leaves out a border as wide as the largest displacement plus the kernel's and the Laplacian's
    /// reach, where the GT has no content of the photo to give back.
    public static func retained(gt: PlanarImage, sharp: PlanarImage, blurryToGT: FlowField, zoom: Double,
                                kernel: ResamplingKernel, threads: Int) -> Double {
        let back = Resample.backwardWarp(gt, by: blurryToGT, kernel: kernel, footprint: zoom, threads: threads)
        return DetailEnergy.retained(back, of: sharp, border: border(blurryToGT, kernel: kernel))
    }

    /// The displacement's largest magnitude, rounded up, plus the kernel's radius and one pixel for the Laplacian.
    static func border(_ flow: FlowField, kernel: ResamplingKernel) -> Int {
        var largest: Float = 0
        for i in flow.u.indices where flow.u[i].isFinite && flow.v[i].isFinite {
            largest = max(largest, (flow.u[i] * flow.u[i] + flow.v[i] * flow.v[i]).squareRoot())
        }
        return Int(Double(largest).rounded(.up)) + Int(kernel.radius.rounded(.up)) + 1
    }
}
