import ArgumentParser
import Foundation
import Manifest

/// jdrl-manifest: looking after a manifest from outside the stages.
@main
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-manifest",
        abstract: "Inspect a jdrl manifest.",
        subcommands: [Status.self])
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
                throw ValidationError("\(manifest): no such manifest (make patches writes data-manifests/<dataset>.sqlite)")
            }
            print("manifest \(manifest)")
            print(try Manifest.open(path: manifest).status())
        }
    }
}
