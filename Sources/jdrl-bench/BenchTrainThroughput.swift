// train-throughput: steps per second of the real training loop (jdrl-train: data from the manifest
// through the prefetcher, the step, logging, the manifest's rows) on the embedded manifest, for each
// stage of the default config: the initialisation stage (F alone, warped GT) and the joint stage
// (F and R, masks, cycle). Each runs jdrl-train for a few steps on a copy of the manifest in a
// temporary folder (the user's manifest and runs/ stay untouched) and reads the per-step seconds of
// the run's curves.csv, leaving out the first steps (they create the primitives).
import Foundation
import Tensors

extension NumericBenchmarks {
    static let embeddedManifest = "data-manifests/embedded.sqlite"

    static func trainThroughput() throws {
        guard FileManager.default.fileExists(atPath: embeddedManifest) else {
            Benchmarks.emit(["bench": "train-throughput", "peer": "none",
                             "skipped": "\(embeddedManifest) is absent: run `make patches` first (it synthesises, ingests, tiles and computes flows)"])
            return
        }
        let trainer = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jdrl-train")
        guard FileManager.default.isExecutableFile(atPath: trainer.path) else {
            throw BenchFailure("\(trainer.path) is missing: build the release products first (make build)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-bench-throughput-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifest = folder.appendingPathComponent("embedded.sqlite")
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: embeddedManifest + suffix) {
            try FileManager.default.copyItem(atPath: embeddedManifest + suffix, toPath: manifest.path + suffix)
        }
        let configText = try String(contentsOfFile: defaultTrainingConfig, encoding: .utf8)
        let initEpochs = configText.firstMatch(of: #/\n  init_epochs: (\d+)/#).flatMap { Int($0.1) } ?? 0
        let epochs = configText.firstMatch(of: #/\n  epochs: (\d+)/#).flatMap { Int($0.1) } ?? 0

        /// Runs `steps` steps of the default config with `init_epochs` set to `stageInitEpochs`; returns
        /// the per-step seconds after the warm-up steps and the steps per epoch jdrl-train reported.
        func run(_ name: String, stageInitEpochs: Int, steps: Int) throws -> (seconds: [Double], stepsPerEpoch: Int?) {
            let config = folder.appendingPathComponent("\(name).yaml")
            let text = configText.replacing(#/\n  init_epochs: \d+/#, with: "\n  init_epochs: \(stageInitEpochs)")
                .replacing(#/\nname: [^\n]+/#, with: "\nname: \(name)")
            try text.write(to: config, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = trainer
            process.arguments = ["--config", config.path, "--manifest", manifest.path, "--runs", folder.appendingPathComponent("runs").path,
                                 "--max-steps", "\(steps)"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw BenchFailure("jdrl-train (\(name)) exited with \(process.terminationStatus): \(output.suffix(400))")
            }
            let curves = try String(contentsOf: folder.appendingPathComponent("runs/\(name)/curves.csv"), encoding: .utf8)
            let seconds = curves.split(separator: "\n").dropFirst().compactMap { Double($0.split(separator: ",").last ?? "") }
            let perEpoch = output.firstMatch(of: #/\((\d+) steps per epoch/#).flatMap { Int($0.1) }
            return (Array(seconds.dropFirst(warmUpSteps)), perEpoch)
        }
        let initStage = try run("throughput-init", stageInitEpochs: max(initEpochs, 1), steps: 40)
        let jointStage = try run("throughput-joint", stageInitEpochs: 0, steps: 25)
        let initStep = median(initStage.seconds), jointStep = median(jointStage.seconds)
        var fields: [String: Any] = [
            "bench": "train-throughput", "config": defaultTrainingConfig, "manifest": embeddedManifest, "peer": "none",
            "ours_s": jointStep, "threads": Engine.shared.threads,
            "init_steps_per_s": 1 / initStep, "joint_steps_per_s": 1 / jointStep,
            "init_step_s_median": initStep, "init_step_s_min": initStage.seconds.min() ?? .nan,
            "joint_step_s_median": jointStep, "joint_step_s_min": jointStage.seconds.min() ?? .nan,
            "timed": "jdrl-train --max-steps on a copy of the manifest: each step's wall seconds from curves.csv (data wait, step, logging), "
                + "median after \(warmUpSteps) warm-up steps; ours_s is the joint stage's median step",
        ]
        if let perEpoch = initStage.stepsPerEpoch ?? jointStage.stepsPerEpoch, epochs > 0 {
            // make train's steps at these rates (data loading beyond the measured steps and checkpoints aside).
            let initSteps = initEpochs * perEpoch, jointSteps = (epochs - initEpochs) * perEpoch
            fields["steps_per_epoch"] = perEpoch
            fields["make_train_estimate_s"] = Double(initSteps) * initStep + Double(jointSteps) * jointStep
            fields["make_train_steps"] = ["initialisation": initSteps, "joint": jointSteps]
        }
        Benchmarks.emit(fields)
    }

    /// Steps left out of a stage's rate: the first ones create oneDNN primitives and fill the prefetcher.
    static let warmUpSteps = 3
}
