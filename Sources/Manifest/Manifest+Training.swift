import Foundation
import GRDB

// MARK: - Training runs: `runs`, `checkpoints`, `training_steps`

extension Manifest {
    /// Registers the run named `name` (or reopens it, marked running with the config given) and returns
    /// its id. A resumed run forgets the steps and checkpoints after `resumingFromStep`, so the tables
    /// never hold two histories of one step.
    public func openRun(name: String, configPath: String, configHash: String, resumingFromStep: Int) throws -> Int64 {
        try writer.write { db -> Int64 in
            guard var run = try Run.filter(Column("name") == name).fetchOne(db), let id = run.id else {
                var run = Run(name: name, configPath: configPath, configHash: configHash)
                try run.insert(db)
                return run.id!
            }
            run.configPath = configPath
            run.configHash = configHash
            run.status = .running
            run.updatedAt = Date()
            try run.update(db)
            try TrainingStep.filter(Column("run_id") == id && Column("step") > resumingFromStep).deleteAll(db)
            try Checkpoint.filter(Column("run_id") == id && Column("step") > resumingFromStep).deleteAll(db)
            return id
        }
    }

    /// Logged steps, inserted (or replaced whole, same run and step) in one transaction. A term a step
    /// names that the table has no `loss_<name>` column for is refused with SQLite's message.
    public func recordTrainingSteps(_ steps: [TrainingStep]) throws {
        guard !steps.isEmpty else { return }
        try writer.write { db in
            for var row in steps { try row.insert(db, onConflict: .replace) }
        }
    }

    /// A checkpoint written to disk; a checkpoint of the same run and step recorded before is replaced.
    public func recordCheckpoint(runID: Int64, step: Int, epoch: Int, path: String) throws {
        try writer.write { db in
            try Checkpoint.filter(Column("run_id") == runID && Column("step") == step).deleteAll(db)
            var row = Checkpoint(runId: runID, step: step, epoch: epoch, path: path)
            try row.insert(db)
        }
    }

    public func finishRun(id: Int64, status: RunStatus) throws {
        try writer.write { db in
            guard var run = try Run.fetchOne(db, key: id) else { return }
            run.status = status
            run.updatedAt = Date()
            try run.update(db)
        }
    }

    public func run(named name: String) throws -> Run? {
        try reader.read { db in try Run.filter(Column("name") == name).fetchOne(db) }
    }

    public func trainingSteps(runID: Int64) throws -> [TrainingStep] {
        try reader.read { db in try TrainingStep.filter(Column("run_id") == runID).order(Column("step")).fetchAll(db) }
    }

    public func checkpoints(runID: Int64) throws -> [Checkpoint] {
        try reader.read { db in try Checkpoint.filter(Column("run_id") == runID).order(Column("step")).fetchAll(db) }
    }

    /// The path of each run's highest-step checkpoint, in run order.
    public func latestCheckpointPaths() throws -> [String] {
        try reader.read { db in
            let newest = try Checkpoint.order(Column("run_id"), Column("step").desc).fetchAll(db)
            var seen = Set<Int64>()
            return newest.filter { seen.insert($0.runId).inserted }.map(\.path)
        }
    }
}

// MARK: - Evaluations

extension Manifest {
    /// Replaces the rows of one (capture, method, checkpoint), and its blur-band sums, and marks the
    /// capture done for `stage` with `paramsHash`, in one transaction. Returns the inserted rows (with ids).
    public func replaceEvaluations(_ rows: [Evaluation], bands: [EvaluationBandScore] = [], of capture: Capture, method: String,
                                   checkpointPath: String?, stage: String, paramsHash: String) throws -> [Evaluation] {
        guard let captureID = capture.id else { throw ManifestError.unsavedCapture(name: capture.name) }
        return try writer.write { db in
            // GRDB turns `== nil` into IS NULL: the blurry-input rows (no checkpoint) match too.
            try Evaluation.filter(Column("capture_id") == captureID && Column("method") == method
                                  && Column("checkpoint_path") == checkpointPath).deleteAll(db)
            try EvaluationBandScore.filter(Column("capture_id") == captureID && Column("method") == method
                                           && Column("checkpoint_path") == checkpointPath).deleteAll(db)
            for var band in bands { try band.insert(db) }
            return try Self.insert(rows, finishing: capture, id: captureID, stage: stage, paramsHash: paramsHash, db)
        }
    }

    /// The stored scores of these captures measured with `aligner`.
    /// Every stored score of these captures, in the order they were stored.
    public func evaluations(captureIDs: [Int64]) throws -> [Evaluation] {
        try reader.read { db in
            try Evaluation.filter(captureIDs.contains(Column("capture_id"))).order(Column("id")).fetchAll(db)
        }
    }

    public func evaluations(captureIDs: [Int64], aligner: String) throws -> [Evaluation] {
        try reader.read { db in
            try Evaluation.filter(captureIDs.contains(Column("capture_id")) && Column("aligner") == aligner).fetchAll(db)
        }
    }
}
