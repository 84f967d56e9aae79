import Foundation
import GRDB
import Testing
import Manifest

func okCapture(_ name: String, split: Split = .train, blurryHash: String = "b1", sharpHash: String = "s1") -> Capture {
    Capture(root: "/data/sdd", name: name, split: split, layout: .sdd, blurryPath: "/data/sdd/blur/\(name)",
            sharpPath: "/data/sdd/gt/\(name)", width: 1024, height: 540, bitDepth: 8, blurryHash: blurryHash,
            sharpHash: sharpHash, status: .ok)
}

func patch(x: Int, y: Int) -> Patch {
    Patch(captureId: 0, split: .train, blurryPath: "b_\(x)_\(y).png", sharpPath: "s_\(x)_\(y).png", x: x, y: y, size: 512,
          scale: 0.5, protocol: .sdd, sharpness: 0.01, kept: true, paramsHash: "p")
}

@Test func migrationsCreateEveryTable() throws {
    let manifest = try Manifest.inMemory()
    let tables = try manifest.reader.read { db in
        try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
    }
    #expect(tables == ["captures", "checkpoints", "evaluation_bands", "evaluations", "flows", "patches", "runs", "stage_items", "stage_runs", "training_steps"])
}

@Test func registeringTheSameCaptureTwiceWritesOnce() throws {
    // Given an empty manifest
    let manifest = try Manifest.inMemory()
    // When the same pair is registered twice
    let first = try manifest.register(okCapture("a.png"))
    let second = try manifest.register(okCapture("a.png"))
    // Then one row exists and the second call reports "unchanged"
    guard case .inserted(let inserted) = first else { Issue.record("expected insert, got \(first)"); return }
    guard case .unchanged(let stored) = second else { Issue.record("expected unchanged, got \(second)"); return }
    #expect(stored.id == inserted.id && stored.contentHash == inserted.contentHash)
    #expect(try manifest.captures().count == 1)
}

@Test func changedContentUpdatesTheRowAndDropsDerivedPatches() throws {
    let manifest = try Manifest.inMemory()
    let capture = try manifest.register(okCapture("a.png")).capture
    try manifest.replacePatches([patch(x: 0, y: 0), patch(x: 256, y: 0)], for: capture, paramsHash: "p")
    #expect(try manifest.pendingCaptures(stage: "tile", paramsHash: "p").isEmpty)

    // When the blurry file's content changes
    let result = try manifest.register(okCapture("a.png", blurryHash: "b2"))
    // Then the same row is updated, its patches are gone and the tile stage must redo it
    guard case .updated(let updated) = result else { Issue.record("expected update, got \(result)"); return }
    #expect(updated.id == capture.id)
    #expect(try manifest.patches().isEmpty)
    #expect(try manifest.pendingCaptures(stage: "tile", paramsHash: "p").map(\.id) == [capture.id])
}

@Test func rejectedCapturesKeepTheirReasonAndAreNeverPending() throws {
    let manifest = try Manifest.inMemory()
    let rejected = Capture(root: "/in", name: "x", split: .test, layout: .generic, blurryPath: "/in/x_blur.png",
                           sharpPath: "/in/x_sharp.png", status: .rejected, reason: "missing partner: /in/x_sharp.png")
    _ = try manifest.register(rejected)
    _ = try manifest.register(okCapture("b.png"))
    let stored = try #require(try manifest.capture(root: "/in", split: .test, name: "x"))
    #expect(stored.status == .rejected)
    #expect(stored.reason == "missing partner: /in/x_sharp.png")
    #expect(try manifest.pendingCaptures(stage: "tile", paramsHash: "p").map(\.name) == ["b.png"])
    #expect(try manifest.counts() == Manifest.Counts(capturesOK: 1, capturesRejected: 1, patchesKept: 0, patchesDropped: 0))
}

@Test func schemaRefusesAnOkCaptureWithoutHashesOrARejectionWithoutReason() throws {
    let manifest = try Manifest.inMemory()
    var noHash = okCapture("c.png"); noHash.blurryHash = nil
    #expect(throws: DatabaseError.self) { try manifest.register(noHash) }
    let noReason = Capture(root: "/in", name: "y", split: .train, layout: .generic, blurryPath: "a", sharpPath: "b", status: .rejected)
    #expect(throws: DatabaseError.self) { try manifest.register(noReason) }
}

@Test func patchesForACaptureAreReplacedAtomically() throws {
    let manifest = try Manifest.inMemory()
    let capture = try manifest.register(okCapture("a.png")).capture
    try manifest.replacePatches([patch(x: 0, y: 0), patch(x: 256, y: 0)], for: capture, paramsHash: "p")
    var dropped = patch(x: 512, y: 0); dropped.kept = false; dropped.blurryPath = nil; dropped.sharpPath = nil
    let rows = try manifest.replacePatches([patch(x: 0, y: 0), dropped], for: capture, paramsHash: "p")
    #expect(rows.allSatisfy { $0.id != nil && $0.captureId == capture.id })
    #expect(try manifest.patches(captureID: capture.id).map(\.x) == [0, 512])
    #expect(try manifest.patches(keptOnly: true).count == 1)
    #expect(try manifest.counts().patchesDropped == 1)

    // A failing insert (duplicate origin) rolls the whole replacement back.
    #expect(throws: DatabaseError.self) {
        try manifest.replacePatches([patch(x: 7, y: 7), patch(x: 7, y: 7)], for: capture, paramsHash: "p")
    }
    #expect(try manifest.patches(captureID: capture.id).map(\.x) == [0, 512])
}

@Test func stageRunsRecordTheirCounts() throws {
    let manifest = try Manifest.inMemory()
    var run = try manifest.beginStageRun(stage: "tile", paramsHash: "p")
    run.itemsDone = 3; run.outputs = 12
    try manifest.finishStageRun(run)
    let stored = try manifest.reader.read { db in try StageRun.fetchAll(db) }
    #expect(stored.count == 1)
    #expect(stored[0].itemsDone == 3 && stored[0].outputs == 12 && stored[0].finishedAt != nil)
}

@Test func laterStageTablesAcceptTheirRows() throws {
    // The test keeps the connection it hands over: writes the Manifest API does not offer go to it directly.
    let queue = try DatabaseQueue()
    let manifest = try Manifest(queue)
    let capture = try manifest.register(okCapture("a.png")).capture
    let patchRow = try manifest.replacePatches([patch(x: 0, y: 0)], for: capture, paramsHash: "p")[0]
    try queue.write { db in
        var flow = FlowRecord(patchId: patchRow.id, direction: "blurry_to_sharp", flowPath: "f.flo", zoom: 1.01, paramsHash: "f")
        try flow.insert(db)
        var duplicate = flow; duplicate.id = nil
        #expect(throws: DatabaseError.self) { try duplicate.insert(db) }
        var run = Run(name: "unet-cpu", configPath: "configs/train/unet-cpu.yaml", configHash: "c")
        try run.insert(db)
        var checkpoint = Checkpoint(runId: run.id!, step: 100, epoch: 1, path: "runs/unet-cpu/step100.ckpt")
        try checkpoint.insert(db)
        var step = TrainingStep(runId: run.id!, step: 1, epoch: 0, lr: 2e-5, lossTotal: 0.1, losses: ["deblur": 0.1], seconds: 2.2)
        try step.insert(db)
        var evaluation = Evaluation(method: "checkpoint", checkpointPath: checkpoint.path, captureId: capture.id, imageName: "a.png",
                                    split: "test", target: .deformedGt, aligner: "dis", bitDepth: 8, psnr: 25.1, ssim: 0.78, mae: 0.03)
        try evaluation.insert(db)
    }
    let evaluation = try manifest.reader.read { db in try Evaluation.fetchOne(db) }
    #expect(evaluation?.target == .deformedGt)
    let targetText = try manifest.reader.read { db in try String.fetchOne(db, sql: "SELECT target FROM evaluations") }
    #expect(targetText == "deformed_gt")
}

@Test func fileManifestRunsInWALMode() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-manifest-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let manifest = try Manifest.open(path: folder.appendingPathComponent("m.sqlite").path)
    let mode = try manifest.reader.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
    #expect(mode == "wal")
    _ = try manifest.register(okCapture("a.png"))
    #expect(try Manifest.open(path: folder.appendingPathComponent("m.sqlite").path).captures().count == 1)
}

@Test func contentHashIsStableAcrossChunkBoundaries() throws {
    let bytes = Data((0..<10_007).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-hash-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("f.bin")
    try bytes.write(to: url)
    #expect(try ContentHash.of(fileAt: url) == ContentHash.of(bytes))
    #expect(ContentHash.of(bytes).count == 16)
    #expect(ContentHash.of(Data()) != ContentHash.of(Data([0])))
    var changed = bytes; changed[5000] ^= 1
    #expect(ContentHash.of(changed) != ContentHash.of(bytes))
}

@Test func colourColumnsArriveByMigrationOnAnOlderManifest() throws {
    // Given a manifest created before the colour migrations, with one flow and one evaluation row,
    let queue = try DatabaseQueue()
    try ManifestSchema.migrator.migrate(queue, upTo: "v3-runs-checkpoints-steps-evaluations")
    try queue.write { db in
        try db.execute(sql: """
            INSERT INTO captures (root, name, split, layout, blurry_path, sharp_path, width, height, bit_depth, blurry_hash, sharp_hash, status, ingested_at)
            VALUES ('/d', 'a.png', 'test', 'sdd', '/d/b', '/d/s', 8, 8, 8, 'b', 's', 'ok', '2026-01-01 00:00:00.000');
            INSERT INTO flows (capture_id, direction, flow_path, params_hash, created_at) VALUES (1, 'blurry_to_sharp', 'f.flo', 'f', '2026-01-01 00:00:00.000');
            INSERT INTO evaluations (method, capture_id, image_name, split, target, bit_depth, psnr, ssim, mae, created_at)
            VALUES ('blurry_input', 1, 'a.png', 'test', 'gt', 8, 24.0, 0.7, 0.03, '2026-01-01 00:00:00.000');
            """)
    }
    // when it is opened (migrated to the newest schema),
    let manifest = try Manifest(queue)
    // then the old rows read with no colour, and new values round-trip.
    var flow = try #require(try manifest.reader.read { try FlowRecord.fetchOne($0) })
    #expect(flow.colourMap == nil && flow.colourResidual == nil)
    flow.setColourMap(gain: [1.1, 1.0, 0.9], offset: [0.01, 0, -0.02], space: "linear", residual: 0.003)
    try queue.write { try flow.update($0) }
    let stored = try #require(try manifest.reader.read { try FlowRecord.fetchOne($0) })
    #expect(stored.colourMap?.gain == [1.1, 1.0, 0.9] && stored.colourMap?.offset == [0.01, 0, -0.02] && stored.colourMap?.space == "linear")
    let old = try #require(try manifest.reader.read { try Evaluation.fetchOne($0) })
    #expect(old.largestColourError == nil && old.psnrColourCorrected == nil)
    try queue.write { db in
        var row = Evaluation(method: "blurry_input", captureId: 1, imageName: "a.png", split: "test", target: .deformedGt,
                             bitDepth: 8, psnr: 24.5, ssim: 0.7, mae: 0.03, colourError: [0.01, -0.03, 0.002], psnrColourCorrected: 25.9)
        try row.insert(db)
        // The schema refuses a non-positive gain.
        var bad = stored; bad.colourGainG = 0
        #expect(throws: DatabaseError.self) { try bad.update(db) }
        var badSpace = stored; badSpace.colourSpace = "lab"
        #expect(throws: DatabaseError.self) { try badSpace.update(db) }
    }
    let new = try #require(try manifest.reader.read { try Evaluation.filter(Column("target") == "deformed_gt").fetchOne($0) })
    #expect(new.largestColourError == 0.03 && new.psnrColourCorrected == 25.9)
}

@Test func v6KeepsEvaluationRowsAndWidensTheTargets() throws {
    // Given a manifest at v3 with one evaluation row
    let queue = try DatabaseQueue()
    try ManifestSchema.migrator.migrate(queue, upTo: "v3-runs-checkpoints-steps-evaluations")
    func insert(_ db: Database, _ target: String) throws {
        try db.execute(sql: """
            INSERT INTO evaluations (method, image_name, split, target, bit_depth, psnr, ssim, mae, created_at)
            VALUES ('blurry_input', 'a.png', 'test', ?, 8, 25.5, 0.8, 0.03, '2026-01-01 00:00:00.000')
            """, arguments: [target])
    }
    try queue.write { db in
        try insert(db, "gt")
        #expect(throws: DatabaseError.self) { try insert(db, "aligned_sharp") }
        // A column another migration may have added before v6 (the rebuild keeps whatever is there).
        try db.execute(sql: "ALTER TABLE evaluations ADD COLUMN extra REAL; UPDATE evaluations SET extra = 7")
    }
    // When migrated: the row is kept, the synthesised-capture targets are accepted, others still refused
    try ManifestSchema.migrator.migrate(queue)
    try queue.write { db in
        #expect(try Double.fetchAll(db, sql: "SELECT psnr FROM evaluations") == [25.5])
        #expect(try Double.fetchAll(db, sql: "SELECT extra FROM evaluations") == [7])
        try insert(db, "aligned_sharp")
        try insert(db, "aligned_sharp_defocused")
        #expect(throws: DatabaseError.self) { try insert(db, "sharpish") }
        #expect(try Evaluation.fetchAll(db).map(\.target) == [.gt, .alignedSharp, .alignedSharpDefocused])
        #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE name = 'evaluations_by_method'") == 1)
    }
}
