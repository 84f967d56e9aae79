// Finite-difference gradient checking, usable by any module's tests.
//
// Central differences (L(x+h) - L(x-h)) / 2h on a sample of coordinates, compared with the analytic
// gradient. The loss is evaluated in Double; float32 layers limit the attainable agreement to
// roughly 1e-3 relative for well-scaled problems, which is what the tolerances in tests reflect.
import Checks

public struct GradientCheckReport: Sendable, CustomStringConvertible {
    public var checked: Int
    /// max over probes of |analytic - numeric| / max(|analytic|, |numeric|, floor)
    public var maxRelativeError: Double
    public var maxAbsoluteError: Double
    public var worstIndex: Int
    public var worstAnalytic: Double
    public var worstNumeric: Double
    public var description: String {
        "checked \(checked) coordinates: max relative error \(maxRelativeError) at \(worstIndex) (analytic \(worstAnalytic), numeric \(worstNumeric)), max absolute \(maxAbsoluteError)"
    }
}

public enum GradientCheck {
    /// Perturbs `values[i]` for `probes` evenly spread indices (all when count <= probes) and compares
    /// the central difference of `loss` with `analytic[i]`. `values` is restored afterwards.
    /// `floor` keeps tiny gradients from producing huge relative errors.
    public static func check(values: UnsafeMutablePointer<Float>, analytic: UnsafePointer<Float>, count: Int,
                             probes: Int = 24, step: Float = 1e-2, floor: Double = 1e-2,
                             loss: () -> Double) -> GradientCheckReport {
        var report = GradientCheckReport(checked: 0, maxRelativeError: 0, maxAbsoluteError: 0,
                                         worstIndex: -1, worstAnalytic: 0, worstNumeric: 0)
        let indices: [Int] = count <= probes ? Array(0..<count)
            : (0..<probes).map { (($0 * 2 + 1) * count / (2 * probes) + $0 * 7919) % count }
        for i in indices {
            let saved = values[i]
            values[i] = saved + step
            let plus = loss()
            values[i] = saved - step
            let minus = loss()
            values[i] = saved
            let numeric = (plus - minus) / (2 * Double(step))
            let a = Double(analytic[i])
            let absolute = abs(a - numeric)
            let relative = absolute / max(abs(a), abs(numeric), floor)
            report.checked += 1
            report.maxAbsoluteError = max(report.maxAbsoluteError, absolute)
            if relative > report.maxRelativeError || report.worstIndex < 0 {
                report.maxRelativeError = max(relative, report.maxRelativeError)
                report.worstIndex = i; report.worstAnalytic = a; report.worstNumeric = numeric
            }
        }
        return report
    }

    /// Convenience over arrays: `values` is mutated during the check and restored.
    public static func check(values: inout [Float], analytic: [Float], probes: Int = 24, step: Float = 1e-2,
                             floor: Double = 1e-2, loss: ([Float]) -> Double) -> GradientCheckReport {
        require(values.count == analytic.count)
        var copy = values
        let count = copy.count
        return copy.withUnsafeMutableBufferPointer { buffer in
            analytic.withUnsafeBufferPointer { a in
                check(values: buffer.baseAddress!, analytic: a.baseAddress!, count: count, probes: probes,
                      step: step, floor: floor) { loss(Array(buffer)) }
            }
        }
    }

    /// sum(x * weights) in Double: the usual probe loss, whose gradient w.r.t. x is `weights`.
    public static func weightedSum(_ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(x[i]) * Double(weights[i]) }
        return s
    }
}
