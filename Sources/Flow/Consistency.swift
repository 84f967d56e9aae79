import Checks
import Foundation
import Imaging
import Tensors

/// Forward-backward consistency of a flow pair.
/// Convention: `forward` satisfies A(p) ~ B(p + f(p)); `backward` satisfies B(q) ~ A(q + b(q)).
/// For a consistent pair, f(p) + b(p + f(p)) = 0. b is sampled bilinearly with border clamping.
public enum Consistency {
    /// The round-trip vector f(p) + b(p + f(p)) at every pixel of A.
    public static func roundTrip(forward: FlowField, backward: FlowField) -> FlowField {
        require(forward.width == backward.width && forward.height == backward.height, "flow sizes differ")
        let w = forward.width, h = forward.height
        var out = FlowField(width: w, height: h)
        backward.u.withUnsafeBufferPointer { bu in
        backward.v.withUnsafeBufferPointer { bv in
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    let tap = BilinearTap(x: x, y: y, u: forward.u[i], v: forward.v[i], width: w, height: h)
                    out.u[i] = forward.u[i] + tap.sample(bu.baseAddress!, width: w)
                    out.v[i] = forward.v[i] + tap.sample(bv.baseAddress!, width: w)
                }
            }
        }}
        return out
    }

    /// 1 where |f + b(p+f)|^2 <= alpha (|f|^2 + |b(p+f)|^2) + beta (Sundaram, Brox and Keutzer 2010,
    /// the usual alpha = 0.01, beta = 0.5), else 0. A pixel whose p + f(p) leaves B (the content it
    /// shows is not in B) is 0 too. Values in one plane of width * height.
    public static func mask(forward: FlowField, backward: FlowField, alpha: Float = 0.01, beta: Float = 0.5) -> [Float] {
        let w = forward.width, h = forward.height
        let trip = roundTrip(forward: forward, backward: backward)
        var mask = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let fu = forward.u[i], fv = forward.v[i]
                let sx = Float(x) + fu, sy = Float(y) + fv
                guard fu.isFinite, fv.isFinite, sx >= 0, sy >= 0, sx <= Float(w - 1), sy <= Float(h - 1) else { continue }
                let bu = trip.u[i] - fu, bv = trip.v[i] - fv
                let error = trip.u[i] * trip.u[i] + trip.v[i] * trip.v[i]
                let bound = alpha * (fu * fu + fv * fv + bu * bu + bv * bv) + beta
                mask[i] = error <= bound ? 1 : 0
            }
        }
        return mask
    }
}
