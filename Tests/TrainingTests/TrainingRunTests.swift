import Foundation
import GRDB
import Manifest
import Models
import Tensors
import Testing
import Training

/// Tiny end-to-end runs: real UNet/ReblurModule (oneDNN), real warp, real SQLite rows, real files.
@Suite(.serialized) struct TrainingRunTests {
    /// The CPU config shrunk to seconds: widths [8, 16], R width 4, 32x32 crops of 48x48 patches.
    static func tinyConfig(name: String, epochs: Int = 12, initEpochs: Int = 4, lossMode: LossMode = .jdrl,
                           flowSource: FlowSource = .manifest, everySteps: Int = 5) throws -> TrainingConfig {
        var c = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml"))
        c.name = name
        c.seed = 17
        c.datasets.train.manifest = ":memory:"
        c.datasets.train.cropSize = 32
        c.networkG.widths = [8, 16]
        c.networkReblur.width = 4
        c.train.optimizer.lr = 2e-3
        c.train.initFrom = nil  // the shipped weights are the full-size network's
        c.train.warpInterpolation = nil
        // The paper's network and schedule: these runs check that every loss term falls within ~100 steps,
        // which a network starting far from its target shows clearly. The CPU default's residual network
        // starts at the identity (its learning is tested in LearnsToDeblurTests).
        c.networkG.residual = false
        c.networkG.dropout = 0.4
        c.datasets.train.batchSize = 1
        c.train.scheduler.type = .multistep
        c.train.scheduler.warmupSteps = 0
        c.train.scheduler.milestones = [epochs - 2]
        c.train.epochs = epochs
        c.train.initEpochs = initEpochs
        c.train.lossMode = lossMode
        c.train.flowSource = flowSource
        c.checkpoint.everySteps = everySteps
        c.checkpoint.keepLast = 0
        c.logger.printEverySteps = 1000
        try TrainingConfigLoader.validate(c)
        return c
    }

    /// Four misaligned pairs (different shifts), 48x48, with exact flows and all-ones masks.
    static func tinyData() -> InMemoryPatchSource {
        var patches: [TrainingPatch] = []
        for i in 0..<4 {
            let shift: (Float, Float) = (Float(i % 2) * 2 - 1, Float(i / 2) + 0.5)
            patches.append(Fixtures.pair(id: Int64(i + 1), size: 48, shift: shift, seed: UInt64(40 + i)))
        }
        return InMemoryPatchSource(patches)
    }

    static func train(_ config: TrainingConfig, in runs: URL, source: PatchSource = tinyData(), manifest: Manifest? = nil,
                      maxSteps: Int? = nil) throws -> TrainingOutcome {
        try TrainingSession.run(config: config, configPath: "<test>", source: source, manifest: manifest,
                                runsDirectory: runs, maxSteps: maxSteps, logToTerminal: false)
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    @Test func networkTypeNAFNetTrainsThroughTheSameLoopAndResumes() throws {
        let runs = Fixtures.temporaryDirectory("nafnet")
        defer { try? FileManager.default.removeItem(at: runs) }
        var config = try Self.tinyConfig(name: "nafnet", epochs: 6, initEpochs: 2, everySteps: 8)
        config.networkG = NetworkSpec(type: .nafnet, widths: [], dropout: 0, residual: true,
                                               nafnet: NAFNetConfig(width: 8, encoderBlocks: [1, 1], middleBlocks: 1, decoderBlocks: [1, 1]))
        try TrainingConfigLoader.validate(config)
        let first = try Self.train(config, in: runs, maxSteps: 12)
        #expect(first.step == 12)
        let outcome = try Self.train(config, in: runs)
        #expect(outcome.firstStep == 12 && outcome.finished && outcome.step == 24)
        let records = TrainingCurves.load(RunFolder(runsDirectory: runs, name: "nafnet").curvesCSV).records
        #expect(records.count == 24 && records.allSatisfy { $0.total.isFinite })
        #expect(records.filter { $0.epoch >= 2 }.allSatisfy { $0.reblur > 0 }, "the joint stage ran the reblur term")
        let weights = try SafeTensors.read(runs.appendingPathComponent("nafnet/checkpoints/step_00000024/net_g.safetensors"))
        #expect(weights["intro.weight"]?.shape == [8, 3, 3, 3] && weights["decoders.1.0.beta"] != nil)
        // The blocks left the identity they started as.
        #expect(weights["encoders.0.0.beta"]!.values.contains { $0 != 0 })
    }

    /// The blur-map prior through the whole loop: l_prior in the joint stage only (curves, manifest rows),
    /// a stop inside the init stage (where the ramp follows the epoch) and a resume that reaches the
    /// uninterrupted run's weights bitwise (estimator and gate included), and the checkpoint's tensors.
    @Test func thePriorTrainsLogsItsTermAndResumesExactly() throws {
        let runs = Fixtures.temporaryDirectory("prior")
        defer { try? FileManager.default.removeItem(at: runs) }
        var whole = try Self.tinyConfig(name: "prior-whole", epochs: 6, initEpochs: 2, everySteps: 8)
        whole.networkG.dropout = 0
        whole.networkG.prior = BlurPriorSection(weight: 0.5, rampStart: 0.001)
        try TrainingConfigLoader.validate(whole)
        let manifest = try Manifest.inMemory()
        #expect(try Self.train(whole, in: runs, manifest: manifest).step == 24)
        var pieces = whole
        pieces.name = "prior-pieces"
        #expect(try Self.train(pieces, in: runs, maxSteps: 6).step == 6)       // inside the init stage
        #expect(try Self.train(pieces, in: runs).step == 24)
        #expect(Self.largestDifference(try Self.weights(runs, "prior-whole"), try Self.weights(runs, "prior-pieces")) == 0)

        let records = TrainingCurves.load(RunFolder(runsDirectory: runs, name: "prior-whole").curvesCSV).records
        #expect(records.count == 24)
        #expect(records.filter { $0.epoch < 2 }.allSatisfy { $0.prior == 0 } && records.filter { $0.epoch >= 2 }.allSatisfy { $0.prior > 0 })
        for r in records where r.epoch >= 2 {
            #expect(abs(r.total - (r.deblur + r.cycle + 0.5 * r.reblur + 0.5 * r.prior)) < 1e-9 * max(r.total, 1))
        }
        let logged = try manifest.reader.read { db in try Double.fetchAll(db, sql: "SELECT loss_prior FROM training_steps WHERE loss_prior IS NOT NULL") }
        #expect(logged.count == 16 && logged.allSatisfy { $0 > 0 })

        let weights = try Self.weights(runs, "prior-whole")
        #expect(weights["estimator.0.weight"]?.shape == [32, 3, 3, 3] && weights["gate.excite.weight"]?.shape == [38, 2])
        #expect(weights["enc.0.0.weight"]?.shape == [8, 38, 3, 3])
    }

    @Test func aShortRunLowersEveryLossTerm() throws {
        let runs = Fixtures.temporaryDirectory("learn")
        defer { try? FileManager.default.removeItem(at: runs) }
        let manifest = try Manifest.inMemory()
        let config = try Self.tinyConfig(name: "learn", epochs: 24, initEpochs: 6, everySteps: 1000)
        let outcome = try Self.train(config, in: runs, manifest: manifest)
        #expect(outcome.finished && outcome.step == 96)

        let records = TrainingCurves.load(RunFolder(runsDirectory: runs, name: "learn").curvesCSV).records
        #expect(records.count == 96)
        let initial = records.filter { $0.epoch < 6 }, joint = records.filter { $0.epoch >= 6 }
        #expect(initial.allSatisfy { $0.cycle == 0 && $0.reblur == 0 } && joint.allSatisfy { $0.cycle > 0 && $0.reblur > 0 })
        func improves(_ rows: [StepRecord], _ term: (StepRecord) -> Double, _ label: String) {
            let first = Self.mean(rows.prefix(8).map(term)), last = Self.mean(rows.suffix(8).map(term))
            #expect(last < 0.9 * first, "\(label): first \(first), last \(last)")
        }
        improves(initial, \.deblur, "l_deblur (initialisation)")
        improves(joint, \.deblur, "l_deblur (joint)")
        improves(joint, \.cycle, "l_cycle")
        improves(joint, \.reblur, "l_reblur")

        // The run left its rows: one per step, checkpoints, a finished run.
        let (steps, checkpoints, status) = try manifest.reader.read { db in
            (try TrainingStep.fetchCount(db), try Checkpoint.fetchCount(db), try String.fetchOne(db, sql: "SELECT status FROM runs"))
        }
        #expect(steps == 96)
        #expect(checkpoints == 24, "one per epoch end (every 4 steps)")
        #expect(status == "finished")
        let folder = RunFolder(runsDirectory: runs, name: "learn")
        #expect(FileManager.default.fileExists(atPath: folder.curvesSVG.path))
        #expect(try String(contentsOf: folder.logURL, encoding: .utf8).contains("OPENBLAS_CORETYPE"))
        #expect(try TrainingConfigLoader.load(folder.configURL) == config)
    }

    /// The baseline and the online-flow path each leave what a run must leave: finite losses that fall,
    /// the terms of their loss mode only, a final checkpoint holding F's parameters with their shapes
    /// (and R's where R trains), and a log naming the loss setting and the end of the run.
    @Test func theBaselineAndTheOnlineFlowPathRun() throws {
        let runs = Fixtures.temporaryDirectory("modes")
        defer { try? FileManager.default.removeItem(at: runs) }
        let baselineConfig = try Self.tinyConfig(name: "baseline", epochs: 6, initEpochs: 0, lossMode: .baseline)
        let baseline = try Self.train(baselineConfig, in: runs)
        #expect(baseline.finished && baseline.step == 24 && baseline.lastTerms?.cycle == nil && baseline.lastTerms?.reblur == nil)
        let onlineConfig = try Self.tinyConfig(name: "online", epochs: 6, initEpochs: 1, flowSource: .online)
        let online = try Self.train(onlineConfig, in: runs)
        #expect(online.finished && online.step == 24 && online.lastTerms?.cycle != nil && online.lastTerms?.reblur != nil)

        for (config, trainsR) in [(baselineConfig, false), (onlineConfig, true)] {
            let folder = RunFolder(runsDirectory: runs, name: config.name)
            let records = TrainingCurves.load(folder.curvesCSV).records
            #expect(records.map(\.step) == Array(1...24), "\(config.name): one curve row per step")
            #expect(records.allSatisfy { $0.total.isFinite && $0.deblur.isFinite && $0.total > 0 }, "\(config.name): non-finite or zero loss")
            // Within one stage (the joint stage adds the cycle and reblur terms to the total).
            let joint = records.filter { $0.epoch >= config.train.initEpochs }
            let first = Self.mean(joint.prefix(6).map(\.total)), last = Self.mean(joint.suffix(6).map(\.total))
            #expect(last < first, "\(config.name): total loss did not fall (first steps \(first), last \(last))")
            #expect(joint.allSatisfy { trainsR ? ($0.cycle > 0 && $0.reblur > 0) : ($0.cycle == 0 && $0.reblur == 0) }, "\(config.name): terms")

            let latest = try #require(try folder.checkpoints.latest())
            let hash = try TrainingConfigLoader.hash(config)
            #expect(latest.state.step == 24 && latest.state.final && latest.state.configHash == hash)
            let weights = try SafeTensors.read(latest.folder.appendingPathComponent(CheckpointStore.deblurWeightsFile))
            let expected = try UNet(config: UNetConfig(widths: config.networkG.widths, dropout: 0), seed: 1).parameters.entries
            #expect(Set(weights.keys) == Set(expected.map(\.name)), "\(config.name): net_g names")
            #expect(expected.allSatisfy { weights[$0.name]?.shape == $0.shape && weights[$0.name]!.values.allSatisfy(\.isFinite) })
            let reblurFile = latest.folder.appendingPathComponent(CheckpointStore.reblurWeightsFile)
            if trainsR { #expect(try !SafeTensors.read(reblurFile).isEmpty, "online: R's weights") }

            let log = try String(contentsOf: folder.logURL, encoding: .utf8)
            #expect(log.contains("loss: \(config.train.lossMode.rawValue)") && log.contains("flows \(config.train.flowSource.rawValue)"), "\(log)")
            #expect(log.contains("finished at step 24 of 24"), "\(log)")
        }
    }

    static func weights(_ runs: URL, _ name: String) throws -> [String: SafeTensors.Tensor] {
        let latest = try #require(try RunFolder(runsDirectory: runs, name: name).checkpoints.latest())
        var all = try SafeTensors.read(latest.folder.appendingPathComponent(CheckpointStore.deblurWeightsFile))
        for (key, value) in try SafeTensors.read(latest.folder.appendingPathComponent(CheckpointStore.reblurWeightsFile)) { all["R." + key] = value }
        for (key, value) in try SafeTensors.read(latest.folder.appendingPathComponent(CheckpointStore.optimizerFile)) { all["adam." + key] = value }
        return all
    }

    static func largestDifference(_ a: [String: SafeTensors.Tensor], _ b: [String: SafeTensors.Tensor]) -> Float {
        precondition(Set(a.keys) == Set(b.keys))
        var largest: Float = 0
        for (key, tensor) in a {
            for (x, y) in zip(tensor.values, b[key]!.values) { largest = max(largest, abs(x - y)) }
        }
        return largest
    }

    /// Stopping after k steps and resuming reaches the uninterrupted run's weights and Adam state
    /// bitwise (same thread count), across the init -> joint boundary (R and its optimizer included).
    @Test func stopAndResumeReachesTheSameWeights() throws {
        let runs = Fixtures.temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: runs) }
        let whole = try Self.tinyConfig(name: "whole", epochs: 8, initEpochs: 3)
        #expect(try Self.train(whole, in: runs).step == 32)
        var pieces = whole
        pieces.name = "pieces"
        #expect(try Self.train(pieces, in: runs, maxSteps: 7).step == 7)      // stops inside the init stage
        #expect(try Self.train(pieces, in: runs, maxSteps: 9).step == 16)     // crosses into the joint stage
        #expect(try Self.train(pieces, in: runs).step == 32)
        #expect(Self.largestDifference(try Self.weights(runs, "whole"), try Self.weights(runs, "pieces")) == 0)
        // The stitched curves are the uninterrupted run's curves (losses and lr of every step).
        let stitched = TrainingCurves.load(RunFolder(runsDirectory: runs, name: "pieces").curvesCSV).records
        let straight = TrainingCurves.load(RunFolder(runsDirectory: runs, name: "whole").curvesCSV).records
        #expect(stitched.map(\.step) == Array(1...32))
        let firstDifference = zip(stitched, straight).first { $0.total != $1.total || $0.lr != $1.lr }
        #expect(firstDifference == nil, "curves differ first at step \(firstDifference.map { "\($0.0.step): \($0.0.total) vs \($0.1.total)" } ?? "")")
    }

    /// Resuming replays the dropout draws of the steps before the checkpoint: a UNet fast-forwarded by
    /// k forwards draws the masks of an uninterrupted UNet's (k+1)-th forward.
    @Test func dropoutReplayMatchesAnUninterruptedNetwork() throws {
        let input = [Float](repeating: 0.5, count: 3 * 32 * 32)
        for k in [1, 3] {
            let straight = try UNet(config: UNetConfig(widths: [8, 16], dropout: 0.4), seed: 3)
            let resumed = try UNet(config: UNetConfig(widths: [8, 16], dropout: 0.4), seed: 3)
            var a = [Float](repeating: 0, count: input.count), b = a
            for _ in 0...k { straight.deblur(input, into: &a, n: 1, h: 32, w: 32, training: true) }
            resumed.fastForwardDropout(forwards: k, n: 1, h: 32, w: 32)
            resumed.deblur(input, into: &b, n: 1, h: 32, w: 32, training: true)
            #expect(a == b, "after \(k) replayed forwards")
            var fresh = [Float](repeating: 0, count: input.count)
            try UNet(config: UNetConfig(widths: [8, 16], dropout: 0.4), seed: 3).deblur(input, into: &fresh, n: 1, h: 32, w: 32, training: true)
            #expect(fresh != b, "without the replay the masks differ")
        }
    }

    /// A NaN input makes the loss non-finite: the step is refused with a clear error, the run is marked
    /// failed, and the last good checkpoint stays the newest and byte-identical.
    @Test func nonFiniteLossStopsWithTheLastCheckpointIntact() throws {
        let runs = Fixtures.temporaryDirectory("nan")
        defer { try? FileManager.default.removeItem(at: runs) }
        let manifest = try Manifest.inMemory()
        var config = try Self.tinyConfig(name: "nan", epochs: 4)
        // The loss's guard is what this tests: with colour alignment on, the colour fit on load already
        // refuses the NaN GT (ColourAlignmentTrainingTests covers that refusal).
        config.train.colourAlignment = .none
        #expect(try Self.train(config, in: runs, manifest: manifest, maxSteps: 5).step == 5)
        let store = RunFolder(runsDirectory: runs, name: "nan").checkpoints
        let before = try #require(try store.latest())
        let bytes = try Data(contentsOf: before.folder.appendingPathComponent(CheckpointStore.deblurWeightsFile))

        let poisoned = InMemoryPatchSource((0..<4).map { i -> TrainingPatch in
            var p = Fixtures.pair(id: Int64(i + 1), size: 48, shift: (1, 1), seed: UInt64(40 + i))
            // In the GT: a NaN in the input would be silenced by ReLU/max-pool (max(NaN, 0) = 0 in oneDNN).
            for k in 0..<p.sharp.pixels.count where k % 97 == 0 { p.sharp.pixels[k] = .nan }
            return p
        })
        do {
            _ = try Self.train(config, in: runs, source: poisoned, manifest: manifest)
            Issue.record("a NaN input must stop training")
        } catch let error as TrainingError {
            let text = "\(error)"
            #expect(text.contains("non-finite loss at step 5") && text.contains("step 5) is intact"), "\(text)")
        }
        let after = try #require(try store.latest())
        #expect(after.state == before.state)
        #expect(try Data(contentsOf: after.folder.appendingPathComponent(CheckpointStore.deblurWeightsFile)) == bytes)
        #expect(try manifest.reader.read { try String.fetchOne($0, sql: "SELECT status FROM runs") } == "failed")
    }
}
