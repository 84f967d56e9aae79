import Distributed
import Models
import Tensors

/// One optimisation step of the training loop on a batch already in memory: F's forward, the joint
/// stage's flows, the loss (with R's forward), backward through the loss, R and F, the gradient
/// average over ranks and Adam on F (and R in the joint stage). `TrainingLoop` runs it once per step;
/// `jdrl-bench train-step-jdrl` times the same code on a batch it made.
public final class TrainingStepRunner {
    let config: TrainingConfig
    let models: ModelState
    let loss: JDRLLoss
    let group: ProcessGroup
    /// F's output for the batch (N x 3 x H x W), allocated once.
    let output: UnsafeMutablePointer<Float>
    private let outputCount: Int

    public init(config: TrainingConfig, models: ModelState, loss: JDRLLoss, group: ProcessGroup = SingleProcess()) {
        self.config = config
        self.models = models
        self.loss = loss
        self.group = group
        outputCount = loss.batchSize * 3 * loss.size * loss.size
        output = .allocate(capacity: outputCount)
        output.initialize(repeating: 0, count: outputCount)
    }

    deinit { output.deallocate() }

    /// Runs the step for `batch` (of the loss's batch size and crop) in `stage` at learning rate `lr`.
    /// Returns the loss terms averaged over ranks; when they are not finite, nothing was applied
    /// (no backward, no update) and the caller decides what to do.
    public func run(batch: TrainingBatch, stage: TrainingStage, epoch: Int, lr: Double) throws -> LossTerms {
        let n = loss.batchSize, size = loss.size
        models.setLearningRate(lr)
        let prior = models.deblur as? PriorGuidedNetwork
        if let prior, let section = config.networkG.prior { prior.ramp = section.ramp(epoch: epoch, initEpochs: config.train.initEpochs) }
        models.deblur.deblur(batch.blurry, into: output, n: n, h: size, w: size, training: true)
        let needsFlows = stage == .joint && config.train.lossMode == .jdrl && !config.train.ablation.noDeformation
        let flows = needsFlows ? try loss.jointFlows(out: output, batch: batch) : nil
        let reblur = stage == .joint ? models.reblur : nil
        // Every rank sees the mean over the global batch, so all of them stop together on a non-finite loss.
        let terms = try averaged(loss.forward(stage: stage, out: output, batch: batch, flows: flows, reblur: reblur, prior: prior))
        guard terms.isFinite else { return terms }
        let trainsDeblur = TrainingStage.trainsDeblur(epoch: epoch, train: config.train)
        models.deblur.zeroGrad()
        reblur?.zeroGrad()
        loss.backward(stage: stage, out: output, batch: batch, flows: flows, reblur: reblur, prior: prior)
        if trainsDeblur { models.deblur.backpropagate(gradOutput: loss.gradOut) }
        // Each rank's loss is the mean over its slice: the mean of the ranks' gradients is the global batch's.
        if trainsDeblur { try group.average(models.deblur.parameters.gradients, count: models.deblur.parameters.count) }
        if let reblur { try group.average(reblur.parameters.gradients, count: reblur.parameters.count) }
        if trainsDeblur { models.deblurOptimizer.step(models.deblur) }
        if let reblur { models.reblurOptimizer.step(reblur) }
        return terms
    }

    /// The loss terms as means over every rank's slice (one rank: unchanged).
    private func averaged(_ terms: LossTerms) throws -> LossTerms {
        guard group.size > 1 else { return terms }
        return try terms.averaged { values in
            try values.withUnsafeMutableBufferPointer { try group.average($0.baseAddress!, count: $0.count) }
        }
    }
}
