import ArgumentParser
import Evaluation
import Foundation
import Manifest
import StageSupport

/// The manifest-mode options (grouped so the direct-mode interface stays exactly as it was).
struct ManifestModeOptions: ParsableArguments {
    @Option(help: "Manifest mode: the SQLite manifest holding the captures (and the evaluations rows written).")
    var manifest: String?

    @Option(help: "Manifest mode: a checkpoint to evaluate (folder or UNet safetensors); repeat for several.")
    var checkpoint: [String] = []

    @Flag(help: "Manifest mode: also evaluate each training run's newest checkpoint (manifest checkpoints table and RUNS/*/checkpoints).")
    var latestCheckpoints = false

    @Option(help: "Manifest mode: where jdrl-train run folders live (for --latest-checkpoints).")
    var runs: String = "runs"

    @Option(help: "Manifest mode: the split to score: train, val or test.")
    var split: String = "test"

    @Option(help: "Manifest mode: only captures ingested from this folder (e.g. a cron inbox).")
    var root: String?

    @Option(help: "Manifest mode: process only shard K of N of the captures (K counts from 0), e.g. 0/4; the table covers this shard (a later run without --shard scores nothing new and prints the whole split's table).")
    var shard: Shard = .all

    @Option(help: "Manifest mode: jdrl-synth's pairs folder (`synthesis.pairs` of the dataset config); synthesised captures are then also scored against their aligned sharp image, whole and on the defocused region (blur radius > 1 px), and each model's gain over the blurry input is shown on both.")
    var pairs: String?

    @Option(help: "Manifest mode: report folder (results.md, results.csv, index.html, crops/, curves/).")
    var report: String?

    @Option(help: "Manifest mode: history folder; rows scored by this run are appended to history.csv and history.md.")
    var history: String?

    /// How each capture is tiled for full-resolution deblurring (the same options as jdrl-deblur's).
    @OptionGroup(title: "Manifest-mode tiling") var tiling: TileOptions

    func check() throws {
        guard Split(rawValue: split) != nil else { throw ValidationError("--split must be train, val or test.") }
    }

    /// The library's request (`Evaluation.ManifestEvaluationRun`); call after `check()`.
    func request(lpipsWeights: String?, border: Int) -> ManifestEvaluationRequest {
        var request = ManifestEvaluationRequest(manifestPath: manifest!)
        request.checkpoints = checkpoint
        request.latestCheckpoints = latestCheckpoints
        request.runs = runs
        request.split = Split(rawValue: split)!
        request.root = root
        request.shard = shard
        request.pairs = pairs
        request.report = report
        request.history = history
        request.tile = tiling.tile
        request.overlap = tiling.overlap
        request.precision = tiling.precision
        request.lpipsWeights = lpipsWeights
        request.border = border
        return request
    }
}
