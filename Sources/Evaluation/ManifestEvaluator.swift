import Foundation
import Imaging
import Manifest
import Metrics
import StageSupport

/// What one manifest evaluation did.
public struct EvaluationOutcome: Sendable {
    /// Rows written by this run (history appends these).
    public var newRows: [Evaluation] = []
    /// (capture, method) items whose rows were already valid.
    public var skipped = 0
    /// Items that failed, each with the file and the reason; the others went on.
    public var failures: [String] = []
    /// The captures in scope (split, root and shard), for the table.
    public var captures: [Capture] = []
}

/// Scores every capture of a split with each method against the GT and the deformed GT, storing
/// per-image rows in `evaluations`. Idempotent per (method parameters hash, capture content hash)
/// through `stage_items` (stage "eval"), written in the same transaction as the rows: a killed
/// run redoes exactly the unfinished items, and a changed checkpoint or capture is re-scored.
public struct ManifestEvaluator {
    public static let stage = "eval"

    let manifest: Manifest
    var settings: EvaluationSettings
    let report: ReportWriter?
    let log: (String) -> Void

    public init(manifest: Manifest, settings: EvaluationSettings, report: ReportWriter?, log: @escaping (String) -> Void) {
        self.manifest = manifest
        self.settings = settings
        self.report = report
        self.log = log
    }

    public func run(methods: [EvaluatedMethod]) throws -> EvaluationOutcome {
        var settings = self.settings
        var lpips: LPIPSNetwork?
        if let weights = settings.lpipsWeights {
            lpips = try LPIPSNetwork(weightsAt: weights)
            settings.lpipsWeightsHash = try ContentHash.of(fileAt: weights)
        }
        var outcome = EvaluationOutcome()
        outcome.captures = try capturesInScope()
        let scope = Set(outcome.captures.compactMap(\.id))

        // Which (capture, method) items still need scoring.
        var pending: [Int64: [Int]] = [:]
        var total = 0
        for (index, method) in methods.enumerated() {
            let hash = method.paramsHash(settings)
            for capture in try manifest.pendingCaptures(stage: Self.stage, paramsHash: hash) where scope.contains(capture.id!) {
                pending[capture.id!, default: []].append(index)
                total += 1
            }
        }
        outcome.skipped = outcome.captures.count * methods.count - total
        if total == 0 {
            log("eval: nothing new: \(outcome.captures.count) \(settings.split.rawValue) captures x \(methods.count) methods already scored")
            return outcome
        }
        log("eval: \(total) items to score (\(outcome.skipped) already scored) on \(outcome.captures.count) \(settings.split.rawValue) captures")

        var deblurrers: [Int: FullImageDeblurrer] = [:]
        let progress = Progress(label: "eval", total: total)
        var done = 0
        for capture in outcome.captures {
            guard let methodIndices = pending[capture.id!] else { continue }
            let loaded: LoadedCapture
            do { loaded = try LoadedCapture(capture, pairs: settings.pairs) } catch {
                outcome.failures.append("\(capture.name) (\(capture.blurryPath)): \(error)")
                progress.advance(by: methodIndices.count)
                done += methodIndices.count
                continue
            }
            try report?.saveInputCrops(loaded)
            for index in methodIndices {
                let method = methods[index]
                let started = Date()
                do {
                    let scored: PlanarImage
                    switch method {
                    case .blurryInput:
                        scored = loaded.blurry
                    case let .checkpoint(checkpoint):
                        if deblurrers[index] == nil {
                            deblurrers[index] = try FullImageDeblurrer(checkpoint: checkpoint, tile: settings.tile, overlap: settings.overlap,
                                                                       precision: settings.precision)
                        }
                        scored = deblurrers[index]!.deblur(loaded.blurry)
                    }
                    let input: PlanarImage? = if case .blurryInput = method { nil } else { loaded.blurry }
                    let scores = try CaptureScores(scored: scored, input: input, gt: loaded.gt, reference: loaded.reference,
                                                   settings: settings, lpips: lpips)
                    let rows = try store(scores.rows(method: method, capture: capture, settings: settings),
                                         bands: scores.bands?.rows(method: method, capture: capture) ?? [],
                                         for: capture, method: method, paramsHash: method.paramsHash(settings))
                    outcome.newRows += rows
                    try report?.saveOutputCrop(scored, capture: capture, method: method)
                    done += 1
                    let aligned = scores.alignedSharp.map { String(format: ", aligned sharp %.2f dB / %.4f", $0.psnr.value, $0.ssim.value) } ?? ""
                    let region = scores.defocused.map { String(format: ", defocused %.2f dB / %.4f", $0.psnr, $0.ssim) } ?? ""
                    let colour = String(format: "; colour error vs deformed GT %@ (max %.4f), colour-corrected PSNR %.2f dB",
                                        scores.deformedGT.colourError.perChannel.map { String(format: "%+.4f", $0) }.joined(separator: "/"),
                                        scores.deformedGT.colourError.largest, scores.deformedGT.psnrColourCorrected.value)
                    log(String(format: "eval: [%d/%d] %@ | %@ | %d-bit: GT %.2f dB / %.4f, deformed GT %.2f dB / %.4f%@%@%@ (%.1f s)",
                               done, total, capture.name, method.label, scores.bitDepth, scores.gt.psnr.value, scores.gt.ssim.value,
                               scores.deformedGT.psnr.value, scores.deformedGT.ssim.value, aligned, region, colour, Date().timeIntervalSince(started)))
                } catch {
                    done += 1
                    outcome.failures.append("\(capture.name) (\(capture.blurryPath)) with \(method.label): \(error)")
                }
                progress.advance()
            }
        }
        progress.finish()
        return outcome
    }

    /// Ok captures of the split (and root and shard, when given), in id order.
    func capturesInScope() throws -> [Capture] {
        let root = settings.root.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        return try manifest.captures(status: .ok).filter { capture in
            capture.split == settings.split && (root == nil || capture.root == root) && settings.shard.contains(key: capture.shardKey)
        }
    }

    /// Replaces the rows (and band sums) of (capture, method) and marks the item done, in one transaction.
    private func store(_ rows: [Evaluation], bands: [EvaluationBandScore], for capture: Capture, method: EvaluatedMethod,
                       paramsHash: String) throws -> [Evaluation] {
        try manifest.replaceEvaluations(rows, bands: bands, of: capture, method: method.methodColumn, checkpointPath: method.checkpointPath,
                                        stage: Self.stage, paramsHash: paramsHash)
    }
}
