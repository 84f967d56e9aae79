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
    /// Rank r of a data-parallel run starts from the same weights and draws its own dropout masks.
    public static func make(_ config: TrainingConfig, rank: Int = 0) throws -> ModelState {
        let dropoutSeed = rank == 0 ? nil : config.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(rank)
        let unet = try UNet(config: UNetConfig(widths: config.networkG.widths, dropout: Float(config.networkG.dropout),
                                               residual: config.networkG.residual), seed: config.seed, dropoutSeed: dropoutSeed)
        let usesReblur = LossSettings(config.train).usesReblur
        let reblur = usesReblur ? try ReblurModule(width: config.networkReblur.width, seed: config.seed &+ 1) : nil
        let state = ModelState(deblur: unet, reblur: reblur, optimizer: config.train.optimizer)
        state.deblurArchitecture = UNetArchitecture(residual: config.networkG.residual)
        return state
    }
}
