import Flow
import Imaging

/// Does a model move the image? Trained on misaligned pairs with a pixel loss, a network learns to warp
/// its input towards the GT shot (the paper's motivation); JDRL's output should stay where its input is.
public enum InputShift {
    /// Mean |W(p) - p| in pixels over the image, W the global (similarity/affine) fit from `a` to `b`:
    /// zoom and rotation count where they move pixels, not only the centre's shift.
    public static func meanDisplacement(from a: PlanarImage, to b: PlanarImage,
                                        parameters: GlobalAlignmentParameters = GlobalAlignmentParameters()) throws -> Double {
        let fit = try FlowEstimator.alignGlobally(from: a.rgbForMetrics(), to: b.rgbForMetrics(), parameters: parameters)
        let flow = fit.motion.flow(width: a.width, height: a.height)
        var sum = 0.0
        for i in flow.u.indices { sum += Double((flow.u[i] * flow.u[i] + flow.v[i] * flow.v[i]).squareRoot()) }
        return sum / Double(max(flow.u.count, 1))
    }
}
