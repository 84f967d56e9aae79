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
    public let pixelLimit: Int

    public init(manifest: Manifest, root: URL, layout: Layout, genericSplit: Split, sizeTolerance: Int, shard: Shard = .all, threads: Int,
                pixelLimit: Int = PairValidator.defaultPixelLimit) {
        self.manifest = manifest
        self.root = root
        self.layout = layout
        self.genericSplit = genericSplit
        self.sizeTolerance = sizeTolerance
        self.shard = shard
        self.threads = threads
        self.pixelLimit = pixelLimit
    }

    public func run() throws -> IngestReport {
        let (candidates, ignored) = try LayoutScanner.scan(root, layout: layout, genericSplit: genericSplit)
        let mine = candidates.filter { shard.contains(key: Capture.shardKey(root: root.path, split: $0.split, name: $0.name)) }
        var report = IngestReport()
        report.ignoredFiles = ignored
        report.skippedOtherShards = candidates.count - mine.count

        let validator = PairValidator(root: root.path, layout: layout, sizeTolerance: sizeTolerance, pixelLimit: pixelLimit)
        let paramsHash = ContentHash.of("ingest-v1;layout=\(layout.rawValue);tolerance=\(sizeTolerance)")
        var run = try manifest.beginStageRun(stage: "ingest", paramsHash: paramsHash)
        let hashes = try contentHashes(mine, validator: validator)
        let firstCopy = try firstCopies(mine, hashes: hashes)
        let progress = Progress(label: "ingest", total: mine.count)
        defer { progress.finish() }
        // Pairs are validated in parallel (decoding dominates and varies per pair: workers take the next
        // pair as they finish one) but registered in scan order, a chunk at a time: the same folder always
        // gets the same capture ids, so the patch order, and training, do not depend on which worker
        // finished first; a killed run loses at most one chunk's validation.
        let chunk = max(8, threads * 4)
        for start in stride(from: 0, to: mine.count, by: chunk) {
            let indices = Array(start..<min(start + chunk, mine.count))
            var decided = [Capture?](repeating: nil, count: indices.count)
            var unchanged = [Capture?](repeating: nil, count: indices.count)
            let lock = NSLock()
            try Parallel.eachItem(indices.count, workers: threads) { slot in
                let index = indices[slot]
                let outcome = try decide(mine[index], hashes: hashes[index], validator: validator, copyOf: firstCopy[index].map { mine[$0] })
                lock.lock()
                switch outcome {
                case let .unchanged(stored): unchanged[slot] = stored
                case let .register(capture): decided[slot] = capture
                }
                lock.unlock()
                progress.advance()
            }
            for slot in indices.indices {
                let outcome: Manifest.Registration = try unchanged[slot].map { .unchanged($0) } ?? manifest.register(decided[slot]!)
                switch outcome {
                case .inserted: report.inserted += 1
                case .updated: report.updated += 1
                case .unchanged: report.unchanged += 1
                }
                if outcome.capture.status == .rejected { report.rejected.append(outcome.capture) }
            }
        }
        report.rejected.sort { ($0.split.rawValue, $0.name) < ($1.split.rawValue, $1.name) }
        run.itemsDone = report.inserted + report.updated
        run.itemsSkipped = report.unchanged
        run.itemsRejected = report.rejected.count
        run.outputs = report.inserted + report.updated
        try manifest.finishStageRun(run)
        return report
    }

    /// Both files' hashes for every pair, read in parallel (hashing runs at disk speed).
    func contentHashes(_ pairs: [PairCandidate], validator: PairValidator) throws -> [(blurry: String?, sharp: String?)] {
        var hashes = [(blurry: String?, sharp: String?)](repeating: (nil, nil), count: pairs.count)
        let lock = NSLock()
        try Parallel.eachItem(pairs.count, workers: threads) { index in
            let pairHashes = validator.hashes(pairs[index])
            lock.lock()
            hashes[index] = pairHashes
            lock.unlock()
        }
        return hashes
    }

    /// For each pair whose two files another pair of this run also holds, the index of the copy that is kept:
    /// the one already stored as ok (the oldest, if several), else the first in split and name order. Decided
    /// before any pair is registered, so which copy is kept does not depend on which worker finishes first.
    func firstCopies(_ pairs: [PairCandidate], hashes: [(blurry: String?, sharp: String?)]) throws -> [Int?] {
        var storedOK: [String: Int64] = [:]
        for capture in try manifest.captures(status: .ok) where capture.root == root.path {
            storedOK["\(capture.split.rawValue)/\(capture.name)"] = capture.id
        }
        func rank(_ index: Int) -> (Int64, String, String) {
            let pair = pairs[index]
            return (storedOK["\(pair.split.rawValue)/\(pair.name)"] ?? .max, pair.split.rawValue, pair.name)
        }
        var firstByContent: [String: Int] = [:]
        var copies = [Int?](repeating: nil, count: pairs.count)
        let order = pairs.indices.sorted { rank($0) < rank($1) }
        for index in order {
            guard let blurry = hashes[index].blurry, let sharp = hashes[index].sharp else { continue }
            let key = "\(blurry):\(sharp)"
            if let first = firstByContent[key] { copies[index] = first } else { firstByContent[key] = index }
        }
        return copies
    }

    enum Decision {
        case unchanged(Capture)
        case register(Capture)
    }

    /// An ok pair whose files are unchanged (same hashes and paths) is not decoded again. Rejected
    /// pairs are always re-checked (they are few, and a changed tolerance may now accept them). A pair
    /// holding the content of an earlier pair (of this run, or already in the manifest under another
    /// name) is refused as its copy. Reads the manifest only; the caller registers.
    private func decide(_ pair: PairCandidate, hashes: (blurry: String?, sharp: String?), validator: PairValidator,
                        copyOf original: PairCandidate?) throws -> Decision {
        let stored = try manifest.capture(root: root.path, split: pair.split, name: pair.name)
        if original == nil, let stored, stored.status == .ok,
           stored.blurryHash == hashes.blurry, stored.sharpHash == hashes.sharp,
           stored.blurryPath == pair.blurry.path, stored.sharpPath == pair.sharp.path {
            return .unchanged(stored)
        }
        if let original {
            return .register(validator.baseCapture(pair, hashes: hashes).rejectedAsDuplicate(
                ofSplit: original.split, name: original.name, blurryPath: original.blurry.path, sharpPath: original.sharp.path))
        }
        var capture = validator.validate(pair, hashes: hashes)
        if capture.status == .ok {
            capture.id = stored?.id
            if let earlier = try manifest.earlierCapture(withContentOf: capture) { capture = capture.rejectedAsDuplicate(of: earlier) }
            capture.id = nil
        }
        return .register(capture)
    }
}
