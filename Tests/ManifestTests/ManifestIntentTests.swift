import Foundation
import GRDB
import Manifest
import Testing

/// The intent-named writes that replaced raw SQL in Training, Evaluation and jdrl-flow, and the
/// constraints of migrations v7 and v8.

@Test func reopeningARunForgetsStepsAndCheckpointsAfterTheResumePoint() throws {
    // Given a run with steps 1-3 and checkpoints at 2 and 3
    let manifest = try Manifest.inMemory()
    let id = try manifest.openRun(name: "r", configPath: "c.yaml", configHash: "h1", resumingFromStep: 0)
    try manifest.recordTrainingSteps((1...3).map { TrainingStep(runId: id, step: $0, epoch: 0, lr: 1e-4, lossTotal: 0.5, losses: ["deblur": 0.5], seconds: 1) })
    try manifest.recordCheckpoint(runID: id, step: 2, epoch: 0, path: "ck/2")
    try manifest.recordCheckpoint(runID: id, step: 3, epoch: 0, path: "ck/3")
    try manifest.finishRun(id: id, status: .stopped)
    #expect(try manifest.run(named: "r")?.status == .stopped)

    // When it is reopened from step 2 with another config hash
    let reopened = try manifest.openRun(name: "r", configPath: "c.yaml", configHash: "h2", resumingFromStep: 2)

    // Then it is the same run, running again, and holds one history up to step 2
    #expect(reopened == id)
    let run = try #require(try manifest.run(named: "r"))
    #expect(run.status == .running && run.configHash == "h2")
    #expect(try manifest.trainingSteps(runID: id).map(\.step) == [1, 2])
    #expect(try manifest.checkpoints(runID: id).map(\.path) == ["ck/2"])
    // A checkpoint of the same step replaces the earlier row
    try manifest.recordCheckpoint(runID: id, step: 2, epoch: 0, path: "ck/2-again")
    #expect(try manifest.checkpoints(runID: id).map(\.path) == ["ck/2-again"])
}

@Test func latestCheckpointPathsGiveEachRunsHighestStep() throws {
    let manifest = try Manifest.inMemory()
    let a = try manifest.openRun(name: "a", configPath: "a.yaml", configHash: "a", resumingFromStep: 0)
    let b = try manifest.openRun(name: "b", configPath: "b.yaml", configHash: "b", resumingFromStep: 0)
    try manifest.recordCheckpoint(runID: b, step: 5, epoch: 0, path: "b/5")
    try manifest.recordCheckpoint(runID: a, step: 20, epoch: 1, path: "a/20")
    try manifest.recordCheckpoint(runID: a, step: 10, epoch: 0, path: "a/10")
    #expect(try manifest.latestCheckpointPaths() == ["a/20", "b/5"])
}

@Test func replacingEvaluationsKeepsOneRowPerTargetAndMarksTheCaptureDone() throws {
    let manifest = try Manifest.inMemory()
    let capture = try manifest.register(okCapture("e.png", split: .test)).capture
    func rows(_ psnr: Double) -> [Evaluation] {
        [EvaluationTarget.gt, .deformedGt].map {
            Evaluation(method: "blurry_input", captureId: capture.id, imageName: "e.png", split: "test", target: $0, aligner: "dis",
                       bitDepth: 8, psnr: psnr, ssim: 0.8, mae: 0.02)
        }
    }
    _ = try manifest.replaceEvaluations(rows(20), of: capture, method: "blurry_input", checkpointPath: nil, stage: "eval", paramsHash: "p")
    _ = try manifest.replaceEvaluations(rows(21), of: capture, method: "blurry_input", checkpointPath: nil, stage: "eval", paramsHash: "p")
    let stored = try manifest.evaluations(captureIDs: [capture.id!], aligner: "dis")
    #expect(stored.map(\.psnr) == [21, 21])
    #expect(try manifest.evaluations(captureIDs: [capture.id!], aligner: "other").isEmpty)
    #expect(try manifest.pendingCaptures(stage: "eval", paramsHash: "p").isEmpty)

    // The schema itself refuses a second row for the same key (v8)
    let queue = try DatabaseQueue()
    let guarded = try Manifest(queue)
    let other = try guarded.register(okCapture("f.png", split: .test)).capture
    try queue.write { db in
        var row = Evaluation(method: "checkpoint", checkpointPath: nil, captureId: other.id, imageName: "f.png", split: "test",
                             target: .gt, bitDepth: 8, psnr: 20, ssim: 0.8, mae: 0.02)
        try row.insert(db)
        var twin = row
        twin.id = nil
        #expect(throws: DatabaseError.self) { try twin.insert(db) }
        twin.target = .deformedGt
        try twin.insert(db)
    }
}

@Test func v8KeepsTheNewestOfDuplicateEvaluations() throws {
    // Given a v7 manifest holding the same score twice (an older jdrl-eval killed between writes)
    let queue = try DatabaseQueue()
    try ManifestSchema.migrator.migrate(queue, upTo: "v7-flows-direction-check")
    try queue.write { db in
        try db.execute(sql: """
            INSERT INTO captures (root, name, split, layout, blurry_path, sharp_path, width, height, bit_depth, blurry_hash, sharp_hash, status, ingested_at)
            VALUES ('/r', 'a', 'test', 'generic', 'a_b.png', 'a_s.png', 8, 8, 8, 'b', 's', 'ok', '2026-01-01 00:00:00.000');
            """)
        for psnr in [20.0, 22.0] {
            try db.execute(sql: """
                INSERT INTO evaluations (method, capture_id, image_name, split, target, bit_depth, psnr, ssim, mae, created_at)
                VALUES ('blurry_input', 1, 'a', 'test', 'gt', 8, ?, 0.7, 0.03, '2026-01-01 00:00:00.000')
                """, arguments: [psnr])
        }
    }
    // When migrated, then the later row is the one kept
    try ManifestSchema.migrator.migrate(queue)
    #expect(try queue.read { try Double.fetchAll($0, sql: "SELECT psnr FROM evaluations") } == [22])
}

@Test func flowRowsNeedAKnownDirectionAndReplaceTheirPredecessor() throws {
    let queue = try DatabaseQueue()
    let manifest = try Manifest(queue)
    let capture = try manifest.register(okCapture("a.png")).capture
    let patchRow = try manifest.replacePatches([patch(x: 0, y: 0)], for: capture, paramsHash: "p")[0]
    func record(_ direction: String, _ path: String) -> FlowRecord {
        FlowRecord(patchId: patchRow.id, captureId: capture.id, direction: direction, flowPath: path, paramsHash: "f")
    }
    try manifest.replaceFlows([record("blurry_to_sharp", "1.flo"), record("sharp_to_blurry", "2.flo")])
    try manifest.replaceFlows([record("blurry_to_sharp", "3.flo")])
    #expect(try manifest.flows(paramsHash: "f").map(\.flowPath) == ["2.flo", "3.flo"])
    #expect(try manifest.flows(paramsHash: "f", direction: "blurry_to_sharp").map(\.flowPath) == ["3.flo"])
    #expect(try manifest.flows(paramsHash: "f", patchID: patchRow.id, captureID: capture.id).count == 2)
    let training = try manifest.trainingPatches(split: "train")
    #expect(training.count == 1 && training[0].blurryToSharp?.flowPath == "3.flo" && training[0].sharpToBlurry?.flowPath == "2.flo")

    // v7: a misspelt direction is refused by the schema
    #expect(throws: DatabaseError.self) { try manifest.replaceFlows([record("blurry_to_shrap", "4.flo")]) }
    #expect(try queue.read { try FlowRecord.fetchCount($0) } == 2)
}
