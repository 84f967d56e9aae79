import Foundation
import GRDB

/// Folding shard manifests into the main one (SQLite over NFS is not safe, so each job of a Slurm
/// array writes its own file). Rows are matched by what they are, never by id: a capture by (root, split,
/// name), a patch by its capture and (params_hash, x, y), a flow by its patch or capture and (direction,
/// params_hash), a stage item by (stage, params_hash, capture), a score by (capture, method, checkpoint,
/// target), a band score by (capture, method, checkpoint, band), a stage run by (stage, params_hash, started_at). A row that is new is inserted with fresh ids; a
/// row equal in content (times aside) is left alone; a row that differs is a conflict, reported by item and
/// not written, and the rows derived from a conflicting capture or patch are skipped with it. Merging the same
/// shard twice writes nothing the second time. Training tables (runs, checkpoints, steps) are not sharded and
/// not merged.
extension Manifest {
    public struct MergeReport: Sendable, Equatable, CustomStringConvertible {
        public struct TableCount: Sendable, Equatable {
            public var table: String
            public var inserted: Int
            public var unchanged: Int
            public var conflicts: Int
        }

        public var shard: String
        public var tables: [TableCount] = []
        /// One line per conflicting item: table, its natural key, and the columns that differ.
        public var conflicts: [String] = []

        public var description: String {
            var lines = ["merge \(shard): " + tables.map { "\($0.table) +\($0.inserted) =\($0.unchanged)" + ($0.conflicts > 0 ? " !\($0.conflicts)" : "") }
                .joined(separator: ", ")]
            lines += conflicts.map { "  conflict: \($0)" }
            return lines.joined(separator: "\n")
        }
    }

    /// How one table is matched: natural-key columns, foreign keys remapped through the parents' maps,
    /// columns never compared (times), and whether its own ids must be mapped for children.
    struct MergeTable {
        let name: String
        let keys: [String]
        /// column -> the temp map table translating the shard's ids into the main manifest's.
        let references: [(column: String, map: String)]
        let ignored: Set<String>
        /// Children refer to this table's rows: keep a shard id -> main id map.
        let mapName: String?
    }

    static let mergeOrder: [MergeTable] = [
        MergeTable(name: "captures", keys: ["root", "split", "name"], references: [], ignored: ["ingested_at"], mapName: "capture_map"),
        MergeTable(name: "patches", keys: ["params_hash", "x", "y"], references: [("capture_id", "capture_map")], ignored: [], mapName: "patch_map"),
        MergeTable(name: "stage_items", keys: ["stage", "params_hash"], references: [("capture_id", "capture_map")], ignored: ["finished_at"], mapName: nil),
        MergeTable(name: "flows", keys: ["direction", "params_hash"], references: [("patch_id", "patch_map"), ("capture_id", "capture_map")],
                   ignored: ["created_at"], mapName: nil),
        MergeTable(name: "evaluations", keys: ["method", "checkpoint_path", "target"], references: [("capture_id", "capture_map")],
                   ignored: ["created_at"], mapName: nil),
        MergeTable(name: "evaluation_bands", keys: ["method", "checkpoint_path", "band"], references: [("capture_id", "capture_map")],
                   ignored: ["created_at"], mapName: nil),
        MergeTable(name: "stage_runs", keys: ["stage", "params_hash", "started_at"], references: [], ignored: [], mapName: nil),
    ]

    /// Folds the manifest file at `shardPath` into this one, in one transaction. The shard is migrated to
    /// this build's schema first (it is opened like any manifest), so both have the same columns.
    public func merge(shardPath: String) throws -> MergeReport {
        guard FileManager.default.fileExists(atPath: shardPath) else { throw MergeError.missingShard(shardPath) }
        _ = try Manifest.open(path: shardPath)
        var report = MergeReport(shard: shardPath)
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS shard", arguments: [shardPath])
            defer { try? db.execute(sql: "DETACH DATABASE shard") }
            try db.inTransaction {
                for table in Self.mergeOrder {
                    if let map = table.mapName {
                        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS \(map) (shard_id INTEGER PRIMARY KEY, main_id INTEGER, conflict INTEGER NOT NULL)")
                        try db.execute(sql: "DELETE FROM temp.\(map)")
                    }
                    let (count, conflicts) = try Self.merge(table, db)
                    report.tables.append(count)
                    report.conflicts += conflicts
                }
                return .commit
            }
        }
        return report
    }

    /// One table: conflicts listed, new rows inserted, maps filled. Shard rows whose parent conflicted are dropped.
    private static func merge(_ table: MergeTable, _ db: Database) throws -> (MergeReport.TableCount, [String]) {
        let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, 'main')", arguments: [table.name]).map { $0["name"] as String }
        let shardColumns = Set(try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, 'shard')", arguments: [table.name]).map { $0["name"] as String })
        guard Set(columns) == shardColumns else { throw MergeError.schemaDiffers(table: table.name) }
        let referenced = Set(table.references.map(\.column))
        let content = columns.filter { $0 != "id" && !table.keys.contains($0) && !referenced.contains($0) && !table.ignored.contains($0) }

        // The shard's rows with their parents' ids in the main manifest (NULL stays NULL), minus orphans of conflicts.
        // (CAST: the temp table's column then has INTEGER affinity, as main's does, so the match can use its index.)
        let mapped = table.references.map { "CAST(CASE WHEN s.\($0.column) IS NULL THEN NULL ELSE (SELECT main_id FROM temp.\($0.map) WHERE shard_id = s.\($0.column)) END AS INTEGER) AS m_\($0.column)" }
        let blocked = table.references.map { "(s.\($0.column) IS NOT NULL AND coalesce((SELECT conflict FROM temp.\($0.map) WHERE shard_id = s.\($0.column)), 1) = 1)" }
        let source = "SELECT s.*" + mapped.map { ", " + $0 }.joined() + " FROM shard.\(table.name) s"
        let keep = blocked.isEmpty ? "1" : "NOT (" + blocked.joined(separator: " OR ") + ")"
        let match = (table.keys.map { "m.\($0) IS s.\($0)" } + table.references.map { "m.\($0.column) IS s.m_\($0.column)" }).joined(separator: " AND ")
        let differs = content.isEmpty ? "0" : content.map { "m.\($0) IS NOT s.\($0)" }.joined(separator: " OR ")
        // The shard's rows, with mapped parents, once into a temp table indexed by the match columns: the
        // joins below then probe it by index whichever side SQLite scans (the main tables' flow indexes are
        // partial, so a re-merge into a full manifest would otherwise compare every pair of rows).
        try db.execute(sql: "DROP TABLE IF EXISTS temp.incoming")
        try db.execute(sql: "CREATE TEMP TABLE incoming AS \(source) WHERE \(keep)")
        let matchColumns = table.keys + table.references.map { "m_\($0.column)" }
        try db.execute(sql: "CREATE INDEX temp.incoming_match ON incoming (\(matchColumns.joined(separator: ", ")))")
        let rows = "temp.incoming"

        // Every shard row that names an item main already has, found in one pass over main (CROSS JOIN keeps
        // main the outer loop, so each of its rows probes the index above).
        func matches() -> String {
            "SELECT s.rowid AS row, m.rowid AS main_id, \(table.mapName == nil ? "NULL" : "s.id") AS shard_id, CASE WHEN \(differs) THEN 1 ELSE 0 END AS conflict "
                + "FROM main.\(table.name) m CROSS JOIN \(rows) s ON \(match)"
        }
        try db.execute(sql: "DROP TABLE IF EXISTS temp.matched")
        try db.execute(sql: "CREATE TEMP TABLE matched AS \(matches())")

        // Conflicts: the same item, other content.
        let keyText = table.keys.map { "coalesce(s.\($0), 'NULL')" }.joined(separator: " || '/' || ")
        let conflictRows = try Row.fetchAll(db, sql: """
            SELECT \(keyText) AS item, \(content.isEmpty ? "''" : content.map { "CASE WHEN m.\($0) IS NOT s.\($0) THEN '\($0) ' ELSE '' END" }.joined(separator: " || ")) AS columns
            FROM temp.matched x JOIN \(rows) s ON s.rowid = x.row JOIN main.\(table.name) m ON m.rowid = x.main_id WHERE x.conflict = 1
            """)
        let unchanged = try Int.fetchOne(db, sql: "SELECT count(*) FROM temp.matched WHERE conflict = 0") ?? 0

        let insertColumns = columns.filter { $0 != "id" }
        let values = insertColumns.map { referenced.contains($0) ? "s.m_\($0)" : "s.\($0)" }
        try db.execute(sql: """
            INSERT INTO main.\(table.name) (\(insertColumns.joined(separator: ", ")))
            SELECT \(values.joined(separator: ", ")) FROM \(rows) s WHERE s.rowid NOT IN (SELECT row FROM temp.matched)
            """)
        let inserted = db.changesCount
        if let map = table.mapName {
            try db.execute(sql: "INSERT INTO temp.\(map) (shard_id, main_id, conflict) SELECT shard_id, main_id, conflict FROM (\(matches()))")
        }
        try db.execute(sql: "DROP TABLE temp.matched")
        try db.execute(sql: "DROP TABLE temp.incoming")
        let conflicts = conflictRows.map { row -> String in
            "\(table.name) \(row["item"] as String): \((row["columns"] as String).trimmingCharacters(in: .whitespaces).split(separator: " ").joined(separator: ", ")) differ"
        }
        return (MergeReport.TableCount(table: table.name, inserted: inserted, unchanged: unchanged, conflicts: conflicts.count), conflicts)
    }
}

public enum MergeError: Error, CustomStringConvertible {
    case missingShard(String)
    case schemaDiffers(table: String)
    public var description: String {
        switch self {
        case let .missingShard(path): return "\(path): no such shard manifest"
        case let .schemaDiffers(table): return "table \(table) has other columns in the shard than in the main manifest"
        }
    }
}
