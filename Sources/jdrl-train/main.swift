// jdrl-train: JDRL training from the manifest, driven by a YAML config (see Sources/Training).
// Thin: parse, validate, hand over to TrainingSession, map errors to exit codes.
import ArgumentParser
import Distributed
import Foundation
import StageSupport
import Training

struct JDRLTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-train",
        abstract: "Train a JDRL defocus-deblurring model from the manifest's misaligned pairs (resumes from the run's last checkpoint).",
        discussion: """
            Writes runs/<name>/ (resolved config, train.log, curves.csv/svg, checkpoints/) and the manifest's \
            runs, checkpoints and training_steps rows. Exit status (shared by every stage, docs/commands.md): \
            0 done or stopped at --max-steps; 1 another error (e.g. a full disk); 3 non-finite loss (the step is \
            named, the last good checkpoint is intact); 64 bad config or arguments, or a run folder holding another \
            config's checkpoints; 65 bad data (a damaged manifest, unreadable patches); 75 another jdrl-train is \
            training this run (it is named). Under `mpirun -n N` the N processes train \
            one run data-parallel: each takes 1/N of every global batch (batch_size), gradients are averaged, \
            rank 0 writes; a rank that fails ends the whole job.
            """)

    @Option(help: "The training config (YAML, BasicSR-like sections), e.g. configs/jdrl-unet-cpu.yaml.")
    var config: String

    @Option(help: "Use this manifest instead of the config's datasets.train.manifest.")
    var manifest: String?

    @Option(help: "Stop after this many steps in this invocation, with a checkpoint; re-running resumes.")
    var maxSteps: Int?

    @Option(help: "Run name (folder runs/<name>/) instead of the config's name.")
    var runName: String?

    @Option(help: "Where run folders live.")
    var runs: String = "runs"

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1.") }
        if let runName, runName.isEmpty || runName.contains("/") { throw ValidationError("--run-name must be a plain folder name.") }
        guard FileManager.default.fileExists(atPath: config) else { throw ValidationError("no config at \(config).") }
    }

    func run() throws {
        let request = TrainingRequest(configPath: config, manifestOverride: manifest, runName: runName, maxSteps: maxSteps,
                                      runsDirectory: URL(fileURLWithPath: runs))
        let group: ProcessGroup
        do { group = try ProcessGroups.fromEnvironment() } catch {
            fail("\(error)", exitCode: ExitStatus.failed.rawValue, group: SingleProcess())
        }
        do {
            // One trainer per run folder: a second one would interleave checkpoints and rows of one run.
            // The leader holds the lock for its ranks (they write nothing).
            let name = try runName ?? TrainingConfigLoader.load(URL(fileURLWithPath: config)).name
            let lock = try group.isLeader
                ? StageLock(URL(fileURLWithPath: runs).appendingPathComponent(name).appendingPathComponent("train.lock"), mode: .refuse)
                : nil
            _ = try withExtendedLifetime(lock) { try TrainingSession.run(request, group: group) }
            group.finish()
        } catch {
            fail("\(error)", exitCode: ExitStatus.of(error).rawValue, group: group)
        }
    }

    /// Prints the error and exits; in a data-parallel run it ends every rank (the others may be waiting
    /// for this one's gradients), naming the rank that failed.
    private func fail(_ message: String, exitCode: Int32, group: ProcessGroup) -> Never {
        let rank = group.size > 1 ? " (rank \(group.rank) of \(group.size); ending every rank)" : ""
        FileHandle.standardError.write(Data("jdrl-train: \(message)\(rank)\n".utf8))
        if group.size > 1 { group.abort(exitCode: exitCode) }
        Foundation.exit(exitCode)
    }
}

JDRLTrain.main()
