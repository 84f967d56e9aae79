import Foundation
import Manifest

/// `jdrl-manifest merge` at scale: a shard manifest with 10,000 rows (400 captures, 4,000 patches,
/// 5,600 flows, and the tile stage's 400 stage_items rows: what one Slurm array task of a large dataset
/// writes) folded into an empty main manifest,
/// then folded again (every row found unchanged), against Python's sqlite3 copying the same rows with
/// one INSERT ... SELECT per table and no matching (pipelines/peers/sqlite_copy.py, into an empty copy
/// of the schema). Best of 3 each. Prints one JSON line.
func benchManifestMerge() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-bench-merge-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let shardPath = folder.appendingPathComponent("shard.sqlite").path
    let rows = try writeShard(at: shardPath, captures: 400, patchesPerCapture: 10, flowPatchesPerCapture: 7)

    var firstMerge = Double.infinity, secondMerge = Double.infinity, inserted = 0
    for run in 0..<3 {
        let main = try Manifest.open(path: folder.appendingPathComponent("main-\(run).sqlite").path)
        var started = Date()
        let report = try main.merge(shardPath: shardPath)
        firstMerge = min(firstMerge, Date().timeIntervalSince(started))
        inserted = report.tables.map(\.inserted).reduce(0, +)
        started = Date()
        let again = try main.merge(shardPath: shardPath)
        secondMerge = min(secondMerge, Date().timeIntervalSince(started))
        guard again.tables.map(\.inserted).reduce(0, +) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    var peerSeconds = Double.infinity
    let script = FileManager.default.currentDirectoryPath + "/pipelines/peers/sqlite_copy.py"
    for run in 0..<3 {
        let target = folder.appendingPathComponent("peer-\(run).sqlite").path
        _ = try Manifest.open(path: target)  // the same schema, empty
        let peer = try PeerRun.python([script, target, shardPath, "captures,patches,flows"])
        guard peer.status == 0, let line = peer.jsonLines.first, let seconds = line["seconds"] as? Double else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "sqlite_copy.py: \(peer.errorOutput)"])
        }
        peerSeconds = min(peerSeconds, seconds)
    }
    Benchmarks.emit([
        "bench": "manifest-merge", "shard_rows": rows, "inserted_rows": inserted,
        "ours_s": firstMerge, "ours_again_s": secondMerge, "rows_per_s": Double(rows) / firstMerge,
        "peer": "python sqlite3, INSERT ... SELECT per table (no matching)", "peer_s": peerSeconds, "speedup": peerSeconds / firstMerge,
        "timed": "Manifest.merge of a 10,000-row shard into an empty manifest (one transaction, rows matched by content and parameter hash), then again (all unchanged); best of 3",
    ])
}

/// A shard as an array task writes it: captures, their patches, flows for some patches in both directions.
private func writeShard(at path: String, captures: Int, patchesPerCapture: Int, flowPatchesPerCapture: Int) throws -> Int {
    let shard = try Manifest.open(path: path)
    var rows = 0
    for c in 0..<captures {
        let name = String(format: "capture_%04d.png", c)
        let capture = try shard.register(Capture(root: "/data/big", name: name, split: .train, layout: .sdd, blurryPath: "/data/big/blur/\(name)",
                                                 sharpPath: "/data/big/gt/\(name)", width: 4096, height: 2160, bitDepth: 8,
                                                 blurryHash: "b\(c)", sharpHash: "s\(c)", status: .ok)).capture
        let patches = try shard.replacePatches((0..<patchesPerCapture).map { p in
            Patch(captureId: 0, split: .train, blurryPath: "p/\(c)_\(p)_b.png", sharpPath: "p/\(c)_\(p)_s.png", x: 256 * p, y: 0, size: 512,
                  scale: 0.5, protocol: .sdd, sharpness: 0.01, kept: true, paramsHash: "tile")
        }, for: capture, paramsHash: "tile")
        _ = try shard.replaceFlows(patches.prefix(flowPatchesPerCapture).flatMap { patch in
            ["blurry_to_sharp", "sharp_to_blurry"].map {
                FlowRecord(patchId: patch.id, captureId: capture.id, direction: $0, flowPath: "f/\(patch.id!)_\($0).flo", paramsHash: "flow")
            }
        })
        rows += 1 + patchesPerCapture + 2 * flowPatchesPerCapture
    }
    return rows
}
