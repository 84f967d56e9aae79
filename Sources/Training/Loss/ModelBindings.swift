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

extension NAFNet: DeblurNetwork {
    public func deblur(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool) {
        forward(input: input, output: output, n: n, h: h, w: w, training: training)
    }

    public func backpropagate(gradOutput: UnsafePointer<Float>) {
        backward(gradOutput: gradOutput)
    }
}

extension PriorGuidedNetwork: DeblurNetwork {
    public func deblur(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool) {
        forward(blurry: input, output: output, n: n, h: h, w: w, training: training)
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

    public func backpropagate(gradReblurred: UnsafePointer<Float>, gradDeblurred: UnsafeMutablePointer<Float>, gradRawSeeds: UnsafePointer<Float>?) {
        backward(gradReblurred: gradReblurred, gradDeblurred: gradDeblurred, gradRawSeeds: gradRawSeeds)
    }
}

extension ModelState {
    /// F and R as the config describes them, initialised from the run seed (R only when the loss uses it).
    /// Rank r of a data-parallel run starts from the same weights and draws its own dropout masks.
    public static func make(_ config: TrainingConfig, rank: Int = 0) throws -> ModelState {
        let g = config.networkG
        let deblur: DeblurNetwork
        let dropoutSeed = rank == 0 ? nil : config.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(rank)
        let unetConfig = UNetConfig(widths: g.widths, dropout: Float(g.dropout), residual: g.residual)
        switch (g.architecture, g.prior != nil) {
        case (.unet, false): deblur = try UNet(config: unetConfig, seed: config.seed, dropoutSeed: dropoutSeed)
        case (.unet, true): deblur = try PriorGuidedNetwork.unet(unetConfig, seed: config.seed, dropoutSeed: dropoutSeed)
        // validated: type nafnet has the section
        case (.nafnet, false): deblur = try NAFNet(config: g.nafnet!, seed: config.seed)
        case (.nafnet, true): deblur = try PriorGuidedNetwork.nafnet(g.nafnet!, seed: config.seed)
        }
        let usesReblur = LossSettings(config.train).usesReblur
        let reblur = usesReblur ? try ReblurModule(width: config.networkReblur.width, seed: config.seed &+ 1) : nil
        let state = ModelState(deblur: deblur, reblur: reblur, optimizer: config.train.optimizer)
        // jdrl-deblur tells NAFNet by its tensor names; the sidecar says what the names cannot for a UNet.
        state.deblurArchitecture = UNetArchitecture(residual: g.residual)
        return state
    }
}
