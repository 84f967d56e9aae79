import Foundation
import Models
import Tensors

/// The trained state: F, R and their Adam states. F and R are updated by one optimizer configuration
/// (same lr, betas); each keeps its own step count, as PyTorch's Adam keeps per-parameter state and
/// skips parameters without gradients: R's bias correction starts when R starts training (joint stage).
public final class ModelState {
    public let deblur: DeblurNetwork
    public let reblur: ReblurNetwork?
    public var deblurOptimizer: Adam
    public var reblurOptimizer: Adam
    /// F's spec (`network_g`), written beside its weights (`net_g.json`) for jdrl-deblur and jdrl-eval.
    public var deblurSpec: NetworkSpec?

    public init(deblur: DeblurNetwork, reblur: ReblurNetwork?, optimizer: OptimizerSection) {
        self.deblur = deblur
        self.reblur = reblur
        let betas = optimizer.betas.map(Float.init)
        deblurOptimizer = Adam(lr: Float(optimizer.lr), beta1: betas[0], beta2: betas[1])
        reblurOptimizer = Adam(lr: Float(optimizer.lr), beta1: betas[0], beta2: betas[1])
    }

    public func setLearningRate(_ lr: Double) {
        deblurOptimizer.learningRate = Float(lr)
        reblurOptimizer.learningRate = Float(lr)
    }

    // MARK: Checkpoint files

    static let deblurPrefix = "net_g."
    static let reblurPrefix = "net_reblur."

    /// Writes `net_g.safetensors`, `net_reblur.safetensors` (PyTorch parameter names, loadable by the
    /// peer and by jdrl-deblur) and `optimizer.safetensors` (Adam moments and step counts, prefixed).
    public func write(to folder: URL) throws {
        let deblurWeights = folder.appendingPathComponent(CheckpointStore.deblurWeightsFile)
        try SafeTensors.write(deblur.parameters.namedTensors(), to: deblurWeights)
        if let deblurSpec { try NetworkSpecFile.write(deblurSpec, besideWeights: deblurWeights) }
        var optimizer = deblurOptimizer.stateTensors(of: deblur.parameters, prefix: Self.deblurPrefix)
        optimizer.append(deblurOptimizer.stateScalars(prefix: Self.deblurPrefix))
        if let reblur {
            try SafeTensors.write(reblur.parameters.namedTensors(), to: folder.appendingPathComponent(CheckpointStore.reblurWeightsFile))
            optimizer += reblurOptimizer.stateTensors(of: reblur.parameters, prefix: Self.reblurPrefix)
            optimizer.append(reblurOptimizer.stateScalars(prefix: Self.reblurPrefix))
        }
        try SafeTensors.write(optimizer, to: folder.appendingPathComponent(CheckpointStore.optimizerFile))
    }

    /// Restores weights and optimizer state written by `write(to:)`; every tensor must match exactly.
    public func restore(from folder: URL) throws {
        try deblur.parameters.load(SafeTensors.read(folder.appendingPathComponent(CheckpointStore.deblurWeightsFile)))
        let optimizer = try SafeTensors.read(folder.appendingPathComponent(CheckpointStore.optimizerFile))
        try deblurOptimizer.restore(optimizer, arena: deblur.parameters, prefix: Self.deblurPrefix)
        if let reblur {
            try reblur.parameters.load(SafeTensors.read(folder.appendingPathComponent(CheckpointStore.reblurWeightsFile)))
            try reblurOptimizer.restore(optimizer, arena: reblur.parameters, prefix: Self.reblurPrefix)
        }
    }

    /// F's weights from a weights file (`train.init_from`): every tensor of F must be there with its shape,
    /// and nothing else may be; finite values only. Adam's moments stay zero: the run starts its own schedule.
    public func loadDeblurWeights(from url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw InitialWeightsError(path: url.path, reason: "no such file (named by train.init_from)")
        }
        do {
            try deblur.parameters.load(SafeTensors.read(url))
        } catch {
            throw InitialWeightsError(path: url.path, reason: "does not hold this config's network_g (\(error))")
        }
        let values = UnsafeBufferPointer(start: deblur.parameters.values, count: deblur.parameters.count)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw InitialWeightsError(path: url.path, reason: "holds a non-finite weight (element \(bad) of the arena)")
        }
    }

    /// Largest absolute difference between this state's weights and another's (resume tests).
    public func maximumWeightDifference(to other: ModelState) -> Float {
        func difference(_ a: ParameterArena, _ b: ParameterArena) -> Float {
            precondition(a.count == b.count)
            var largest: Float = 0
            for i in 0..<a.count { largest = max(largest, abs(a.values[i] - b.values[i])) }
            return largest
        }
        var largest = difference(deblur.parameters, other.deblur.parameters)
        if let r = reblur, let s = other.reblur { largest = max(largest, difference(r.parameters, s.parameters)) }
        return largest
    }
}

/// A weights file that cannot start a run, with the file and the reason.
public struct InitialWeightsError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

extension ModelState {
    /// F and R as the config describes them, initialised from the run seed (R only when the loss uses it).
    /// Rank r of a data-parallel run starts from the same weights and draws its own dropout masks.
    public static func make(_ config: TrainingConfig, rank: Int = 0) throws -> ModelState {
        let dropoutSeed = rank == 0 ? nil : config.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(rank)
        let deblur = try config.networkG.make(seed: config.seed, dropoutSeed: dropoutSeed)
        let usesReblur = LossSettings(config.train).usesReblur
        let reblur = usesReblur ? try ReblurModule(width: config.networkReblur.width, seed: config.seed &+ 1) : nil
        let state = ModelState(deblur: deblur, reblur: reblur, optimizer: config.train.optimizer)
        state.deblurSpec = config.networkG
        return state
    }
}
