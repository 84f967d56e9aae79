import Models
import Tensors

// The Models networks behind the Training protocols, and their construction from the config.

extension UNet: DeblurNetwork {
    public func deblur(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool) {
        forward(input: input, output: output, n: n, h: h, w: w, training: training)
    }

    public func backpropagate(gradOutput: UnsafePointer<Float>) {
        backward(gradOutput: gradOutput)
    }

    /// Models' Dropout layers draw from private generators seeded when the UNet is built and offer no
    /// reseed, so the only way to reach the state after k steps is to draw what k forwards drew: run
    /// each dropout layer's forward k times on a scratch tensor of its training shape. The layers are
    /// reached by reflection (read-only; the `dropouts` member is private). Cost: one uniform draw per
    /// dropped element per replayed step (~0.5 s per 1000 steps for the CPU config). A `reseed` API in
    /// Models would make this O(1); see the issue notes.
    public func fastForwardDropout(forwards: Int, n: Int, h: Int, w: Int) {
        guard forwards > 0, config.dropout > 0 else { return }
        guard let layers = Mirror(reflecting: self).children.first(where: { $0.label == "dropouts" })?.value as? [Dropout?] else {
            preconditionFailure("Models.UNet no longer stores `dropouts`: update fastForwardDropout")
        }
        for (level, layer) in layers.enumerated() {
            guard let layer else { continue }
            // Blocked, as the UNet's activations are: the next training forward then reuses this mask tensor.
            let shape = Tensor(n: n, c: config.widths[level], h: h >> level, w: w >> level, layout: .blocked)
            for _ in 0..<forwards { layer.forward(src: shape, dst: shape, training: true) }
        }
    }
}

extension ReblurModule: ReblurNetwork {
    public func reblur(deblurred: UnsafePointer<Float>, blurry: UnsafePointer<Float>, into reblurred: UnsafeMutablePointer<Float>,
                       n: Int, h: Int, w: Int) {
        forward(deblurred: deblurred, blurry: blurry, reblurred: reblurred, seeds: nil, n: n, h: h, w: w)
    }

    public func backpropagate(gradReblurred: UnsafePointer<Float>, gradDeblurred: UnsafeMutablePointer<Float>) {
        backward(gradReblurred: gradReblurred, gradDeblurred: gradDeblurred)
    }
}

extension ModelState {
    /// F and R as the config describes them, initialised from the run seed (R only when the loss uses it).
    public static func make(_ config: TrainingConfig) throws -> ModelState {
        let unet = try UNet(config: UNetConfig(widths: config.networkG.widths, dropout: Float(config.networkG.dropout)), seed: config.seed)
        let usesReblur = LossSettings(config.train).usesReblur
        let reblur = usesReblur ? try ReblurModule(width: config.networkReblur.width, seed: config.seed &+ 1) : nil
        return ModelState(deblur: unet, reblur: reblur, optimizer: config.train.optimizer)
    }
}
