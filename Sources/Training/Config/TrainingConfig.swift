import Flow
import Models
import Foundation
import StageSupport
import Tensors

// The training configuration: one YAML file per experiment with BasicSR's fixed sections
// (name, seed, datasets, network_g, network_reblur, train, checkpoint, logger). Every key is a
// property here; the YAML key is the snake_case name in `CodingKeys`. Defaults live only here
// (`TrainingConfig.defaults`-free: a missing key is an error, so a config file says everything).

public struct TrainingConfig: Codable, Equatable, Sendable {
    public var name: String
    public var seed: UInt64
    public var datasets: DatasetsSection
    public var networkG: NetworkSpec
    public var networkReblur: ReblurNetworkSection
    public var train: TrainSection
    public var checkpoint: CheckpointSection
    public var logger: LoggerSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, seed, datasets
        case networkG = "network_g"
        case networkReblur = "network_reblur"
        case train, checkpoint, logger
    }
}

public struct DatasetsSection: Codable, Equatable, Sendable {
    public var train: TrainDataset
    enum CodingKeys: String, CodingKey, CaseIterable { case train }
}

/// How the 8-way dihedral group (flips, 90-degree rotations, transpose) is used on training crops.
public enum Augmentation: String, ConfigChoice {
    /// The released JDRL UNet code: plain random crops.
    case none
    /// One of the 8 flips/rotations per sample (the MPRNet* recipe); flows are transformed with the image.
    case dihedral
}

public struct TrainDataset: Codable, Equatable, Sendable {
    /// The SQLite manifest written by `make patches` (patches + flows tables).
    public var manifest: String
    /// Which `patches.split` value to train on.
    public var split: String
    /// Side of the square random crop cut from each patch (the paper: 256 from 512).
    public var cropSize: Int
    public var batchSize: Int
    public var augmentation: Augmentation
    /// How many batches the background loader may prepare ahead of the step that uses them.
    public var prefetch: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case manifest, split
        case cropSize = "crop_size"
        case batchSize = "batch_size"
        case augmentation, prefetch
    }
}

public struct ReblurNetworkSection: Codable, Equatable, Sendable {
    /// Feature width of the KPN and WPN branches (the reference: 64).
    public var width: Int
    enum CodingKeys: String, CodingKey, CaseIterable { case width }
}

/// What the deblurred output is compared with.
public enum LossMode: String, ConfigChoice {
    /// JDRL: flow-deformed GT (init stage), then masked bi-directional deformation + reblurring loss.
    case jdrl
    /// The paper's "UNet" row: Charbonnier against the unaligned GT, nothing else.
    case baseline
}

/// Where the flows of the adaptive deblurring loss come from.
public enum FlowSource: String, ConfigChoice {
    /// After the initialisation stage: flows between the current output and GT, estimated every step
    /// by the Flow module (detached: no gradient through the flow estimate), as the reference does with PWC-Net.
    case online
    /// Cheaper: the precomputed blurry<->GT flows of the manifest stand in for output<->GT
    /// (valid to the extent the output stays aligned with the blurry input, which the reblur loss enforces).
    case manifest
}

/// Calibration mask M of the paper's Eq. 4 (lambda = train.lambda): `train.mask_mode` is Flow's one
/// `MaskMode`, spelled in configs colour_wheel, magnitude or forward_backward (`MaskMode.configName`).
extension MaskMode: ConfigChoice {}

/// Photometric alignment of the GT: two-shot captures differ in exposure and white balance
/// as well as position, and a loss against the GT's own colours teaches the network to change the colours.
public enum ColourAlignmentMode: String, ConfigChoice {
    /// The reference behaviour: the GT's colours as shot.
    case none
    /// Before any loss term, the GT is mapped per channel onto the blurry image's colours
    /// (`gain * GT + offset`, fitted by jdrl-flow on low frequencies inside the mask, or on load).
    case gainOffset = "gain_offset"

}

/// How the loss warps an image by a flow (`train.warp_interpolation`, Tensors' `WarpInterpolation`):
/// bilinear (the reference's) or bicubic, which keeps more of the GT's fine detail in the target.
extension WarpInterpolation: ConfigChoice {}

public enum OptimizerKind: String, ConfigChoice { case adam }

public struct OptimizerSection: Codable, Equatable, Sendable {
    public var type: OptimizerKind
    public var lr: Double
    public var betas: [Double]
    enum CodingKeys: String, CodingKey, CaseIterable { case type, lr, betas }
}

public enum SchedulerKind: String, ConfigChoice {
    /// lr x gamma at each milestone epoch (the UNet recipe: 0.5 at epoch 60).
    case multistep
    /// Cosine annealing from lr to eta_min over all epochs (the MPRNet* recipe).
    case cosine
}

public struct SchedulerSection: Codable, Equatable, Sendable {
    public var type: SchedulerKind
    /// multistep: epochs at which the lr is multiplied by gamma.
    public var milestones: [Int]
    public var gamma: Double
    /// cosine: the final lr.
    public var etaMin: Double
    /// Linear warm-up over the first steps (either type): lr x (step + 1) / warmup_steps; 0 = none.
    /// Adam's first updates are large relative to a small budget; the ramp keeps them from undoing the
    /// residual network's identity start.
    public var warmupSteps: Int
    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, milestones, gamma
        case etaMin = "eta_min"
        case warmupSteps = "warmup_steps"
    }
}

/// The paper's Table 4 variants as switches (all false = full JDRL).
public struct AblationSection: Codable, Equatable, Sendable {
    /// Table 4, row 2: no optical-flow deformation at all: the deblur term compares with the unwarped GT (no cycle, no mask).
    public var noDeformation: Bool
    /// Table 4, row 3: M = M' = 1.
    public var noMask: Bool
    /// Only the forward deformation: the cycle term Charb(M'*GT, M'*warp(out)) is dropped.
    public var noCycle: Bool
    /// Table 4, row 4: no reblurring module (R is neither built nor trained; alpha is ignored).
    public var noReblur: Bool
    /// Table 4, row 5: unconstrained per-pixel kernels instead of isotropic ones. Not implemented by Models
    /// (its ReblurModule generates isotropic kernels only): `true` is rejected with an explanation.
    public var noIsotropic: Bool
    enum CodingKeys: String, CodingKey, CaseIterable {
        case noDeformation = "no_deformation"
        case noMask = "no_mask"
        case noCycle = "no_cycle"
        case noReblur = "no_reblur"
        case noIsotropic = "no_isotropic"
    }

    public static let none = AblationSection(noDeformation: false, noMask: false, noCycle: false, noReblur: false, noIsotropic: false)
}

public struct TrainSection: Codable, Equatable, Sendable {
    public var optimizer: OptimizerSection
    public var scheduler: SchedulerSection
    /// Total epochs (one epoch = every training patch once, in a seeded order).
    public var epochs: Int
    /// N: epochs of the initialisation stage (deformed-GT loss only, R not trained).
    public var initEpochs: Int
    /// Weight of the reblurring loss.
    public var alpha: Double
    /// Calibration-mask tolerance of Eq. 4.
    public var lambda: Double
    /// Charbonnier epsilon (the paper and code: 1e-3).
    public var charbonnierEps: Double
    public var lossMode: LossMode
    public var flowSource: FlowSource
    public var maskMode: MaskMode
    public var ablation: AblationSection
    /// Bring the GT to the blurry image's colours before the loss (`gain_offset`) or not (`none`, the paper's code).
    public var colourAlignment: ColourAlignmentMode
    /// F's weights at step 0 (a checkpoint's `net_g.safetensors`, e.g. a pretrained model); absent: F's
    /// own initialisation. Read only when the run starts fresh: a resumed run continues from its checkpoint.
    public var initFrom: String?
    /// Epochs at the start of the joint stage in which only R trains and F stays frozen (the JDRL authors'
    /// recipe for a pretrained F: fit R to it first, then train both); absent: 0.
    public var reblurWarmupEpochs: Int?
    /// The interpolation of the loss's warps (deformed GT, cycle term). nil means bilinear: a config
    /// without the key resolves, and so hashes, as it did before the key existed (its runs resume).
    public var warpInterpolation: WarpInterpolation?
    enum CodingKeys: String, CodingKey, CaseIterable {
        case optimizer, scheduler, epochs
        case initEpochs = "init_epochs"
        case alpha, lambda
        case charbonnierEps = "charbonnier_eps"
        case lossMode = "loss_mode"
        case flowSource = "flow_source"
        case maskMode = "mask_mode"
        case ablation
        case colourAlignment = "colour_alignment"
        case initFrom = "init_from"
        case reblurWarmupEpochs = "reblur_warmup_epochs"
        case warpInterpolation = "warp_interpolation"
    }

    /// The loss warps' interpolation (bilinear when the key is absent).
    public var lossWarp: WarpInterpolation { warpInterpolation ?? .bilinear }
}

public struct CheckpointSection: Codable, Equatable, Sendable {
    /// A checkpoint every this many steps (and always at the end of an epoch and of the run).
    public var everySteps: Int
    /// Older checkpoints beyond this many are deleted (0 keeps all).
    public var keepLast: Int
    enum CodingKeys: String, CodingKey, CaseIterable {
        case everySteps = "every_steps"
        case keepLast = "keep_last"
    }
}

public struct LoggerSection: Codable, Equatable, Sendable {
    /// One log line (and one row per term in the curves) every this many steps.
    public var printEverySteps: Int
    enum CodingKeys: String, CodingKey, CaseIterable { case printEverySteps = "print_every_steps" }
}
