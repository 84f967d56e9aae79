import ArgumentParser
import Evaluation
import Foundation
import Manifest
import StageSupport
import Tensors

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
}

/// Manifest mode: resolve the methods, score what is new, print and write the table.
struct ManifestMode {
    let options: ManifestModeOptions
    let lpipsWeights: String?
    let border: Int

    func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// Returns the exit status.
    func run() -> Int32 {
        do {
            let manifestPath = options.manifest!
            guard FileManager.default.fileExists(atPath: manifestPath) else {
                log("jdrl-eval: \(manifestPath): no such manifest (run `make patches` or jdrl-ingest first)")
                return 1
            }
            let manifest = try Manifest.open(path: manifestPath)
            var checkpoints = try options.checkpoint.map { try DeblurCheckpoint(path: $0) }
            if options.latestCheckpoints {
                let found = try CheckpointDiscovery.latestPerRun(manifest: manifest, runsFolder: URL(fileURLWithPath: options.runs))
                checkpoints += found.filter { f in !checkpoints.contains { $0.weightsURL == f.weightsURL } }
            }
            if checkpoints.isEmpty {
                print("jdrl-eval: no trained model exists yet (no checkpoint given, none in the manifest's checkpoints table or under \(options.runs)/*/checkpoints): evaluating the blurry-input baseline only")
                fflush(stdout)  // before the progress lines on stderr
            }
            let methods = [EvaluatedMethod.blurryInput] + checkpoints.map { .checkpoint($0) }
            var settings = EvaluationSettings(split: Split(rawValue: options.split)!, root: options.root)
            settings.shard = options.shard
            settings.tile = options.tiling.tile
            settings.overlap = options.tiling.overlap
            do { settings.precision = try options.tiling.precision.resolved() } catch {
                log("jdrl-eval: \(error)")
                return 2
            }
            log("jdrl-eval: \(Engine.shared.platform); inference in \(settings.precision)")
            settings.border = border
            settings.lpipsWeights = lpipsWeights.map { URL(fileURLWithPath: $0) }
            settings.pairs = options.pairs.map { URL(fileURLWithPath: $0) }
            let report = options.report.map { ReportWriter(folder: URL(fileURLWithPath: $0)) }

            let outcome = try ManifestEvaluator(manifest: manifest, settings: settings, report: report, log: log).run(methods: methods)
            let inShard = options.shard == .all ? "" : " in shard \(options.shard)"
            if outcome.captures.isEmpty {
                print("jdrl-eval: no ok \(options.split) captures\(options.root.map { " from \($0)" } ?? "")\(inShard) in \(manifestPath): nothing to score")
            }
            let table = try ResultsTable(manifest: manifest, captures: outcome.captures, methods: methods, settings: settings)
            let title = "Results on \(URL(fileURLWithPath: manifestPath).lastPathComponent), \(options.split) split\(inShard)"
            print(table.markdown(title: title))
            for warning in table.gains.warnings { log("jdrl-eval: \(warning)") }
            if let report {
                let page = try report.write(table: table, methods: methods, captures: outcome.captures, title: title)
                print("jdrl-eval: report \(page.path) (results.md, results.csv, per_image.csv beside it)")
            }
            if let folder = options.history {
                var labels: [String?: String] = [nil: EvaluatedMethod.blurryInput.label]
                for method in methods { labels[method.checkpointPath] = method.label }
                try History(folder: URL(fileURLWithPath: folder)).append(outcome.newRows, labels: labels)
                print(outcome.newRows.isEmpty ? "jdrl-eval: history unchanged (nothing new)"
                      : "jdrl-eval: \(outcome.newRows.count) rows appended to \(folder)/history.csv and history.md")
            }
            for line in Engine.shared.implementationReport() { log("jdrl-eval: " + line) }
            print("jdrl-eval: \(Set(outcome.newRows.map { "\($0.captureId ?? -1)|\($0.checkpointPath ?? "")" }).count) items scored, \(outcome.skipped) already scored, \(outcome.failures.count) failed")
            for failure in outcome.failures { log("jdrl-eval: failed: \(failure)") }
            return outcome.failures.isEmpty ? 0 : 3
        } catch {
            log("jdrl-eval: \(error)")
            return 1
        }
    }
}
