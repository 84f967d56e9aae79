import Foundation
import Manifest

/// Finds the newest checkpoint of each training run: from the manifest's `checkpoints` table
/// (highest step per run whose folder still exists), then from `RUNS/*/checkpoints/latest.json`
/// for runs recorded in another manifest. Paths are deduplicated by their weights file.
public enum CheckpointDiscovery {
    public static func latestPerRun(manifest: Manifest, runsFolder: URL) throws -> [DeblurCheckpoint] {
        var candidates: [String] = []
        candidates += try manifest.latestCheckpointPaths().filter { FileManager.default.fileExists(atPath: $0) }
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: runsFolder.path))?.sorted() ?? []
        for run in runs {
            let checkpoints = runsFolder.appendingPathComponent(run).appendingPathComponent("checkpoints")
            if FileManager.default.fileExists(atPath: checkpoints.appendingPathComponent("latest.json").path) {
                candidates.append(checkpoints.path)
            }
        }
        var seen = Set<String>()
        var found: [DeblurCheckpoint] = []
        for path in candidates {
            let checkpoint = try DeblurCheckpoint(path: path)
            if seen.insert(checkpoint.weightsURL.path).inserted { found.append(checkpoint) }
        }
        return found
    }
}
