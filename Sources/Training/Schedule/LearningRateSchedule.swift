import Foundation

/// The learning rate as a function of the epoch (stepped once per epoch, as the reference's
/// MultiStepLR/CosineAnnealingLR are), plus the stage boundary of JDRL.
public struct LearningRateSchedule: Sendable, Equatable {
    public let base: Double
    public let scheduler: SchedulerSection
    public let epochs: Int

    public init(optimizer: OptimizerSection, scheduler: SchedulerSection, epochs: Int) {
        self.base = optimizer.lr
        self.scheduler = scheduler
        self.epochs = epochs
    }

    public init(_ train: TrainSection) {
        self.init(optimizer: train.optimizer, scheduler: train.scheduler, epochs: train.epochs)
    }

    /// The lr of step `step` (0-based) in epoch `epoch`: the epoch's lr, ramped linearly during the
    /// warm-up steps (the ramp ends at the full lr on step warmup_steps - 1).
    public func learningRate(step: Int, epoch: Int) -> Double {
        let lr = learningRate(epoch: epoch)
        let warmup = scheduler.warmupSteps
        return warmup > 0 && step < warmup ? lr * Double(step + 1) / Double(warmup) : lr
    }

    /// The epoch's lr without warm-up (stepped per epoch, as the reference's schedulers).
    public func learningRate(epoch: Int) -> Double {
        switch scheduler.type {
        case .multistep:
            let passed = scheduler.milestones.filter { epoch >= $0 }.count
            return base * pow(scheduler.gamma, Double(passed))
        case .cosine:
            let progress = Double(min(epoch, epochs)) / Double(max(epochs, 1))
            return scheduler.etaMin + (base - scheduler.etaMin) * (1 + cos(Double.pi * progress)) / 2
        }
    }
}

/// The two phases of JDRL training (docs/method.md, "The adaptive deblurring loss").
public enum TrainingStage: String, Sendable, Equatable {
    /// epochs < N: Charb(out, warp(GT, flow(blurry -> GT))); no mask, no reblur, R frozen.
    case initialisation
    /// Masked bi-directional deformation + reblurring loss; F and R trained together.
    case joint
    /// loss_mode baseline: Charb(out, GT) throughout.
    case baseline

    public static func at(epoch: Int, train: TrainSection) -> TrainingStage {
        if train.lossMode == .baseline { return .baseline }
        return epoch < train.initEpochs ? .initialisation : .joint
    }

    /// Whether F is updated at `epoch`: not during `train.reblur_warmup_epochs`, the first joint epochs.
    public static func trainsDeblur(epoch: Int, train: TrainSection) -> Bool {
        guard at(epoch: epoch, train: train) == .joint else { return true }
        return epoch >= train.initEpochs + (train.reblurWarmupEpochs ?? 0)
    }
}
