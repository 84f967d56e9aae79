import Foundation
import Manifest
import StageSupport
import Tensors

/// What jdrl-eval's manifest mode was asked to do.
public struct ManifestEvaluationRequest: Sendable {
    public var manifestPath: String
    /// Checkpoints named on the command line (folders or UNet safetensors).
    public var checkpoints: [String] = []
    /// Also each training run's newest checkpoint (the manifest's checkpoints table and RUNS/*/checkpoints).
    public var latestCheckpoints = false
    public var runs = "runs"
    public var split: Split = .test
    public var root: String?
    public var shard: Shard = .all
    public var pairs: String?
    public var report: String?
    public var history: String?
    public var tile = 512
    public var overlap = 128
    public var precision: InferencePrecision = .fixed(.f32)
    public var lpipsWeights: String?
    public var border = 0

    public init(manifestPath: String) { self.manifestPath = manifestPath }
}

/// Manifest mode: resolve the methods, score what is new, print and write the table, append history.
public enum ManifestEvaluationRun {
    /// Returns the exit status from the shared table (StageSupport.ExitStatus): done (or nothing new), some
    /// items failed (each named), bad call (a precision this CPU lacks), bad data (a missing or damaged
    /// manifest, a bad checkpoint).
    public static func run(_ request: ManifestEvaluationRequest,
                           log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) -> Int32 {
        do {
            let manifestPath = request.manifestPath
            guard FileManager.default.fileExists(atPath: manifestPath) else {
                log("jdrl-eval: \(manifestPath): no such manifest (run `make patches` or jdrl-ingest first)")
                return ExitStatus.badData.rawValue
            }
            let manifest = try Manifest.open(path: manifestPath)
            var checkpoints = try request.checkpoints.map { try DeblurCheckpoint(path: $0) }
            if request.latestCheckpoints {
                let found = try CheckpointDiscovery.latestPerRun(manifest: manifest, runsFolder: URL(fileURLWithPath: request.runs))
                checkpoints += found.filter { f in !checkpoints.contains { $0.weightsURL == f.weightsURL } }
            }
            if checkpoints.isEmpty {
                print("jdrl-eval: no trained model exists yet (no checkpoint given, none in the manifest's checkpoints table or under \(request.runs)/*/checkpoints): evaluating the blurry-input baseline only")
                fflush(stdout)  // before the progress lines on stderr
            }
            let methods = [EvaluatedMethod.blurryInput] + checkpoints.map { .checkpoint($0) }
            var settings = EvaluationSettings(split: request.split, root: request.root)
            settings.shard = request.shard
            settings.tile = request.tile
            settings.overlap = request.overlap
            let decision: PrecisionDecision
            do { decision = try request.precision.decision() } catch {
                log("jdrl-eval: \(error)")
                return ExitStatus.badCall.rawValue
            }
            settings.precision = decision.precision
            log("jdrl-eval: \(Engine.shared.platform); inference in \(settings.precision) (\(decision.reason))")
            settings.border = request.border
            settings.lpipsWeights = request.lpipsWeights.map { URL(fileURLWithPath: $0) }
            settings.pairs = request.pairs.map { URL(fileURLWithPath: $0) }
            let report = request.report.map { ReportWriter(folder: URL(fileURLWithPath: $0)) }

            let outcome = try ManifestEvaluator(manifest: manifest, settings: settings, report: report, log: log).run(methods: methods)
            let inShard = request.shard == .all ? "" : " in shard \(request.shard)"
            if outcome.captures.isEmpty {
                print("jdrl-eval: no ok \(request.split.rawValue) captures\(request.root.map { " from \($0)" } ?? "")\(inShard) in \(manifestPath): nothing to score")
            }
            let table = try ResultsTable(manifest: manifest, captures: outcome.captures, methods: methods, settings: settings)
            let title = "Results on \(URL(fileURLWithPath: manifestPath).lastPathComponent), \(request.split.rawValue) split\(inShard)"
            print(table.markdown(title: title, includingBands: false))
            for warning in table.gains.warnings { log("jdrl-eval: \(warning)") }
            if let report {
                let page = try report.write(table: table, methods: methods, captures: outcome.captures, title: title)
                print("jdrl-eval: report \(page.path) (results.md, results.csv, per_image.csv\(table.bands.isEmpty ? "" : ", bands_per_image.csv") beside it)")
            }
            if let folder = request.history {
                var labels: [String?: String] = [nil: EvaluatedMethod.blurryInput.label]
                for method in methods { labels[method.checkpointPath] = method.label }
                // Every stored row of these captures and methods the history lacks: this run's, and those of a run
                // killed between storing its scores and appending them.
                let history = History(folder: URL(fileURLWithPath: folder))
                let stored = try manifest.evaluations(captureIDs: outcome.captures.compactMap(\.id)).filter { labels.keys.contains($0.checkpointPath) }
                let missing = history.notYetRecorded(stored, labels: labels)
                try history.append(missing, labels: labels)
                print(missing.isEmpty ? "jdrl-eval: history unchanged (nothing new)"
                      : "jdrl-eval: \(missing.count) rows appended to \(folder)/history.csv and history.md")
            }
            for line in Engine.shared.implementationReport() { log("jdrl-eval: " + line) }
            print("jdrl-eval: \(Set(outcome.newRows.map { "\($0.captureId ?? -1)|\($0.checkpointPath ?? "")" }).count) items scored, \(outcome.skipped) already scored, \(outcome.failures.count) failed")
            for failure in outcome.failures { log("jdrl-eval: failed: \(failure)") }
            if !table.bands.isEmpty { print("\n" + table.bands.markdown) }
            return (outcome.failures.isEmpty ? ExitStatus.done : .someItemsFailed).rawValue
        } catch {
            log("jdrl-eval: \(error)")
            return ExitStatus.of(error).rawValue
        }
    }
}
