import Foundation
import GRDB
import Imaging
import Manifest
import Models
import Tensors
import Testing
import Training

/// The real thing: `jdrl-train` on a manifest of PNG patches, SIGKILLed mid-run, then re-run; its
/// final weights must equal an uninterrupted run's bitwise.
@Suite(.serialized) struct KillResumeTests {
    /// Four 48x48 misaligned pairs written as 8-bit PNGs and registered as captures + patches.
    /// No flow rows: the loader computes both flows once per patch with the Flow module.
    static func makeManifest(in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("manifest.sqlite").path
        let manifest = try Manifest.open(path: path)
        for i in 0..<4 {
            let pair = Fixtures.pair(id: Int64(i + 1), size: 48, shift: (Float(i % 2) * 2 - 1, Float(i / 2) + 0.5), seed: UInt64(60 + i))
            let blurry = directory.appendingPathComponent("b\(i).png"), sharp = directory.appendingPathComponent("s\(i).png")
            try ImageFile.savePNG(pair.blurry, to: blurry)
            try ImageFile.savePNG(pair.sharp, to: sharp)
            let capture = try manifest.register(Capture(root: directory.path, name: "pair\(i)", split: .train, layout: .generic,
                                                        blurryPath: blurry.path, sharpPath: sharp.path, width: 48, height: 48,
                                                        bitDepth: 8, blurryHash: "b\(i)", sharpHash: "s\(i)", status: .ok)).capture
            _ = try manifest.replacePatches([Patch(captureId: capture.id!, split: .train, blurryPath: blurry.path, sharpPath: sharp.path,
                                                   x: 0, y: 0, size: 48, scale: 1, protocol: .sdd, sharpness: nil, kept: true,
                                                   paramsHash: "test")],
                                            for: capture, paramsHash: "test")
        }
        return path
    }

    static var trainBinary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jdrl-train")
    }

    static func launch(config: URL, runs: URL, runName: String) throws -> Process {
        let process = Process()
        process.executableURL = trainBinary
        process.arguments = ["--config", config.path, "--runs", runs.path, "--run-name", runName]
        let log = runs.deletingLastPathComponent().appendingPathComponent("\(runName)-stderr.txt")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        return process
    }

    @Test func sigkillThenRerunEqualsAnUninterruptedRun() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.trainBinary.path) else {
            Issue.record("\(Self.trainBinary.path) not built (swift build -c release builds it)")
            return
        }
        let directory = Fixtures.temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifestPath = try Self.makeManifest(in: directory)
        var config = try TrainingRunTests.tinyConfig(name: "killed", epochs: 10, initEpochs: 3, everySteps: 1000)
        config.datasets.train.manifest = manifestPath
        let configURL = directory.appendingPathComponent("tiny.yaml")
        try TrainingConfigLoader.resolvedYAML(config).write(to: configURL, atomically: true, encoding: .utf8)
        let runs = directory.appendingPathComponent("runs")

        // Kill it as soon as a few epoch-end checkpoints exist (40 steps in all).
        let store = RunFolder(runsDirectory: runs, name: "killed").checkpoints
        let victim = try Self.launch(config: configURL, runs: runs, runName: "killed")
        let deadline = Date().addingTimeInterval(120)
        while victim.isRunning, Date() < deadline, ((try? store.latest())??.state.step ?? 0) < 8 { usleep(10_000) }
        let killedAt = (try? store.latest())??.state.step ?? 0
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let victimLog = (try? String(contentsOf: directory.appendingPathComponent("killed-stderr.txt"), encoding: .utf8)) ?? ""
        #expect(victim.terminationReason == .uncaughtSignal, "the run ended before it could be killed: \(victimLog.suffix(600))")
        #expect(killedAt >= 8 && killedAt < 40)

        let rerun = try Self.launch(config: configURL, runs: runs, runName: "killed")
        rerun.waitUntilExit()
        #expect(rerun.terminationStatus == 0)
        #expect(try store.latest()?.state.step == 40)

        // The same config, uninterrupted, in this process.
        var straight = config
        straight.name = "straight"
        let manifest = try Manifest.open(path: manifestPath)
        let source = try ManifestPatchSource(manifest: manifest, manifestPath: manifestPath, split: "train")
        let outcome = try TrainingSession.run(config: straight, configPath: configURL.path, source: source, manifest: manifest,
                                              runsDirectory: runs, maxSteps: nil, logToTerminal: false)
        #expect(outcome.step == 40)
        #expect(TrainingRunTests.largestDifference(try TrainingRunTests.weights(runs, "killed"), try TrainingRunTests.weights(runs, "straight")) == 0)
        let rows = try manifest.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM training_steps s JOIN runs r ON r.id = s.run_id WHERE r.name = 'killed'")
        }
        #expect(rows == 40, "steps redone after the kill replace their rows")
    }
}
