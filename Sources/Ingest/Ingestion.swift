import Foundation
import Imaging
import Manifest
import StageSupport
import Threading

/// What one ingest run found and did.
public struct IngestReport: Sendable {
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var skippedOtherShards = 0
    public var ignoredFiles: [String] = []
    /// Every rejected pair seen in this run (new or already recorded), with its reason.
    public var rejected: [Capture] = []

    public init() {}

    public var seen: Int { inserted + updated + unchanged }

    public func summary(root: String, layout: Layout, manifest: String) -> String {
        var lines: [String] = []
        let ok = seen - rejected.count
        if inserted + updated == 0 {
            lines.append("ingest: nothing new in \(root) (layout \(layout.rawValue)): \(seen) pairs unchanged (\(ok) ok, \(rejected.count) rejected); manifest \(manifest)")
        } else {
            lines.append("ingest: \(root) (layout \(layout.rawValue)): \(seen) pairs: \(inserted) new, \(updated) changed, \(unchanged) unchanged; \(ok) ok, \(rejected.count) rejected; manifest \(manifest)")
        }
        if skippedOtherShards > 0 { lines.append("ingest: \(skippedOtherShards) pairs belong to other shards") }
        if !ignoredFiles.isEmpty {
            lines.append("ingest: ignored \(ignoredFiles.count) files not named NAME_blur.EXT / NAME_sharp.EXT: \(ignoredFiles.joined(separator: ", "))")
        }
        if !rejected.isEmpty {
            lines.append("ingest: \(rejected.count) rejected:")
            for capture in rejected {
                lines.append("  rejected \(capture.split.rawValue)/\(capture.name): \(capture.reason ?? "?") [blurry \(capture.blurryPath), sharp \(capture.sharpPath)]")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// The ingest stage: scan, hash, validate what is new or changed, record one row per pair.
public struct Ingestion {
    public let manifest: Manifest
    public let root: URL
    public let layout: Layout
    public let genericSplit: Split
    public let sizeTolerance: Int
    public let shard: Shard
    public let threads: Int

    public init(manifest: Manifest, root: URL, layout: Layout, genericSplit: Split, sizeTolerance: Int, shard: Shard = .all, threads: Int) {
        self.manifest = manifest
        self.root = root
        self.layout = layout
        self.genericSplit = genericSplit
        self.sizeTolerance = sizeTolerance
        self.shard = shard
        self.threads = threads
    }

    public func run() throws -> IngestReport {
        let (candidates, ignored) = try LayoutScanner.scan(root, layout: layout, genericSplit: genericSplit)
        let mine = candidates.filter { shard.contains(key: Capture.shardKey(root: root.path, split: $0.split, name: $0.name)) }
        var report = IngestReport()
        report.ignoredFiles = ignored
        report.skippedOtherShards = candidates.count - mine.count

        let validator = PairValidator(root: root.path, layout: layout, sizeTolerance: sizeTolerance)
        let paramsHash = ContentHash.of("ingest-v1;layout=\(layout.rawValue);tolerance=\(sizeTolerance)")
        var run = try manifest.beginStageRun(stage: "ingest", paramsHash: paramsHash)
        let progress = Progress(label: "ingest", total: mine.count)
        let lock = NSLock()
        // Decoding dominates and varies per pair: workers take the next pair as they finish one.
        defer { progress.finish() }
        try Parallel.eachItem(mine.count, workers: threads) { index in
            let outcome = try ingest(mine[index], validator: validator)
            lock.lock()
            switch outcome {
            case .inserted: report.inserted += 1
            case .updated: report.updated += 1
            case .unchanged: report.unchanged += 1
            }
            if outcome.capture.status == .rejected { report.rejected.append(outcome.capture) }
            lock.unlock()
            progress.advance()
        }
        report.rejected.sort { ($0.split.rawValue, $0.name) < ($1.split.rawValue, $1.name) }
        run.itemsDone = report.inserted + report.updated
        run.itemsSkipped = report.unchanged
        run.itemsRejected = report.rejected.count
        run.outputs = report.inserted + report.updated
        try manifest.finishStageRun(run)
        return report
    }

    /// An ok pair whose files are unchanged (same hashes and paths) is not decoded again. Rejected
    /// pairs are always re-checked (they are few, and a changed tolerance may now accept them).
    private func ingest(_ pair: PairCandidate, validator: PairValidator) throws -> Manifest.Registration {
        let hashes = validator.hashes(pair)
        if let stored = try manifest.capture(root: root.path, split: pair.split, name: pair.name), stored.status == .ok,
           stored.blurryHash == hashes.blurry, stored.sharpHash == hashes.sharp,
           stored.blurryPath == pair.blurry.path, stored.sharpPath == pair.sharp.path {
            return .unchanged(stored)
        }
        return try manifest.register(validator.validate(pair, hashes: hashes))
    }
}
