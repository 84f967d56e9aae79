import Foundation
import GRDB

// MARK: - Flows

extension Manifest {
    /// The two directions a flow row can have (the schema's CHECK lists the same).
    public static let flowDirections = ["blurry_to_sharp", "sharp_to_blurry"]

    /// Flow rows of one parameter set, optionally of one direction, in id order.
    public func flows(paramsHash: String, direction: String? = nil) throws -> [FlowRecord] {
        try reader.read { db in
            var request = FlowRecord.filter(Column("params_hash") == paramsHash)
            if let direction { request = request.filter(Column("direction") == direction) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    /// Flow rows of one item for one parameter set: a patch's, or (no patch) a whole capture's.
    public func flows(paramsHash: String, patchID: Int64?, captureID: Int64?) throws -> [FlowRecord] {
        try reader.read { db in
            let owner = patchID.map { Column("patch_id") == $0 } ?? (Column("capture_id") == captureID && Column("patch_id") == nil)
            return try FlowRecord.filter(Column("params_hash") == paramsHash).filter(owner).order(Column("id")).fetchAll(db)
        }
    }

    /// Stores one item's flow rows (one per direction), replacing rows of the same owner, direction and
    /// parameters, in one transaction. Returns them with their ids.
    @discardableResult
    public func replaceFlows(_ records: [FlowRecord]) throws -> [FlowRecord] {
        try writer.write { db in
            var stored: [FlowRecord] = []
            for var record in records {
                let owner = record.patchId.map { Column("patch_id") == $0 }
                    ?? (Column("patch_id") == nil && Column("capture_id") == record.captureId)
                try FlowRecord.filter(owner && Column("direction") == record.direction && Column("params_hash") == record.paramsHash)
                    .deleteAll(db)
                try record.insert(db)
                stored.append(record)
            }
            return stored
        }
    }

    /// Writes changed columns (e.g. a colour fit filled in) of existing flow rows, in one transaction.
    public func updateFlows(_ records: [FlowRecord]) throws {
        try writer.write { db in for record in records { try record.update(db) } }
    }

    /// A kept patch with both files, and its newest flow row per direction (nil where none exists).
    public struct PatchWithFlows: Sendable {
        public var patch: Patch
        public var blurryToSharp: FlowRecord?
        public var sharpToBlurry: FlowRecord?
    }

    /// What training reads: the kept patches of `split` that have both files, in id order, each with the
    /// flows most recently written for it (by creation time, then id: a rerun with other parameters wins).
    public func trainingPatches(split: String) throws -> [PatchWithFlows] {
        try reader.read { db in
            let patches = try Patch
                .filter(Column("split") == split && Column("kept") == true
                        && Column("blurry_path") != nil && Column("sharp_path") != nil)
                .order(Column("id")).fetchAll(db)
            let flows = try FlowRecord.filter(Column("patch_id") != nil).order(Column("created_at"), Column("id")).fetchAll(db)
            var newest: [String: FlowRecord] = [:]
            for flow in flows { newest["\(flow.patchId!):\(flow.direction)"] = flow }  // later rows win
            return patches.compactMap { patch in
                guard let id = patch.id else { return nil }
                return PatchWithFlows(patch: patch, blurryToSharp: newest["\(id):blurry_to_sharp"], sharpToBlurry: newest["\(id):sharp_to_blurry"])
            }
        }
    }
}
