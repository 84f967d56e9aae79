import Foundation
import GRDB

/// The shared SQLite manifest: one type owns the connection, migrates on open, and offers
/// intent-named operations, each one transaction (a killed stage leaves no half-written row).
/// A file manifest is a WAL-mode `DatabasePool` (readers never block the writer; several stage
/// processes on one machine can share it); tests use an in-memory `DatabaseQueue`.
public struct Manifest: Sendable {
    /// The connection. Writes go through the intent-named methods of this type only, each one
    /// transaction, so no stage can leave the manifest half-updated or bypass its rules.
    let writer: any DatabaseWriter
    /// Read-only access for queries the methods here do not offer (reports, tests).
    public var reader: any DatabaseReader { writer }

    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try ManifestSchema.migrator.migrate(writer)
    }

    /// Opens (creating if needed, with its folder) a manifest file in WAL mode and migrates it.
    public static func open(path: String) throws -> Manifest {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)  // other shards may hold the write lock for a moment
        let pool: DatabasePool
        let unknown: [String]
        do {
            pool = try DatabasePool(path: url.path, configuration: configuration)
            unknown = try unknownMigrations(in: pool)
        } catch { throw explain(error, path: path) }
        if !unknown.isEmpty {
            throw ManifestOpenError(path: path, reason: "written by a newer jdrl (schema migrations \(unknown.joined(separator: ", ")) unknown to this build, "
                                    + "whose newest is \(ManifestSchema.migrator.migrations.last ?? "none")); open it with that build or a newer one")
        }
        do { return try Manifest(pool) } catch { throw explain(error, path: path) }
    }

    public static func inMemory() throws -> Manifest {
        try Manifest(DatabaseQueue())
    }
}

// MARK: - Captures

extension Manifest {
    /// What `register` did with a capture.
    public enum Registration: Equatable, Sendable {
        case inserted(Capture)
        /// Content or status changed: the row was updated and everything derived from it (patches,
        /// stage items, flows) deleted, so later stages redo it.
        case updated(Capture)
        /// Same hashes and status as the stored row: nothing written.
        case unchanged(Capture)

        public var capture: Capture {
            switch self { case let .inserted(c), let .updated(c), let .unchanged(c): return c }
        }
    }

    public func capture(root: String, split: Split, name: String) throws -> Capture? {
        try reader.read { db in
            try Capture.filter(Column("root") == root && Column("split") == split.rawValue && Column("name") == name).fetchOne(db)
        }
    }

    public func capture(id: Int64) throws -> Capture? {
        try reader.read { db in try Capture.fetchOne(db, key: id) }
    }

    /// Inserts a capture (ok or rejected) or updates the stored one with the same (root, split, name).
    public func register(_ capture: Capture) throws -> Registration {
        try writer.write { db in
            var incoming = capture
            guard let stored = try Capture.filter(Column("root") == capture.root && Column("split") == capture.split.rawValue
                                                  && Column("name") == capture.name).fetchOne(db) else {
                incoming.id = nil
                try incoming.insert(db)
                return .inserted(incoming)
            }
            let same = stored.blurryHash == incoming.blurryHash && stored.sharpHash == incoming.sharpHash
                && stored.status == incoming.status && stored.reason == incoming.reason
                && stored.blurryPath == incoming.blurryPath && stored.sharpPath == incoming.sharpPath
            if same { return .unchanged(stored) }
            incoming.id = stored.id
            try incoming.update(db)
            // Derived data describes the old content: drop it so later stages redo this capture.
            try db.execute(sql: "DELETE FROM patches WHERE capture_id = ?", arguments: [stored.id])
            try db.execute(sql: "DELETE FROM stage_items WHERE capture_id = ?", arguments: [stored.id])
            try db.execute(sql: "DELETE FROM flows WHERE capture_id = ?", arguments: [stored.id])
            return .updated(incoming)
        }
    }

    /// All captures, optionally only those with one status, in id order.
    public func captures(status: CaptureStatus? = nil) throws -> [Capture] {
        try reader.read { db in
            var request = Capture.order(Column("id"))
            if let status { request = request.filter(Column("status") == status.rawValue) }
            return try request.fetchAll(db)
        }
    }
}

// MARK: - Stage bookkeeping

extension Manifest {
    /// Ok captures that `stage` with `paramsHash` has not finished for their current content.
    public func pendingCaptures(stage: String, paramsHash: String) throws -> [Capture] {
        try reader.read { db in
            try Capture.fetchAll(db, sql: """
                SELECT c.* FROM captures c
                WHERE c.status = 'ok' AND NOT EXISTS (
                    SELECT 1 FROM stage_items s
                    WHERE s.capture_id = c.id AND s.stage = ? AND s.params_hash = ?
                      AND s.input_hash = c.blurry_hash || ':' || c.sharp_hash)
                ORDER BY c.id
                """, arguments: [stage, paramsHash])
        }
    }

    /// Replaces a capture's patches for one parameter set and marks the capture done for the tile
    /// stage, in one transaction. Returns the inserted rows (with ids).
    @discardableResult
    public func replacePatches(_ patches: [Patch], for capture: Capture, paramsHash: String, stage: String = "tile") throws -> [Patch] {
        guard let captureID = capture.id else { throw ManifestError.unsavedCapture(name: capture.name) }
        return try writer.write { db in
            try db.execute(sql: "DELETE FROM patches WHERE capture_id = ? AND params_hash = ?", arguments: [captureID, paramsHash])
            let owned = patches.map { patch -> Patch in
                var patch = patch
                patch.id = nil
                patch.captureId = captureID
                patch.paramsHash = paramsHash
                return patch
            }
            return try Self.insert(owned, finishing: capture, id: captureID, stage: stage, paramsHash: paramsHash, db)
        }
    }

    /// Inserts a capture's new rows and marks the capture done by `stage` with `paramsHash` for its current
    /// content (the stage's idempotence record), inside the caller's transaction. Returns the rows with ids.
    static func insert<Row: MutablePersistableRecord>(_ rows: [Row], finishing capture: Capture, id captureID: Int64, stage: String,
                                                      paramsHash: String, _ db: Database) throws -> [Row] {
        var inserted: [Row] = []
        inserted.reserveCapacity(rows.count)
        for var row in rows {
            try row.insert(db)
            inserted.append(row)
        }
        var done = StageItem(stage: stage, paramsHash: paramsHash, captureId: captureID, inputHash: capture.contentHash,
                             outputCount: inserted.count)
        try done.upsert(db)
        return inserted
    }

    public func patches(captureID: Int64? = nil, paramsHash: String? = nil, keptOnly: Bool = false) throws -> [Patch] {
        try reader.read { db in
            var request = Patch.order(Column("id"))
            if let captureID { request = request.filter(Column("capture_id") == captureID) }
            if let paramsHash { request = request.filter(Column("params_hash") == paramsHash) }
            if keptOnly { request = request.filter(Column("kept") == true) }
            return try request.fetchAll(db)
        }
    }

    public func beginStageRun(stage: String, paramsHash: String) throws -> StageRun {
        try writer.write { db in
            var run = StageRun(stage: stage, paramsHash: paramsHash)
            try run.insert(db)
            return run
        }
    }

    public func finishStageRun(_ run: StageRun) throws {
        var finished = run
        finished.finishedAt = Date()
        try writer.write { db in try finished.update(db) }
    }

    public struct Counts: Equatable, Sendable, CustomStringConvertible {
        public var capturesOK = 0
        public var capturesRejected = 0
        public var patchesKept = 0
        public var patchesDropped = 0
        public init(capturesOK: Int = 0, capturesRejected: Int = 0, patchesKept: Int = 0, patchesDropped: Int = 0) {
            self.capturesOK = capturesOK
            self.capturesRejected = capturesRejected
            self.patchesKept = patchesKept
            self.patchesDropped = patchesDropped
        }
        public var description: String {
            "captures: \(capturesOK) ok, \(capturesRejected) rejected; patches: \(patchesKept) kept, \(patchesDropped) dropped"
        }
    }

    public func counts() throws -> Counts {
        try reader.read { db in
            var counts = Counts()
            counts.capturesOK = try Int.fetchOne(db, sql: "SELECT count(*) FROM captures WHERE status = 'ok'") ?? 0
            counts.capturesRejected = try Int.fetchOne(db, sql: "SELECT count(*) FROM captures WHERE status = 'rejected'") ?? 0
            counts.patchesKept = try Int.fetchOne(db, sql: "SELECT count(*) FROM patches WHERE kept") ?? 0
            counts.patchesDropped = try Int.fetchOne(db, sql: "SELECT count(*) FROM patches WHERE NOT kept") ?? 0
            return counts
        }
    }
}

public enum ManifestError: Error, CustomStringConvertible {
    case unsavedCapture(name: String)
    public var description: String {
        switch self {
        case let .unsavedCapture(name): return "capture \(name) has no id: register it before adding patches"
        }
    }
}
