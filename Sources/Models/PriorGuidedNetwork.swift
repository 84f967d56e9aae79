// A deblurring network F with the journal's blur-map prior in front (BlurMapPrior):
//   out = blurry + backbone(gate(concat(blurry, ramp * E(blurry))))      (residual backbones)
// The backbone (UNet or NAFNet) reads the 38 gated channels and adds the blurry image itself as its
// residual. The prior's tensors live in the backbone's arena (one network, one arena, one Adam state,
// one allreduce), after the backbone's, so the file holds the backbone's names plus `estimator.*` and
// `gate.*`. The sigmoid UNet (the paper's head) works too: it has no residual to add.
import Tensors

/// What the prior needs of a backbone: a wide input, a separate residual base, the input's gradient.
public protocol PriorBackbone: DeblurNetwork {
    func forward(features: UnsafePointer<Float>, blurry: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 n: Int, h: Int, w: Int, training: Bool)
    /// Accumulates parameter gradients; `gradFeatures` (plain n x 38 x h x w) overwritten.
    func backward(gradOutput: UnsafePointer<Float>, gradFeatures: UnsafeMutablePointer<Float>)
    func fastForwardDropout(forwards: Int, n: Int, h: Int, w: Int)
    var implementations: Set<String> { get }
}

extension UNet: PriorBackbone {
    public func forward(features: UnsafePointer<Float>, blurry: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        n: Int, h: Int, w: Int, training: Bool) {
        forward(input: features, residualBase: blurry, output: output, n: n, h: h, w: w, training: training)
    }
    public func backward(gradOutput: UnsafePointer<Float>, gradFeatures: UnsafeMutablePointer<Float>) {
        backward(gradOutput: gradOutput, gradInput: gradFeatures)
    }
}

extension NAFNet: PriorBackbone {
    public func forward(features: UnsafePointer<Float>, blurry: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        n: Int, h: Int, w: Int, training: Bool) {
        forward(input: features, residualBase: blurry, output: output, n: n, h: h, w: w, training: training)
    }
    public func backward(gradOutput: UnsafePointer<Float>, gradFeatures: UnsafeMutablePointer<Float>) {
        backward(gradOutput: gradOutput, gradInput: gradFeatures)
    }
    /// No dropout in NAFNet: nothing to replay.
    public func fastForwardDropout(forwards: Int, n: Int, h: Int, w: Int) {}
}

/// Usage:
/// ```
/// let f = try PriorGuidedNetwork.unet(UNetConfig(widths: [32, 64], dropout: 0, residual: true), seed: 1)
/// f.ramp = 0.5                                  // initialisation stage; 1 afterwards and at inference
/// f.forward(blurry: b, output: out, n: 1, h: 64, w: 64, training: true)
/// f.copyScaledSeeds(into: seeds)               // ramp * E(b): the pseudo-supervision compares them with R's
/// f.addSeedGradient(gSeeds)                     // its dLoss/d(ramp * seeds), optional
/// f.backward(gradOutput: gOut)
/// ```
public final class PriorGuidedNetwork: Trainable {
    public let backbone: PriorBackbone
    public let prior: BlurMapPrior
    public var parameters: ParameterArena { backbone.parameters }
    /// The factor on the predicted map (the authors' ramp during the initialisation stage).
    public var ramp: Float = 1

    private var n = 0, h = 0, w = 0
    private var gradFeatures: [Float] = []
    private var seedGradientBuffer: [Float] = []
    private var hasSeedGradient = false

    init(backbone: PriorBackbone, seed: UInt64) {
        self.backbone = backbone
        prior = BlurMapPrior(arena: backbone.parameters, seed: seed &+ 0x5052_494F)   // "PRIO": apart from the backbone's draws
    }

    public static func unet(_ config: UNetConfig, seed: UInt64, dropoutSeed: UInt64? = nil) throws -> PriorGuidedNetwork {
        var wide = config
        wide.inputChannels = BlurMapPrior.featureChannels
        let unet = try UNet(config: wide, seed: seed, dropoutSeed: dropoutSeed, appending: BlurMapPrior.parameterTable)
        return PriorGuidedNetwork(backbone: unet, seed: seed)
    }

    public static func nafnet(_ config: NAFNetConfig, seed: UInt64) throws -> PriorGuidedNetwork {
        let nafnet = try NAFNet(config: config, seed: seed, inputChannels: BlurMapPrior.featureChannels, appending: BlurMapPrior.parameterTable)
        return PriorGuidedNetwork(backbone: nafnet, seed: seed)
    }

    private func plan(n: Int, h: Int, w: Int) {
        if n == self.n && h == self.h && w == self.w { return }
        self.n = n; self.h = h; self.w = w
        gradFeatures = [Float](repeating: 0, count: n * BlurMapPrior.featureChannels * h * w)
        seedGradientBuffer = [Float](repeating: 0, count: n * BlurMapPrior.seedCount * h * w)
    }

    public func forward(blurry: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, training: Bool) {
        plan(n: n, h: h, w: w)
        hasSeedGradient = false
        prior.forward(blurry: blurry, ramp: ramp, n: n, h: h, w: w)
        backbone.forward(features: prior.features, blurry: blurry, output: output, n: n, h: h, w: w, training: training)
    }

    /// ramp * E(blurry) of the last forward (plain n x 35 x h x w).
    public func copyScaledSeeds(into destination: UnsafeMutablePointer<Float>) { prior.copyScaledSeeds(into: destination) }

    /// Adds `gradient` (plain n x 35 x h x w) to dLoss/d(ramp * seeds) for the next `backward`.
    public func addSeedGradient(_ gradient: UnsafePointer<Float>) {
        for i in seedGradientBuffer.indices { seedGradientBuffer[i] = (hasSeedGradient ? seedGradientBuffer[i] : 0) + gradient[i] }
        hasSeedGradient = true
    }

    public func backward(gradOutput: UnsafePointer<Float>) {
        gradFeatures.withUnsafeMutableBufferPointer { backbone.backward(gradOutput: gradOutput, gradFeatures: $0.baseAddress!) }
        gradFeatures.withUnsafeBufferPointer { features in
            seedGradientBuffer.withUnsafeBufferPointer { seeds in
                prior.backward(gradFeatures: features.baseAddress!, gradSeeds: hasSeedGradient ? seeds.baseAddress! : nil)
            }
        }
        hasSeedGradient = false
    }

    public func fastForwardDropout(forwards: Int, n: Int, h: Int, w: Int) { backbone.fastForwardDropout(forwards: forwards, n: n, h: h, w: w) }

    public var implementations: Set<String> { backbone.implementations.union(prior.implementations) }
}
