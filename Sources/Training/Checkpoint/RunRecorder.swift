import Foundation
import GRDB
import Manifest

/// The run's rows in the manifest: `runs` (one per run name), `checkpoints`, `training_steps`.
/// Each call is one transaction. Steps past the checkpoint a run resumes from are deleted first,
/// so the table never holds two histories of one step.
public struct RunRecorder: Sendable {
    public let manifest: Manifest
    public let runID: Int64

    /// Registers (or reopens) the run named `name` and marks it running.
    public init(manifest: Manifest, name: String, configPath: String, configHash: String, resumingFromStep: Int) throws {
        self.manifest = manifest
        runID = try manifest.writer.write { db -> Int64 in
            if var run = try Run.filter(Column("name") == name).fetchOne(db) {
                run.configPath = configPath
                run.configHash = configHash
                run.status = .running
                run.updatedAt = Date()
                try run.update(db)
                try db.execute(sql: "DELETE FROM training_steps WHERE run_id = ? AND step > ?", arguments: [run.id!, resumingFromStep])
                try db.execute(sql: "DELETE FROM checkpoints WHERE run_id = ? AND step > ?", arguments: [run.id!, resumingFromStep])
                return run.id!
            }
            var run = Run(name: name, configPath: configPath, configHash: configHash)
            try run.insert(db)
            return run.id!
        }
    }

    /// Logged steps since the last flush, written in one transaction.
    public func record(steps: [StepRecord]) throws {
        guard !steps.isEmpty else { return }
        try manifest.writer.write { db in
            for r in steps {
                var row = TrainingStep(runId: runID, step: r.step, epoch: r.epoch, lr: r.lr, lossTotal: r.total, lossDeblur: r.deblur,
                                       lossCycle: r.cycle == 0 ? nil : r.cycle, lossReblur: r.reblur == 0 ? nil : r.reblur,
                                       seconds: r.seconds)
                try row.save(db)
            }
        }
    }

    public func record(checkpointStep step: Int, epoch: Int, path: String) throws {
        try manifest.writer.write { db in
            try db.execute(sql: "DELETE FROM checkpoints WHERE run_id = ? AND step = ?", arguments: [runID, step])
            var row = Checkpoint(runId: runID, step: step, epoch: epoch, path: path)
            try row.insert(db)
        }
    }

    public func finish(_ status: RunStatus) throws {
        try manifest.writer.write { db in
            try db.execute(sql: "UPDATE runs SET status = ?, updated_at = ? WHERE id = ?", arguments: [status.rawValue, Date(), runID])
        }
    }
}
