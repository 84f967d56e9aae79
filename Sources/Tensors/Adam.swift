// Adam with PyTorch's semantics (torch.optim.Adam, no weight decay, no amsgrad):
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
// A separate step from gradient computation, so that an allreduce of the gradients fits in between.
import Foundation
import WeightFiles

public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// Steps taken so far (PyTorch's `step`); saved in checkpoints.
    public var step: Int = 0

    public init(lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        learningRate = lr; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }

    /// One update of every model's parameters from its accumulated gradients (one optimizer over
    /// all of them, as the JDRL code does for F and R).
    public mutating func step(_ models: [Trainable]) { step(arenas: models.map(\.parameters)) }
    public mutating func step(_ model: Trainable) { step(arenas: [model.parameters]) }

    public mutating func step(arenas: [ParameterArena]) {
        step += 1
        let t = Double(step)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let rootCorrection2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let b1 = beta1, b2 = beta2, eps = epsilon
        for arena in arenas {
            arena.ensureMoments()
            let p = arena.values, g = arena.gradients, m = arena.firstMoment!, v = arena.secondMoment!
            Parallel.chunks(arena.count) { range in
                for i in range {
                    let gi = g[i]
                    let mi = b1 * m[i] + (1 - b1) * gi
                    let vi = b2 * v[i] + (1 - b2) * gi * gi
                    m[i] = mi; v[i] = vi
                    p[i] -= stepSize * mi / (vi.squareRoot() / rootCorrection2 + eps)
                }
            }
        }
    }

    /// The optimizer state of one arena as named tensors (`<prefix>exp_avg.<name>`, `exp_avg_sq`),
    /// for checkpoints; the step count is stored by the caller (see `stateScalars`).
    public func stateTensors(of arena: ParameterArena, prefix: String = "") -> [SafeTensors.Tensor] {
        arena.ensureMoments()
        return arena.namedTensors(prefix: prefix + "exp_avg.", of: arena.firstMoment!)
            + arena.namedTensors(prefix: prefix + "exp_avg_sq.", of: arena.secondMoment!)
    }

    /// Step count and hyper-parameters as one tensor named `<prefix>adam.state`.
    public func stateScalars(prefix: String = "") -> SafeTensors.Tensor {
        SafeTensors.Tensor(name: prefix + "adam.state", shape: [5],
                           values: [Float(step), learningRate, beta1, beta2, epsilon])
    }

    /// Restores moments (and, when present, the step count) written by `stateTensors`/`stateScalars`.
    public mutating func restore(_ tensors: [String: SafeTensors.Tensor], arena: ParameterArena, prefix: String = "") throws {
        arena.ensureMoments()
        try arena.load(tensors, prefix: prefix + "exp_avg.", into: arena.firstMoment!, allowExtra: true)
        try arena.load(tensors, prefix: prefix + "exp_avg_sq.", into: arena.secondMoment!, allowExtra: true)
        if let s = tensors[prefix + "adam.state"], s.values.count == 5 { step = Int(s.values[0]) }
    }
}
