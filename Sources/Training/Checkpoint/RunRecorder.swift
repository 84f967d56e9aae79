import Foundation
import Manifest

/// The run's rows in the manifest: `runs` (one per run name), `checkpoints`, `training_steps`.
/// Each call is one Manifest transaction; steps past the checkpoint a run resumes from are deleted
/// when it reopens (`Manifest.openRun`).
public struct RunRecorder: Sendable {
    public let manifest: Manifest
    public let runID: Int64

    /// Registers (or reopens) the run named `name` and marks it running.
    public init(manifest: Manifest, name: String, configPath: String, configHash: String, resumingFromStep: Int) throws {
        self.manifest = manifest
        runID = try manifest.openRun(name: name, configPath: configPath, configHash: configHash, resumingFromStep: resumingFromStep)
    }

    /// Logged steps since the last flush, written in one transaction.
    public func record(steps: [StepRecord]) throws {
        try manifest.recordTrainingSteps(steps.map { r in
            TrainingStep(runId: runID, step: r.step, epoch: r.epoch, lr: r.lr, lossTotal: r.total,
                         losses: Dictionary(uniqueKeysWithValues: r.computed.map { ($0.rawValue, r[$0]) }), seconds: r.seconds)
        })
    }

    public func record(checkpointStep step: Int, epoch: Int, path: String) throws {
        try manifest.recordCheckpoint(runID: runID, step: step, epoch: epoch, path: path)
    }

    public func finish(_ status: RunStatus) throws {
        try manifest.finishRun(id: runID, status: status)
    }
}
