import ArgumentParser
import Foundation
import Manifest
import StageSupport

/// jdrl-manifest: looking after a manifest from outside the stages.
@main
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-manifest",
        abstract: "Inspect a jdrl manifest, or fold shard manifests into it.",
        subcommands: [Status.self, Merge.self])

    /// A damaged or missing manifest or shard exits 65 (bad data) with one line naming it.
    static func main() { mainReportingInputErrors([]) }
}

/// A manifest path that names no file.
struct MissingManifest: InputError {
    let path: String
    var description: String { "\(path): no such manifest (make patches writes data-manifests/<dataset>.sqlite)" }
}

extension ManifestCommand {
    /// What is done, pending and rejected per stage: for a user watching a long run.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print, per stage, what is done, pending and rejected (and why), the colour maps' spread, runs and scores.")

        @Argument(help: "The manifest (e.g. data-manifests/embedded.sqlite).")
        var manifest: String

        func run() throws {
            guard FileManager.default.fileExists(atPath: manifest) else {
                throw MissingManifest(path: manifest)
            }
            print("manifest \(manifest)")
            print(try Manifest.open(path: manifest).status())
        }
    }
}

extension ManifestCommand {
    /// Shards of a Slurm array each write their own manifest; this folds them into the main one.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fold shard manifests into the main one: new rows inserted, equal rows left alone, differing rows reported.",
            discussion: """
                Rows are matched by content keys, never by id (a capture by root, split and name; a patch by its capture,
                parameters and position; ...), so merging a shard twice writes nothing the second time. Each shard is folded
                in one transaction. Exit status (shared by every stage, docs/commands.md): 0 merged; 3 some items
                conflicted (each named; the rest merged); 64 bad call; 65 a missing or damaged manifest or shard.
                """)

        @Option(help: "The main manifest (created if missing). Without it the first path is the main manifest, as in `merge OUT IN...`.")
        var into: String?

        @Argument(help: "Shard manifests to fold in, in order (after the main manifest when --into is not given).")
        var paths: [String]

        func validate() throws {
            if into == nil && paths.count < 2 {
                throw ValidationError("give the main manifest and at least one shard: merge OUT.sqlite IN.sqlite... (or --into OUT.sqlite IN.sqlite...)")
            }
        }

        func run() throws {
            let mainPath = into ?? paths[0]
            let shards = into == nil ? Array(paths.dropFirst()) : paths
            let main = try Manifest.open(path: mainPath)
            var conflicts = 0
            for shard in shards {
                let report = try main.merge(shardPath: shard)
                print(report)
                conflicts += report.conflicts.count
            }
            if conflicts > 0 {
                print("jdrl-manifest merge: \(conflicts) conflicting items were not merged (the manifests disagree about them)")
                throw ExitCode(.someItemsFailed)
            }
        }
    }
}
