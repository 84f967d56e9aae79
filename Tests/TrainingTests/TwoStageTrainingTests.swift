import Foundation
import Tensors
import Testing
import Training

/// Two-stage training. `train.init_from`: a run starts F from another run's weights (a pretrained model),
/// resumes from its own checkpoints afterwards, and refuses a weights file that does not fit, naming it.
/// `train.reblur_warmup_epochs`: R trains alone on the pretrained F before both train.
@Suite(.serialized) struct TwoStageTrainingTests {
    static func baselineConfig(name: String) throws -> TrainingConfig {
        var config = try TrainingRunTests.tinyConfig(name: name, epochs: 2, initEpochs: 0, lossMode: .baseline, everySteps: 4)
        config.networkG.dropout = 0
        return config
    }

    @Test func aFreshRunStartsFromTheGivenWeightsAndAResumedRunFromItsCheckpoint() throws {
        let runs = Fixtures.temporaryDirectory("init-from")
        defer { try? FileManager.default.removeItem(at: runs) }
        let pretrain = try Self.baselineConfig(name: "stage1")
        _ = try TrainingRunTests.train(pretrain, in: runs)
        let stage1Weights = runs.appendingPathComponent("stage1/checkpoints/step_00000008/net_g.safetensors")
        let pretrained = try SafeTensors.read(stage1Weights)

        var fineTune = try Self.baselineConfig(name: "stage2")
        fineTune.train.initFrom = stage1Weights.path
        fineTune.train.optimizer.lr = 0
        fineTune.train.scheduler.warmupSteps = 0
        // lr 0: Adam moves nothing, so the checkpoint after one step still holds the pretrained weights exactly.
        let first = try TrainingRunTests.train(fineTune, in: runs, maxSteps: 1)
        #expect(first.step == 1)
        let after = try SafeTensors.read(runs.appendingPathComponent("stage2/checkpoints/step_00000001/net_g.safetensors"))
        #expect(after.keys.sorted() == pretrained.keys.sorted())
        for (name, tensor) in pretrained { #expect(after[name]!.values == tensor.values, "\(name)") }
        let log = try String(contentsOf: runs.appendingPathComponent("stage2/train.log"), encoding: .utf8)
        #expect(log.contains("network_g starts from \(stage1Weights.path)"))

        // Resuming reads the run's own checkpoint, not init_from: the file may be gone by then.
        try FileManager.default.removeItem(at: stage1Weights)
        let resumed = try TrainingRunTests.train(fineTune, in: runs, maxSteps: 2)
        #expect(resumed.firstStep == 1 && resumed.step == 3)
    }

    @Test func aMissingOrMismatchedWeightsFileIsRefusedWithItsName() throws {
        let runs = Fixtures.temporaryDirectory("init-from-bad")
        defer { try? FileManager.default.removeItem(at: runs) }
        var config = try Self.baselineConfig(name: "bad")
        config.train.initFrom = runs.appendingPathComponent("absent.safetensors").path
        #expect(throws: InitialWeightsError.self) { try TrainingRunTests.train(config, in: runs, maxSteps: 1) }

        // A weights file of another network (widths [8] instead of [8, 16]) names the file and the tensor.
        var other = try Self.baselineConfig(name: "other")
        other.networkG.widths = [8]
        _ = try TrainingRunTests.train(other, in: runs, maxSteps: 4)
        let otherWeights = runs.appendingPathComponent("other/checkpoints/step_00000004/net_g.safetensors")
        config.name = "bad2"
        config.train.initFrom = otherWeights.path
        do {
            _ = try TrainingRunTests.train(config, in: runs, maxSteps: 1)
            Issue.record("a mismatched weights file was accepted")
        } catch let error as InitialWeightsError {
            #expect(error.path == otherWeights.path)
            #expect(error.description.contains("does not hold this config's network_g"))
        }

        // Non-finite weights are refused too.
        var tensors = try SafeTensors.read(runs.appendingPathComponent("other/checkpoints/step_00000004/net_g.safetensors"))
        let first = tensors.keys.sorted()[0]
        tensors[first]!.values[0] = .nan
        let nanWeights = runs.appendingPathComponent("nan.safetensors")
        try SafeTensors.write(tensors.values.sorted { $0.name < $1.name }, to: nanWeights)
        config.name = "bad3"
        config.networkG.widths = [8]
        config.train.initFrom = nanWeights.path
        do {
            _ = try TrainingRunTests.train(config, in: runs, maxSteps: 1)
            Issue.record("a NaN weight was accepted")
        } catch let error as InitialWeightsError {
            #expect(error.description.contains("non-finite"))
        }
    }

    @Test func anAbsentKeyKeepsTheConfigHash() throws {
        // The paper's config has neither key: its resolved text, and so its hash, does not mention them.
        let config = try TrainingConfigLoader.load(configURL("jdrl-unet-paper.yaml"))
        #expect(config.train.initFrom == nil && config.train.reblurWarmupEpochs == nil)
        let yaml = try TrainingConfigLoader.resolvedYAML(config)
        #expect(!yaml.contains("init_from") && !yaml.contains("reblur_warmup_epochs"))
        // `init_from: null` over a base that sets it removes it (the prior UNet starts fresh).
        let prior = try TrainingConfigLoader.load(configURL("jdrl-prior-unet-cpu.yaml"))
        #expect(prior.train.initFrom == nil)
        #expect(try TrainingConfigLoader.load(configURL("baseline-unet-cpu.yaml")).train.initFrom == "pretrained/unet-cpu/net_g.safetensors")
    }

    @Test func theReblurWarmupTrainsROnlyThenBoth() throws {
        let runs = Fixtures.temporaryDirectory("reblur-warmup")
        defer { try? FileManager.default.removeItem(at: runs) }
        // 4 patches, batch 1: 4 steps per epoch. Epoch 0 initialisation, epoch 1 R alone, epochs 2-3 both.
        var config = try TrainingRunTests.tinyConfig(name: "warmup", epochs: 4, initEpochs: 1, everySteps: 4)
        config.networkG.dropout = 0
        config.train.reblurWarmupEpochs = 1
        try TrainingConfigLoader.validate(config)
        _ = try TrainingRunTests.train(config, in: runs)
        func weights(_ step: Int, _ file: String) throws -> [String: SafeTensors.Tensor] {
            try SafeTensors.read(runs.appendingPathComponent(String(format: "warmup/checkpoints/step_%08d/%@", step, file)))
        }
        func changed(_ a: [String: SafeTensors.Tensor], _ b: [String: SafeTensors.Tensor]) -> Bool {
            a.contains { name, tensor in b[name]!.values != tensor.values }
        }
        #expect(try changed(weights(0 + 4, "net_g.safetensors"), weights(8, "net_g.safetensors")) == false, "F frozen in the warm-up epoch")
        #expect(try changed(weights(8, "net_g.safetensors"), weights(12, "net_g.safetensors")), "F trains after it")
        #expect(try changed(weights(8, "net_reblur.safetensors"), weights(12, "net_reblur.safetensors")), "R trains")

        config.train.reblurWarmupEpochs = 4
        #expect(throws: TrainingConfigError.self) { try TrainingConfigLoader.validate(config) }
        config.train.reblurWarmupEpochs = 1
        config.train.lossMode = .baseline
        #expect(throws: TrainingConfigError.self) { try TrainingConfigLoader.validate(config) }
    }
}
