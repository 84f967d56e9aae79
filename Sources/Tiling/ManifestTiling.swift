import Foundation
import Imaging
import Manifest
import StageSupport

/// The tile stage over the manifest: every ok capture not yet tiled with these parameters (for its
/// current content) is cut; its patch rows and "done" mark are written in one transaction after its
/// files are in place. A killed run leaves only `.partial-*` files (swept here) and unmarked
/// captures, which the next run redoes.
public struct ManifestTiling {
    public let manifest: Manifest
    public let plan: TilingPlan
    public let out: URL
    public let shard: Shard
    public let threads: Int

    public init(manifest: Manifest, plan: TilingPlan, out: URL, shard: Shard = .all, threads: Int) {
        self.manifest = manifest
        self.plan = plan
        self.out = out
        self.shard = shard
        self.threads = threads
    }

    /// Tiles what is pending and returns the captures that failed ("split/name: reason"); they stay
    /// pending, the others are done.
    @discardableResult
    public func run() throws -> [String] {
        let paramsHash = plan.paramsHash
        AtomicFile.removeStalePartials(under: out)
        let all = try manifest.captures(status: .ok)
        let pending = try manifest.pendingCaptures(stage: "tile", paramsHash: paramsHash)
            .filter { shard.contains(key: $0.shardKey) }
        guard !pending.isEmpty else {
            let counts = try manifest.counts()
            print("tile: nothing to do: all \(all.count) ok captures already tiled with params \(paramsHash.prefix(8)) (\(plan.description)); \(counts)")
            return []
        }
        var run = try manifest.beginStageRun(stage: "tile", paramsHash: paramsHash)
        let progress = Progress(label: "tile", total: pending.count)
        let started = Date()
        var written = 0, dropped = 0
        var failures: [String] = [], tooSmall: [String] = []
        for capture in pending {
            do {
                let patches = try tile(capture)
                if patches.isEmpty {
                    // Done with no patches: not an error (the capture still serves evaluation), but said by name.
                    tooSmall.append(String(format: "%@/%@ (%dx%d, %@): smaller than one %dx%d patch at scale %g", capture.split.rawValue, capture.name,
                                           capture.width ?? 0, capture.height ?? 0, capture.blurryPath, plan.size, plan.size, plan.effectiveScale))
                }
                written += patches.filter(\.kept).count
                dropped += patches.filter { !$0.kept }.count
                try manifest.replacePatches(patches, for: capture, paramsHash: paramsHash)
                run.itemsDone += 1
            } catch {
                // One unreadable capture must not stop the others; it stays pending for the next run.
                failures.append("\(capture.split.rawValue)/\(capture.name): \(error)")
                run.itemsRejected += 1
            }
            progress.advance()
        }
        progress.finish()
        run.itemsSkipped = all.count - pending.count
        run.outputs = written
        try manifest.finishStageRun(run)
        print(String(format: "tile: %d captures tiled (%d patches written, %d dropped), %d already done; %@; params %@; %.1f s",
                     run.itemsDone, written, dropped, run.itemsSkipped, plan.description, String(paramsHash.prefix(8)),
                     Date().timeIntervalSince(started)))
        print("tile: manifest now holds \(try manifest.counts())")
        if !tooSmall.isEmpty {
            print("tile: \(tooSmall.count) captures give no patch (done, kept for evaluation):")
            for line in tooSmall { print("  no patches \(line)") }
        }
        if !failures.isEmpty {
            print("tile: \(failures.count) captures failed (left pending):")
            for failure in failures { print("  failed \(failure)") }
        }
        return failures
    }

    /// SDD's pre-cut train patches are already the training unit: registered as they are.
    public func isPreCut(_ capture: Capture) -> Bool {
        capture.layout == .sdd && capture.split == .train && capture.width == plan.size && capture.height == plan.size
    }

    public func tile(_ capture: Capture) throws -> [Patch] {
        let tiler = CaptureTiler(plan: plan, threads: threads)
        if isPreCut(capture) {
            let sharpness = try tiler.sharpnessOfWholeImage(URL(fileURLWithPath: capture.sharpPath))
            return [Patch(captureId: capture.id!, split: capture.split, blurryPath: capture.blurryPath, sharpPath: capture.sharpPath,
                          x: 0, y: 0, size: plan.size, scale: 1, protocol: .sdd, sharpness: sharpness, kept: true, paramsHash: plan.paramsHash)]
        }
        let (cuts, _) = try tiler.tile(blurry: URL(fileURLWithPath: capture.blurryPath), sharp: URL(fileURLWithPath: capture.sharpPath)) {
            plan.patchURL(out: out, split: capture.split, role: $1, captureName: capture.name, origin: $0)
        }
        return cuts.map { cut in
            Patch(captureId: capture.id!, split: capture.split, blurryPath: cut.blurryURL?.path, sharpPath: cut.sharpURL?.path,
                  x: cut.origin.x, y: cut.origin.y, size: plan.size, scale: plan.effectiveScale, protocol: plan.protocol,
                  sharpness: cut.sharpness, kept: cut.kept, paramsHash: plan.paramsHash)
        }
    }
}
