import Distributed
import Foundation
import Manifest
import Models
import Seeding
import Tensors

public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, epoch: Int, terms: LossTerms, lastCheckpointStep: Int?)
    case configChanged(runFolder: String, checkpointHash: String, configHash: String)
    case seedChanged(runFolder: String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, epoch, terms, last):
            let kept = last.map { "the last good checkpoint (step \($0)) is intact; re-running resumes from it" }
                ?? "no checkpoint was written yet"
            return "non-finite loss at step \(step) (epoch \(epoch + 1)): \(terms.description). The step was not applied; \(kept)."
        case let .configChanged(folder, old, new):
            return "\(folder) holds checkpoints of a different config (hash \(old), now \(new)): pass another --run-name or restore the config"
        case let .seedChanged(folder):
            return "\(folder): the checkpoint's RNG state does not match this config's seed: pass another --run-name"
        }
    }
}

/// How a call to `TrainingLoop.run` ended.
public struct TrainingOutcome: Sendable, Equatable {
    public var firstStep: Int
    /// Steps completed (the next step index).
    public var step: Int
    public var totalSteps: Int
    public var lastTerms: LossTerms?
    public var stepsPerSecond: Double
    public var finished: Bool { step >= totalSteps }
}

/// The llm.c-style loop: data, forward, loss, zero, backward, average over ranks, update, log, checkpoint.
/// Everything it touches is built outside (`TrainingSession`) and passed in. In a data-parallel run every
/// rank runs this loop on its slice of each batch; only the leader (rank 0) writes anything.
public final class TrainingLoop {
    let config: TrainingConfig
    let configHash: String
    let models: ModelState
    let assembler: BatchAssembler
    let loss: JDRLLoss
    let folder: RunFolder
    let recorder: RunRecorder?
    let log: RunLog
    let schedule: LearningRateSchedule
    let randomness: TrainingRandomness
    let group: ProcessGroup

    public init(config: TrainingConfig, configHash: String, models: ModelState, assembler: BatchAssembler, loss: JDRLLoss,
                folder: RunFolder, recorder: RunRecorder?, log: RunLog, group: ProcessGroup = SingleProcess()) {
        self.config = config
        self.configHash = configHash
        self.models = models
        self.assembler = assembler
        self.loss = loss
        self.folder = folder
        self.recorder = recorder
        self.log = log
        self.group = group
        schedule = LearningRateSchedule(config.train)
        randomness = TrainingRandomness(seed: config.seed)
    }

    public var totalSteps: Int { config.train.epochs * assembler.stepsPerEpoch }

    /// The first step of the joint stage (for the curves' marker), nil for the baseline.
    var jointFromStep: Int? { config.train.lossMode == .jdrl ? config.train.initEpochs * assembler.stepsPerEpoch : nil }

    /// Restores the newest checkpoint if there is one; returns the step to continue from.
    public func resume() throws -> Int {
        if group.isLeader { folder.checkpoints.sweepPartials() }
        guard let (state, checkpoint) = try folder.checkpoints.latest() else { return 0 }
        guard state.configHash == configHash else {
            throw TrainingError.configChanged(runFolder: folder.root.path, checkpointHash: state.configHash, configHash: configHash)
        }
        guard state.rng == randomness.master(afterSteps: state.step) else { throw TrainingError.seedChanged(runFolder: folder.root.path) }
        try models.restore(from: checkpoint)
        // One training forward per step: replay that many dropout draws.
        models.deblur.fastForwardDropout(forwards: state.step, n: assembler.localBatchSize, h: assembler.cropSize, w: assembler.cropSize)
        // Its row may be missing if the previous process died between the files and the row.
        try recorder?.record(checkpointStep: state.step, epoch: state.epoch, path: checkpoint.path)
        log.info("resumed from \(checkpoint.path) (step \(state.step), epoch \(state.epoch + 1))")
        if let change = state.platformChange(to: Engine.shared.platform) { log.info(change) }
        return state.step
    }

    /// Trains from the newest checkpoint for at most `maxSteps` steps (nil: to the end of the schedule),
    /// writing checkpoints every `checkpoint.every_steps` steps, at epoch ends and when it stops.
    public func run(maxSteps: Int? = nil) throws -> TrainingOutcome {
        let first = try resume()
        let end = min(totalSteps, maxSteps.map { first + $0 } ?? totalSteps)
        var curves = TrainingCurves.load(folder.curvesCSV)
        curves.truncate(after: first)
        curves.reserveCapacity(end)
        var outcome = TrainingOutcome(firstStep: first, step: first, totalSteps: totalSteps, lastTerms: nil, stepsPerSecond: 0)
        guard first < end else {
            log.info("nothing to do: step \(first) of \(totalSteps)")
            // Reopening the run marked it running: a run killed after its last checkpoint must not stay so.
            try recorder?.finish(outcome.finished ? .finished : .stopped)
            return outcome
        }
        log.info("training steps \(first)..<\(end) of \(totalSteps) (\(assembler.stepsPerEpoch) steps per epoch, \(config.train.epochs) epochs)")

        let runner = TrainingStepRunner(config: config, models: models, loss: loss, group: group)
        let prefetcher = BatchPrefetcher(assembler: assembler, firstStep: first, endStep: end, depth: config.datasets.train.prefetch)
        defer { prefetcher.stop() }
        var pending: [StepRecord] = []
        pending.reserveCapacity(config.logger.printEverySteps + config.checkpoint.everySteps + 1)
        var lastCheckpoint: Int? = first > 0 ? first : nil
        let started = Date()

        for step in first..<end {
            let stepStart = Date()
            let batch = try prefetcher.next()
            let epoch = batch.epoch
            let stage = TrainingStage.at(epoch: epoch, train: config.train)
            let lr = schedule.learningRate(step: step, epoch: epoch)
            let terms = try runner.run(batch: batch, stage: stage, epoch: epoch, lr: lr)
            guard terms.isFinite else {
                try? recorder?.record(steps: pending)
                try? recorder?.finish(.failed)
                log.info("stopping: non-finite loss at step \(step)")
                throw TrainingError.nonFiniteLoss(step: step, epoch: epoch, terms: terms, lastCheckpointStep: lastCheckpoint)
            }

            let done = step + 1
            let record = StepRecord(step: done, epoch: epoch, lr: lr, terms: terms, seconds: Date().timeIntervalSince(stepStart))
            curves.append(record)
            pending.append(record)
            outcome.step = done
            outcome.lastTerms = terms
            outcome.stepsPerSecond = Double(done - first) / max(Date().timeIntervalSince(started), 1e-9)
            let logged = done % config.logger.printEverySteps == 0 || done == end
            if logged || log.showsEveryStep {  // format only what is shown (no per-step strings otherwise)
                log.progress(ProgressLine(epoch: epoch, epochs: config.train.epochs, step: done, totalSteps: totalSteps, stage: stage,
                                          record: record, stepsPerSecond: outcome.stepsPerSecond).text, logged: logged)
            }
            let epochEnds = done % assembler.stepsPerEpoch == 0
            guard group.isLeader else { continue }
            if done % config.checkpoint.everySteps == 0 || epochEnds || done == end {
                // Rows first: a kill between the two leaves rows past the last checkpoint, which the
                // resumed run deletes and redoes; the other order could lose rows of checkpointed steps.
                try recorder?.record(steps: pending)
                pending.removeAll(keepingCapacity: true)
                try saveCheckpoint(step: done, final: done == totalSteps, curves: curves)
                lastCheckpoint = done
            } else if logged {
                try recorder?.record(steps: pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        log.closeLine()
        try recorder?.finish(outcome.finished ? .finished : .stopped)
        log.info(String(format: "%@ at step %d of %d (%.3f steps/s)", outcome.finished ? "finished" : "stopped",
                        outcome.step, totalSteps, outcome.stepsPerSecond))
        for line in Engine.shared.implementationReport() { log.info(line) }
        return outcome
    }

    private func saveCheckpoint(step: Int, final: Bool, curves: TrainingCurves) throws {
        let epochOfNext = assembler.epoch(ofStep: step)
        let state = CheckpointState(step: step, epoch: epochOfNext, optimizerSteps: models.deblurOptimizer.step,
                                    rng: randomness.master(afterSteps: step), seed: config.seed, configHash: configHash,
                                    lr: schedule.learningRate(step: step, epoch: epochOfNext), final: final)
        let saved = try folder.checkpoints.save(state, keepLast: config.checkpoint.keepLast) { try models.write(to: $0) }
        try recorder?.record(checkpointStep: step, epoch: epochOfNext, path: saved.path)
        try curves.write(csvTo: folder.curvesCSV, svgTo: folder.curvesSVG, title: "\(config.name): training curves", jointFromStep: jointFromStep)
        log.closeLine()
        log.info("checkpoint \(saved.lastPathComponent) written")
    }
}
