import Foundation
import GRDB

/// What a manifest holds, stage by stage: what is done, what is pending, what was rejected and why.
/// Read-only; `jdrl-manifest status` prints it for a user watching a long run.
public struct ManifestStatus: Sendable, Equatable {
    public struct SplitCount: Sendable, Equatable {
        public var split: String
        public var ok: Int
        public var rejected: Int
    }

    public struct ReasonCount: Sendable, Equatable {
        public var reason: String
        public var count: Int
    }

    /// The newest invocation of a stage (stage_runs).
    public struct LastRun: Sendable, Equatable {
        public var stage: String
        public var paramsHash: String
        public var startedAt: Date
        /// nil: killed, or still running.
        public var finishedAt: Date?
        public var itemsDone: Int, itemsSkipped: Int, itemsRejected: Int
    }

    /// A per-capture stage at one parameter set: ok captures finished with their current content, and the rest.
    public struct StageProgress: Sendable, Equatable {
        public var stage: String
        public var paramsHash: String
        public var done: Int
        public var pending: Int
    }

    public struct PatchCount: Sendable, Equatable {
        public var paramsHash: String
        public var kept: Int
        public var dropped: Int
    }

    /// Flows of one parameter set over the kept patches.
    public struct FlowProgress: Sendable, Equatable {
        public var paramsHash: String
        /// Kept patches with both directions at these parameters.
        public var patchesDone: Int
        /// Kept patches (of any tiling) missing one or both directions.
        public var patchesPending: Int
        /// Spread of the blurry->sharp colour maps: per channel R, G, B.
        public var colour: ColourSpread?
    }

    public struct ColourSpread: Sendable, Equatable {
        public var maps: Int
        /// (min, median, max) per channel.
        public var gain: [Range3]
        public var offset: [Range3]
    }

    public struct Range3: Sendable, Equatable {
        public var min: Double, median: Double, max: Double
    }

    public struct RunProgress: Sendable, Equatable {
        public var name: String
        public var status: String
        public var latestStep: Int?
        public var checkpoints: Int
    }

    public struct EvaluationCount: Sendable, Equatable {
        public var method: String
        public var checkpointPath: String?
        public var split: String
        public var captures: Int
        /// ok captures of that split not scored yet by this method.
        public var pending: Int
    }

    public var captures: [SplitCount]
    public var rejectionReasons: [ReasonCount]
    public var lastRuns: [LastRun]
    public var tiling: [StageProgress]
    public var patches: [PatchCount]
    public var flows: [FlowProgress]
    public var runs: [RunProgress]
    public var evaluations: [EvaluationCount]
}

extension Manifest {
    public func status() throws -> ManifestStatus {
        try reader.read { db in
            let captures = try Row.fetchAll(db, sql: """
                SELECT split, sum(status = 'ok') AS ok, sum(status = 'rejected') AS rejected
                FROM captures GROUP BY split ORDER BY split
                """).map { ManifestStatus.SplitCount(split: $0["split"], ok: $0["ok"], rejected: $0["rejected"]) }
            // Reasons up to their first ':' (the rest names the file or the numbers), most frequent first.
            let reasons = try Row.fetchAll(db, sql: """
                SELECT CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS kind,
                       count(*) AS n
                FROM captures WHERE status = 'rejected' GROUP BY kind ORDER BY n DESC, kind
                """).map { ManifestStatus.ReasonCount(reason: $0["kind"], count: $0["n"]) }
            let lastRuns = try Row.fetchAll(db, sql: """
                SELECT * FROM stage_runs r WHERE r.id = (SELECT max(id) FROM stage_runs WHERE stage = r.stage) ORDER BY r.stage
                """).map { ManifestStatus.LastRun(stage: $0["stage"], paramsHash: $0["params_hash"], startedAt: $0["started_at"],
                                                 finishedAt: $0["finished_at"], itemsDone: $0["items_done"],
                                                 itemsSkipped: $0["items_skipped"], itemsRejected: $0["items_rejected"]) }
            // Tiling records one stage item per capture (all splits); a capture whose content changed is pending again.
            let tiling = try Row.fetchAll(db, sql: """
                SELECT i.params_hash, count(*) AS done, (SELECT count(*) FROM captures WHERE status = 'ok') AS ok
                FROM stage_items i JOIN captures c ON c.id = i.capture_id
                WHERE i.stage = 'tile' AND c.status = 'ok' AND i.input_hash = c.blurry_hash || ':' || c.sharp_hash
                GROUP BY i.params_hash ORDER BY i.params_hash
                """).map { row -> ManifestStatus.StageProgress in
                    let done: Int = row["done"], ok: Int = row["ok"]
                    return ManifestStatus.StageProgress(stage: "tile", paramsHash: row["params_hash"], done: done, pending: ok - done)
                }
            let patches = try Row.fetchAll(db, sql: """
                SELECT params_hash, sum(kept) AS kept, sum(NOT kept) AS dropped FROM patches GROUP BY params_hash ORDER BY params_hash
                """).map { ManifestStatus.PatchCount(paramsHash: $0["params_hash"], kept: $0["kept"], dropped: $0["dropped"]) }
            let keptPatches = try Int.fetchOne(db, sql: "SELECT count(*) FROM patches WHERE kept") ?? 0
            let flows = try String.fetchAll(db, sql: "SELECT DISTINCT params_hash FROM flows WHERE patch_id IS NOT NULL ORDER BY params_hash")
                .map { hash -> ManifestStatus.FlowProgress in
                    let done = try Int.fetchOne(db, sql: """
                        SELECT count(*) FROM patches p WHERE p.kept AND
                          (SELECT count(DISTINCT direction) FROM flows f WHERE f.patch_id = p.id AND f.params_hash = ?) = 2
                        """, arguments: [hash]) ?? 0
                    return ManifestStatus.FlowProgress(paramsHash: hash, patchesDone: done, patchesPending: keptPatches - done,
                                                       colour: try Self.colourSpread(db, paramsHash: hash))
                }
            let runs = try Row.fetchAll(db, sql: """
                SELECT r.name, r.status, max(c.step) AS latest, count(c.id) AS checkpoints
                FROM runs r LEFT JOIN checkpoints c ON c.run_id = r.id GROUP BY r.id ORDER BY r.name
                """).map { ManifestStatus.RunProgress(name: $0["name"], status: $0["status"], latestStep: $0["latest"], checkpoints: $0["checkpoints"]) }
            let evaluations = try Row.fetchAll(db, sql: """
                SELECT e.method, e.checkpoint_path, e.split, count(DISTINCT e.capture_id) AS n,
                       (SELECT count(*) FROM captures c WHERE c.status = 'ok' AND c.split = e.split) AS ok
                FROM evaluations e WHERE e.capture_id IS NOT NULL
                GROUP BY e.method, e.checkpoint_path, e.split ORDER BY e.split, e.method, e.checkpoint_path
                """).map { row -> ManifestStatus.EvaluationCount in
                    let scored: Int = row["n"], ok: Int = row["ok"]
                    return ManifestStatus.EvaluationCount(method: row["method"], checkpointPath: row["checkpoint_path"], split: row["split"],
                                                          captures: scored, pending: max(ok - scored, 0))
                }
            return ManifestStatus(captures: captures, rejectionReasons: reasons, lastRuns: lastRuns, tiling: tiling, patches: patches, flows: flows,
                                  runs: runs, evaluations: evaluations)
        }
    }

    private static func colourSpread(_ db: Database, paramsHash: String) throws -> ManifestStatus.ColourSpread? {
        let rows = try Row.fetchAll(db, sql: """
            SELECT colour_gain_r, colour_gain_g, colour_gain_b, colour_offset_r, colour_offset_g, colour_offset_b FROM flows
            WHERE params_hash = ? AND direction = 'blurry_to_sharp' AND patch_id IS NOT NULL AND colour_gain_r IS NOT NULL
            """, arguments: [paramsHash])
        guard !rows.isEmpty else { return nil }
        func spread(_ column: Int) -> ManifestStatus.Range3 {
            let values = rows.map { $0[column] as Double }.sorted()
            return ManifestStatus.Range3(min: values[0], median: values[values.count / 2], max: values[values.count - 1])
        }
        return ManifestStatus.ColourSpread(maps: rows.count, gain: (0..<3).map(spread), offset: (3..<6).map(spread))
    }
}

extension ManifestStatus: CustomStringConvertible {
    /// Plain lines, one fact each (readable in a terminal and in a CI log).
    public var description: String {
        var lines: [String] = []
        let ok = captures.map(\.ok).reduce(0, +), rejected = captures.map(\.rejected).reduce(0, +)
        lines.append("captures: \(ok) ok, \(rejected) rejected"
                     + (captures.isEmpty ? "" : " (" + captures.map { "\($0.split) \($0.ok) ok, \($0.rejected) rejected" }.joined(separator: "; ") + ")"))
        for reason in rejectionReasons { lines.append("  rejected \(reason.count)x: \(reason.reason)") }
        for run in lastRuns {
            lines.append("last \(run.stage) run (params \(run.paramsHash)): started \(Self.time(run.startedAt)), "
                         + (run.finishedAt.map { "finished \(Self.time($0))" } ?? "not finished (killed, or still running)")
                         + ": \(run.itemsDone) done, \(run.itemsSkipped) skipped, \(run.itemsRejected) rejected")
        }
        for stage in tiling { lines.append("tile (params \(stage.paramsHash)): \(stage.done) captures done, \(stage.pending) pending") }
        for set in patches { lines.append("patches (params \(set.paramsHash)): \(set.kept) kept, \(set.dropped) dropped") }
        for flow in flows {
            lines.append("flow (params \(flow.paramsHash)): \(flow.patchesDone) kept patches with both directions, \(flow.patchesPending) pending")
            if let colour = flow.colour {
                func show(_ r: Range3) -> String { String(format: "%.3f..%.3f..%.3f", r.min, r.median, r.max) }
                let channels = ["R", "G", "B"].indices.map { "\(["R", "G", "B"][$0]) gain \(show(colour.gain[$0])) offset \(show(colour.offset[$0]))" }
                lines.append("  colour maps on \(colour.maps) patches (min..median..max): " + channels.joined(separator: "; "))
            }
        }
        for run in runs {
            lines.append("run \(run.name): \(run.status), " + (run.latestStep.map { "newest checkpoint step \($0)" } ?? "no checkpoint")
                         + ", \(run.checkpoints) checkpoints recorded")
        }
        for evaluation in evaluations {
            lines.append("eval \(evaluation.checkpointPath ?? evaluation.method): \(evaluation.captures) \(evaluation.split) captures scored, \(evaluation.pending) pending")
        }
        return lines.joined(separator: "\n")
    }

    private static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}
