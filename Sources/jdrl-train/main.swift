// jdrl-train: JDRL training from the manifest, driven by a YAML config (see Sources/Training).
// Thin: parse, validate, hand over to TrainingSession, map errors to exit codes.
import ArgumentParser
import Foundation
import StageSupport
import Training

struct JDRLTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-train",
        abstract: "Train a JDRL defocus-deblurring model from the manifest's misaligned pairs (resumes from the run's last checkpoint).",
        discussion: """
            Writes runs/<name>/ (resolved config, train.log, curves.csv/svg, checkpoints/) and the manifest's \
            runs, checkpoints and training_steps rows. Exit codes: 0 done or stopped at --max-steps, \
            1 error, 3 non-finite loss (the last good checkpoint is intact), 64 bad config or arguments, \
            75 another jdrl-train is training this run (it is named).
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
        do {
            // One trainer per run folder: a second one would interleave checkpoints and rows of one run.
            let name = try runName ?? TrainingConfigLoader.load(URL(fileURLWithPath: config)).name
            let lock = try StageLock(URL(fileURLWithPath: runs).appendingPathComponent(name).appendingPathComponent("train.lock"), mode: .refuse)
            _ = try withExtendedLifetime(lock) { try TrainingSession.run(request) }
        } catch let error as StageLock.Held {
            FileHandle.standardError.write(Data("jdrl-train: \(error)\n".utf8))
            throw ExitCode(75)
        } catch let error as TrainingError {
            FileHandle.standardError.write(Data("jdrl-train: \(error)\n".utf8))
            if case .nonFiniteLoss = error { throw ExitCode(3) }
            throw ExitCode(1)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("jdrl-train: \(error)\n".utf8))
            throw ExitCode(64)
        } catch let error as TrainingConfigError {
            FileHandle.standardError.write(Data("jdrl-train: \(error)\n".utf8))
            throw ExitCode(64)
        } catch {
            FileHandle.standardError.write(Data("jdrl-train: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

JDRLTrain.main()
