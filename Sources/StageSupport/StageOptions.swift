import ArgumentParser
import Foundation

/// The options every manifest-mode stage shares (pulled in with `@OptionGroup`).
public struct StageOptions: ParsableArguments {
    @Option(help: "The SQLite manifest the stages share.")
    public var manifest: String = "data-manifests/jdrl.sqlite"

    @Option(help: "Process only shard K of N of the items (K counts from 0), e.g. 0/4.")
    public var shard: Shard = .all

    @Option(help: "Worker threads (default: all cores).")
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    public init() {}

    public func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be at least 1.") }
    }
}
