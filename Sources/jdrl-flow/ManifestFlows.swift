import Flow
import Foundation
import GRDB
import Imaging
import Manifest
import StageSupport

/// Manifest mode: for every patch (or capture) in this shard, flows both ways (blurry_to_sharp:
/// blurry(p) matches sharp(p + flow(p)); sharp_to_blurry the reverse) as .flo, calibration masks as
/// PNG and the misalignment statistics in `flows`. Idempotent: an item whose rows for this params hash
/// exist, with their files, is skipped. Files are written atomically before the rows (one transaction
/// per item), so a killed run leaves nothing half-done visible. A failing item is reported by file and
/// reason; the others go on.
struct ManifestFlows {
    let options: StageOptions
    let outputDirectory: URL
    let maskMode: MaskMode
    let fullCaptures: Bool
    let parameters = FlowParameters()
    let maskParameters = MaskParameters()

    static let directions = ["blurry_to_sharp", "sharp_to_blurry"]

    /// Everything that decides the outputs: flow settings, mask mode and mask settings.
    var paramsHash: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let mask = (try? encoder.encode(maskParameters)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return ContentHash.of("flow-v1|\(parameters.fingerprint)|\(maskMode.rawValue)|\(mask)")
    }

    struct Item { let key: String; let patchId: Int64?; let captureId: Int64?; let blurry: String; let sharp: String }

    /// Returns the number of items that failed.
    func run() throws -> Int {
        let manifest = try Manifest.open(path: options.manifest)
        AtomicFile.removeStalePartials(under: outputDirectory)
        let hash = paramsHash
        let items = try collectItems(manifest).filter { options.shard.contains(key: $0.key) }
        let progress = Progress(label: "jdrl-flow", total: items.count)
        var failures = 0, skipped = 0
        for item in items {
            defer { progress.advance() }
            if try isDone(item, manifest: manifest, hash: hash) { skipped += 1; continue }
            do { try process(item, manifest: manifest, hash: hash) } catch {
                failures += 1
                FileHandle.standardError.write(Data("jdrl-flow: \(item.blurry) / \(item.sharp): \(error)\n".utf8))
            }
        }
        progress.finish()
        FileHandle.standardError.write(Data("jdrl-flow: \(items.count) items, \(skipped) already done, \(failures) failed\n".utf8))
        return failures
    }

    private func collectItems(_ manifest: Manifest) throws -> [Item] {
        if fullCaptures {
            return try manifest.captures(status: .ok).compactMap { c in
                guard let id = c.id else { return nil }
                return Item(key: "capture-\(id)", patchId: nil, captureId: id, blurry: c.blurryPath, sharp: c.sharpPath)
            }
        }
        return try manifest.patches(keptOnly: true).compactMap { p in
            guard let id = p.id, let blurry = p.blurryPath, let sharp = p.sharpPath else { return nil }
            return Item(key: "patch-\(id)", patchId: id, captureId: p.captureId, blurry: blurry, sharp: sharp)
        }
    }

    private func isDone(_ item: Item, manifest: Manifest, hash: String) throws -> Bool {
        let rows = try manifest.reader.read { db in
            try FlowRecord.filter(Column("params_hash") == hash)
                .filter(item.patchId.map { Column("patch_id") == $0 } ?? (Column("capture_id") == item.captureId! && Column("patch_id") == nil))
                .fetchAll(db)
        }
        guard Set(rows.map(\.direction)) == Set(Self.directions) else { return false }
        return rows.allSatisfy { FileManager.default.fileExists(atPath: $0.flowPath) }
    }

    private func process(_ item: Item, manifest: Manifest, hash: String) throws {
        let blurry = try load(item.blurry), sharp = try load(item.sharp)
        let (forward, backward) = try FlowEstimator.estimateBothWays(blurry, sharp, parameters: parameters, workers: options.threads)
        let folder = outputDirectory.appendingPathComponent(hash.prefix(12) + "/" + item.key)
        var records: [FlowRecord] = []
        for (direction, estimate, other) in [(Self.directions[0], forward, backward), (Self.directions[1], backward, forward)] {
            let flowURL = folder.appendingPathComponent("\(direction).flo")
            let maskURL = folder.appendingPathComponent("\(direction)_mask.png")
            try AtomicFile.write(FlowFile.encode(estimate.flow), to: flowURL)
            let mask = try CalibrationMask.make(maskMode, forward: estimate.flow, backward: other.flow, parameters: maskParameters)
            try AtomicFile.write(to: maskURL) { try mask.savePNG(to: $0) }   // the temporary name keeps .png
            let m = estimate.motion
            records.append(FlowRecord(patchId: item.patchId, captureId: item.captureId,
                                      direction: direction, flowPath: flowURL.path, maskPath: maskURL.path,
                                      zoom: m.zoom, shiftX: m.shiftX, shiftY: m.shiftY, rotationDeg: m.rotationDegrees,
                                      residualEpe: estimate.residualMeanPixels, paramsHash: hash))
        }
        try manifest.writer.write { db in
            for var record in records {
                if let patchId = record.patchId {
                    try db.execute(sql: "DELETE FROM flows WHERE patch_id = ? AND direction = ? AND params_hash = ?",
                                   arguments: [patchId, record.direction, hash])
                } else {
                    try db.execute(sql: "DELETE FROM flows WHERE patch_id IS NULL AND capture_id = ? AND direction = ? AND params_hash = ?",
                                   arguments: [record.captureId, record.direction, hash])
                }
                try record.insert(db)
            }
        }
    }

    private func load(_ path: String) throws -> PlanarImage {
        do { return try ImageFile.loadPlanar(URL(fileURLWithPath: path)).image } catch {
            throw FlowStageError("\(path): cannot load image (\(error))")
        }
    }
}

struct FlowStageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
