import StageSupport
import Tensors

/// F's architecture (BasicSR's `type:` registry): the paper's UNet, or NAFNet (NAFNet.swift).
public enum NetworkType: String, ConfigChoice {
    case unet
    case nafnet
}

/// The deblurring network F as a training config's `network_g` section states it and as a checkpoint
/// stores it (`net_g.json` beside the weights, `NetworkSpecFile`). `make` is the one place a network is
/// built from a description, for training and for inference; a new backbone is a `NetworkType` case,
/// its section here, a case in `backbone` and `problem`, and its own files.
public struct NetworkSpec: Codable, Equatable, Sendable {
    /// nil means unet: a UNet config without the key keeps the resolved YAML, and so the hash, it had
    /// before the key existed (its runs resume).
    public var type: NetworkType?
    /// Channel widths of the UNet levels, e.g. [64, 128, 256, 512, 1024] for the paper.
    public var widths: [Int]
    /// Dropout probability on the two deepest levels' outputs (the reference: 0.4).
    public var dropout: Double
    /// output = input + F(input), F's head zero-initialised (not in the paper: false there). See UNet.swift.
    public var residual: Bool
    /// NAFNet's shape (type nafnet only; widths, dropout and residual do not apply to it and may be left out).
    public var nafnet: NAFNetConfig?
    /// The journal's blur-map prior in front of either backbone (absent: none; the hash of a config
    /// without it is unchanged).
    public var prior: BlurPriorSection?
    public enum CodingKeys: String, CodingKey, CaseIterable { case type, widths, dropout, residual, nafnet, prior }

    public var architecture: NetworkType { type ?? .unet }

    public init(type: NetworkType? = nil, widths: [Int], dropout: Double, residual: Bool, nafnet: NAFNetConfig? = nil,
                prior: BlurPriorSection? = nil) {
        self.type = type; self.widths = widths; self.dropout = dropout; self.residual = residual; self.nafnet = nafnet
        self.prior = prior
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(NetworkType.self, forKey: .type)
        nafnet = try c.decodeIfPresent(NAFNetConfig.self, forKey: .nafnet)
        prior = try c.decodeIfPresent(BlurPriorSection.self, forKey: .prior)
        if type == .nafnet {
            widths = try c.decodeIfPresent([Int].self, forKey: .widths) ?? []
            dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
            residual = try c.decodeIfPresent(Bool.self, forKey: .residual) ?? true
        } else {
            widths = try c.decode([Int].self, forKey: .widths)
            dropout = try c.decode(Double.self, forKey: .dropout)
            residual = try c.decode(Bool.self, forKey: .residual)
        }
    }

    /// F with fresh weights drawn from `seed`; its dropout masks from `dropoutSeed` (default: `seed`).
    /// With a prior, the backbone reads the prior's gated features and its arena also holds the prior's tensors.
    public func make(seed: UInt64, dropoutSeed: UInt64? = nil) throws -> DeblurNetwork {
        guard prior != nil else { return try backbone(inputChannels: 3, appending: [], seed: seed, dropoutSeed: dropoutSeed) }
        let backbone = try backbone(inputChannels: BlurMapPrior.featureChannels, appending: BlurMapPrior.parameterTable,
                                    seed: seed, dropoutSeed: dropoutSeed)
        return PriorGuidedNetwork(backbone: backbone, seed: seed)
    }

    /// The same network for inference: dropout off.
    public var forInference: NetworkSpec {
        var spec = self
        spec.dropout = 0
        return spec
    }

    /// The backbone of `architecture` reading `inputChannels` channels, with `extra` tensors after its own.
    func backbone(inputChannels: Int, appending extra: [(String, [Int])], seed: UInt64, dropoutSeed: UInt64?) throws -> PriorBackbone {
        switch architecture {
        case .unet:
            return try UNet(config: unet(inputChannels: inputChannels), seed: seed, dropoutSeed: dropoutSeed, appending: extra)
        case .nafnet:
            guard let nafnet else { throw NetworkSpecError(reason: "type nafnet needs a nafnet section") }
            return try NAFNet(config: nafnet, seed: seed, inputChannels: inputChannels, appending: extra)
        }
    }

    /// The UNet's configuration (type unet).
    public func unet(inputChannels: Int = 3) -> UNetConfig {
        UNetConfig(widths: widths, dropout: Float(dropout), inputChannels: inputChannels, residual: residual)
    }

    /// Inputs' sides must be multiples of this.
    public var sizeMultiple: Int {
        switch architecture {
        case .unet: unet().sizeMultiple
        case .nafnet: nafnet?.sizeMultiple ?? 1
        }
    }

    /// "UNet widths [...]" or "NAFNet width W, blocks ...", plus ", blur-map prior", for logs.
    public var summary: String {
        let backbone: String
        switch architecture {
        case .unet: backbone = unet().summary
        case .nafnet: backbone = nafnet?.summary ?? "NAFNet"
        }
        return backbone + (prior != nil ? ", blur-map prior" : "")
    }

    /// What is wrong with this spec for training crops of side `cropSize` (a sentence naming the key), or nil.
    public func problem(cropSize: Int) -> String? {
        switch architecture {
        case .unet:
            if nafnet != nil { return "network_g.nafnet applies to type nafnet only (this network_g is a UNet)" }
            if widths.isEmpty || widths.contains(where: { $0 < 1 }) { return "network_g.widths must be a non-empty list of positive widths" }
            if !(0..<1).contains(dropout) { return "network_g.dropout must be in [0, 1)" }
            let divisor = 1 << (widths.count - 1)
            if cropSize < divisor || cropSize % divisor != 0 {
                return "datasets.train.crop_size \(cropSize) must be a positive multiple of \(divisor) (2^(levels-1) for \(widths.count) UNet levels)"
            }
        case .nafnet:
            guard let n = nafnet else { return "network_g.type nafnet needs a network_g.nafnet section (width, enc_blocks, middle_blocks, dec_blocks)" }
            if n.width < 1 || n.encoderBlocks.count != n.decoderBlocks.count || (n.encoderBlocks + n.decoderBlocks + [n.middleBlocks]).contains(where: { $0 < 0 }) {
                return "network_g.nafnet: width must be >= 1, enc_blocks and dec_blocks lists of the same length, block counts >= 0"
            }
            if dropout != 0 || !residual { return "network_g.dropout and residual do not apply to NAFNet (no dropout, always residual): leave them out" }
            let divisor = n.sizeMultiple
            if cropSize < divisor || cropSize % divisor != 0 {
                return "datasets.train.crop_size \(cropSize) must be a positive multiple of \(divisor) (2^levels for \(n.levels) NAFNet levels)"
            }
        }
        if let prior, prior.weight < 0 || !(prior.rampStart > 0 && prior.rampStart <= 1) {
            return "network_g.prior: weight must be >= 0 and ramp_start in (0, 1]"
        }
        return nil
    }
}

/// A spec that cannot be built; the reason names the key.
public struct NetworkSpecError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// `network_g.prior` (Models.BlurMapPrior): a blur estimator's kernel-seed map joins the blurry image
/// through a squeeze-excitation gate. During the initialisation stage the map is scaled by
/// ramp_start + (epoch + 1) / init_epochs * (1 - ramp_start); after it, `weight` * Charb(predicted seeds,
/// R's KPN seeds) joins the loss (both sides get its gradient, as in the authors' code).
public struct BlurPriorSection: Codable, Equatable, Sendable {
    /// The pseudo-supervision's weight (the journal: 0.5).
    public var weight: Double
    /// The ramp's offset (the journal: 0.001); its first epoch scales the map by ramp_start + (1 - ramp_start) / init_epochs.
    public var rampStart: Double
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case weight
        case rampStart = "ramp_start"
    }

    public init(weight: Double = 0.5, rampStart: Double = 0.001) { self.weight = weight; self.rampStart = rampStart }

    /// The predicted map's factor at `epoch` (0-based) of a run whose initialisation stage lasts `initEpochs`.
    public func ramp(epoch: Int, initEpochs: Int) -> Float {
        guard epoch < initEpochs else { return 1 }
        return Float(rampStart + Double(epoch + 1) / Double(initEpochs) * (1 - rampStart))
    }
}
