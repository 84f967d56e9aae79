import Foundation
import Imaging
import Threading

/// Every setting of the flow estimator. Codable so a YAML config can carry it, and hashed
/// (`fingerprint`) into the manifest's params_hash: change a setting and the flows are recomputed.
public struct FlowParameters: Codable, Sendable, Equatable, Hashable {
    public var global = GlobalAlignmentParameters()
    public var dense = DenseFlowParameters()
    /// Off: the flow is the global map alone.
    public var denseEnabled = true
    public init() {}

    /// Canonical JSON of all settings (sorted keys): the input of the parameters hash.
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

public enum FlowError: Error, CustomStringConvertible, Equatable {
    case sizeMismatch(a: String, b: String)
    case tooSmall(width: Int, height: Int)

    public var description: String {
        switch self {
        case let .sizeMismatch(a, b): return "the two images differ in size (\(a) vs \(b)); flow needs equal sizes"
        case let .tooSmall(width, height): return "image of \(width)x\(height) is too small for flow (needs at least 16x16)"
        }
    }
}

/// A flow with what produced it.
public struct FlowEstimate: Sendable {
    /// A(p) matches B(p + flow(p)).
    public var flow: FlowField
    /// The global map A -> B the dense stage started from.
    public var motion: GlobalMotion
    /// ECC correlation of the global fit (1 = perfect up to gain and offset).
    public var correlation: Double
    /// Mean length (pixels) of what the dense stage added to the global map: the misalignment a
    /// similarity/affine model does not explain.
    public var residualMeanPixels: Double
}

/// The flow between a (typically blurry) image A and a (typically sharp) image B: a global
/// similarity/affine fit by ECC, then a dense residual. Robust to blur differences (pre-blur,
/// band-pass, robust weights) and illumination changes (ECC's gain/offset invariance, local mean removal).
/// Convention: A(p) matches B(p + flow(p)); backward-warping B by the flow brings it into A's frame.
public enum FlowEstimator {
    /// The flow that backward-warps `b` into `a`'s frame. Colour images are reduced to ITU-R 601 luma.
    public static func estimate(from a: PlanarImage, to b: PlanarImage, parameters: FlowParameters = FlowParameters(),
                                workers: Int = Workers.count) throws -> FlowEstimate {
        let (pyramidA, pyramidB) = try pyramids(a, b, parameters: parameters, workers: workers)
        let global = GlobalAligner.align(a: pyramidA, b: pyramidB, parameters: parameters.global, workers: workers)
        return dense(pyramidA, pyramidB, global: global, parameters: parameters, workers: workers)
    }

    /// Both directions: `forward` backward-warps `b` into `a`'s frame, `backward` warps `a` into `b`'s.
    /// One global fit (A -> B) serves both: the backward dense stage starts from its inverse.
    public static func estimateBothWays(_ a: PlanarImage, _ b: PlanarImage, parameters: FlowParameters = FlowParameters(),
                                        workers: Int = Workers.count) throws
        -> (forward: FlowEstimate, backward: FlowEstimate) {
        let (pyramidA, pyramidB) = try pyramids(a, b, parameters: parameters, workers: workers)
        let global = GlobalAligner.align(a: pyramidA, b: pyramidB, parameters: parameters.global, workers: workers)
        let forward = dense(pyramidA, pyramidB, global: global, parameters: parameters, workers: workers)
        let inverse = GlobalAlignment(motion: global.motion.inverse ?? .identity(width: a.width, height: a.height),
                                      correlation: global.correlation)
        let backward = dense(pyramidB, pyramidA, global: inverse, parameters: parameters, workers: workers)
        return (forward, backward)
    }

    /// The global fit alone (A -> B).
    public static func alignGlobally(from a: PlanarImage, to b: PlanarImage, parameters: GlobalAlignmentParameters = GlobalAlignmentParameters(),
                                     workers: Int = Workers.count) throws -> GlobalAlignment {
        var all = FlowParameters()
        all.global = parameters
        let (pyramidA, pyramidB) = try pyramids(a, b, parameters: all, workers: workers)
        return GlobalAligner.align(a: pyramidA, b: pyramidB, parameters: parameters, workers: workers)
    }

    static func pyramids(_ a: PlanarImage, _ b: PlanarImage, parameters: FlowParameters, workers: Int) throws -> (Pyramid, Pyramid) {
        guard a.width == b.width, a.height == b.height else {
            throw FlowError.sizeMismatch(a: "\(a.width)x\(a.height)", b: "\(b.width)x\(b.height)")
        }
        guard a.width >= 16, a.height >= 16 else { throw FlowError.tooSmall(width: a.width, height: a.height) }
        let side = max(4, min(parameters.global.coarsestSide, min(a.width, a.height)))
        return (Pyramid(Plane(luma: a, workers: workers), minimumSide: side, workers: workers),
                Pyramid(Plane(luma: b, workers: workers), minimumSide: side, workers: workers))
    }

    static func dense(_ pyramidA: Pyramid, _ pyramidB: Pyramid, global: GlobalAlignment,
                      parameters: FlowParameters, workers: Int) -> FlowEstimate {
        let base = pyramidA.levels[0]
        let w = base.width, h = base.height
        var flow = global.motion.flow(width: w, height: h)
        guard parameters.denseEnabled, parameters.dense.levels > 0 else {
            return FlowEstimate(flow: flow, motion: global.motion, correlation: global.correlation, residualMeanPixels: 0)
        }
        let count = min(pyramidA.levels.count, pyramidB.levels.count)
        let finest = min(max(parameters.dense.finestLevel, 0), count - 1)
        let coarsest = min(finest + parameters.dense.levels - 1, count - 1)
        var residual: (u: [Float], v: [Float]) = ([], [])
        for level in stride(from: coarsest, through: finest, by: -1) {
            let a = parameters.dense.bandPassed(pyramidA.levels[level], workers: workers)
            let b = parameters.dense.bandPassed(pyramidB.levels[level], workers: workers)
            if level == coarsest {
                residual = ([Float](repeating: 0, count: a.count), [Float](repeating: 0, count: a.count))
            } else {
                let coarse = pyramidA.levels[level + 1]
                residual = DenseRefiner.upsample(residual, from: (coarse.width, coarse.height), to: (a.width, a.height), workers: workers)
            }
            residual = DenseRefiner.refine(a: a, b: b, motion: global.motion.atLevel(level), initial: residual,
                                           parameters: parameters.dense, workers: workers)
        }
        for level in stride(from: finest - 1, through: 0, by: -1) {
            let coarse = pyramidA.levels[level + 1], fine = pyramidA.levels[level]
            residual = DenseRefiner.upsample(residual, from: (coarse.width, coarse.height), to: (fine.width, fine.height), workers: workers)
        }
        var lengthSum = 0.0
        for i in 0..<(w * h) {
            flow.u[i] += residual.u[i]; flow.v[i] += residual.v[i]
            lengthSum += Double((residual.u[i] * residual.u[i] + residual.v[i] * residual.v[i]).squareRoot())
        }
        return FlowEstimate(flow: flow, motion: global.motion, correlation: global.correlation,
                            residualMeanPixels: lengthSum / Double(w * h))
    }
}
