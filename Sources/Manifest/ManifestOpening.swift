import Foundation
import GRDB
import StageSupport

/// Why a manifest file could not be opened, naming the file. Stages report it in one line (exit 65, bad data)
/// instead of a database error dump: the file is the user's to fix, move aside or open with the
/// build that wrote it.
public struct ManifestOpenError: InputError {
    public let path: String
    public let reason: String
    public var description: String { "manifest \(path): \(reason)" }
}

extension Manifest {
    /// Migrations a newer build applied that this build does not know. Such a manifest is refused, not
    /// migrated: this build's SQL would not know the newer tables' rules.
    static func unknownMigrations(in reader: any DatabaseReader) throws -> [String] {
        let known = Set(ManifestSchema.migrator.migrations)
        return try reader.read { db in
            guard try db.tableExists("grdb_migrations") else { return [] }
            return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier").filter { !known.contains($0) }
        }
    }

    /// Turns what SQLite says about a damaged file into a sentence a user can act on.
    static func explain(_ error: Error, path: String) -> ManifestOpenError {
        guard let database = error as? DatabaseError else { return ManifestOpenError(path: path, reason: "\(error)") }
        switch database.resultCode {
        case .SQLITE_NOTADB:
            return ManifestOpenError(path: path, reason: "not a SQLite database (the file is damaged or is something else); move it aside and re-run the stages to rebuild it")
        case .SQLITE_CORRUPT:
            return ManifestOpenError(path: path, reason: "the database is corrupt (\(database.message ?? "malformed")); restore a copy or move it aside and re-run the stages")
        default:
            return ManifestOpenError(path: path, reason: "cannot open (\(database.message ?? "\(database.resultCode)"))")
        }
    }
}
