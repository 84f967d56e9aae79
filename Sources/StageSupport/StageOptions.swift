import ArgumentParser
import Foundation
import Threading

/// The options every manifest-mode stage shares (pulled in with `@OptionGroup`).
public struct StageOptions: ParsableArguments {
    @Option(help: "The SQLite manifest the stages share.")
    public var manifest: String = "data-manifests/jdrl.sqlite"

    @Option(help: "Process only shard K of N of the items (K counts from 0), e.g. 0/4.")
    public var shard: Shard = .all

    @OptionGroup public var threading: ThreadOptions

    public var threads: Int { threading.threads }

    public init() {}
}

/// `--threads`: the process's one worker count, for the project's parallel loops and oneDNN alike.
public struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads, for every parallel loop and oneDNN (default: OMP_NUM_THREADS, else all cores; under mpirun, the cores shared among the node's ranks).")
    public var threads: Int = Workers.fromEnvironment

    public init() {}

    /// Validation runs while parsing, before any work: the count is in place before oneDNN's engine
    /// is created (it reads `Workers.count` once), whichever stage parsed it.
    public func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be at least 1.") }
        Workers.use(threads)
    }
}
