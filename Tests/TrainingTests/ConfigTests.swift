import Foundation
import Models
import Testing
import Training

/// configs/ of the package, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
func configURL(_ name: String) -> URL { repositoryRoot.appendingPathComponent("configs").appendingPathComponent(name) }

@Suite struct ConfigTests {
    @Test func paperConfigHasThePaperSetting() throws {
        let c = try TrainingConfigLoader.load(configURL("jdrl-unet-paper.yaml"))
        #expect(c.networkG.widths == [64, 128, 256, 512, 1024])
        #expect(c.datasets.train.cropSize == 256)
        #expect(c.train.optimizer.lr == 2e-5)
        #expect(c.train.scheduler.type == .multistep && c.train.scheduler.milestones == [60] && c.train.scheduler.gamma == 0.5)
        #expect(c.train.epochs == 100 && c.train.initEpochs == 15)
        #expect(c.train.alpha == 0.5 && c.train.lambda == 0.35 && c.train.charbonnierEps == 1e-3)
        #expect(c.train.lossMode == .jdrl && c.train.ablation == .none)
        let schedule = LearningRateSchedule(c.train)
        #expect(schedule.learningRate(epoch: 59) == 2e-5)
        #expect(schedule.learningRate(epoch: 60) == 1e-5)
    }

    @Test func everyShippedConfigLoads() throws {
        let names = ["jdrl-unet-paper.yaml", "jdrl-unet-cpu.yaml", "baseline-unet-cpu.yaml", "jdrl-unet-cpu-online.yaml",
                     "jdrl-nafnet-cpu.yaml", "baseline-nafnet-cpu.yaml", "jdrl-prior-unet-paper.yaml", "jdrl-prior-unet-cpu.yaml", "jdrl-prior-nafnet-cpu.yaml", "ablations/no_deformation.yaml", "ablations/no_mask.yaml", "ablations/no_cycle.yaml", "ablations/no_reblur.yaml"]
        var hashes = Set<String>()
        for name in names {
            let c = try TrainingConfigLoader.load(configURL(name))
            hashes.insert(try TrainingConfigLoader.hash(c))
        }
        #expect(hashes.count == names.count, "every config must differ (and hash differently)")
        let ablation = try TrainingConfigLoader.load(configURL("ablations/no_mask.yaml"))
        #expect(ablation.train.ablation.noMask && !ablation.train.ablation.noCycle)
        #expect(try TrainingConfigLoader.load(configURL("baseline-unet-cpu.yaml")).train.lossMode == .baseline)
    }

    @Test func priorConfigsHaveTheJournalsSetting() throws {
        let paper = try TrainingConfigLoader.load(configURL("jdrl-prior-unet-paper.yaml"))
        #expect(paper.networkG.prior == BlurPriorSection(weight: 0.5, rampStart: 0.001))
        #expect(paper.networkG.widths == [64, 128, 256, 512, 1024] && !paper.networkG.residual)
        #expect(paper.train.optimizer.lr == 1e-5 && paper.train.epochs == 200 && paper.train.initEpochs == 15)
        let schedule = LearningRateSchedule(paper.train)
        #expect(schedule.learningRate(epoch: 69) == 1e-5 && schedule.learningRate(epoch: 70) == 5e-6 && schedule.learningRate(epoch: 140) == 2.5e-6)
        // The authors' ramp: 0.001 + (epoch + 1) / 15 * 0.999 during the init stage, then 1.
        let prior = try #require(paper.networkG.prior)
        #expect(abs(prior.ramp(epoch: 0, initEpochs: 15) - Float(0.001 + 0.999 / 15)) < 1e-7)
        #expect(prior.ramp(epoch: 14, initEpochs: 15) == 1 && prior.ramp(epoch: 15, initEpochs: 15) == 1)
        // The CPU config is the default CPU network plus the prior, trained from scratch: the shipped
        // pretrained weights are the plain UNet's, so it keeps the from-scratch schedule.
        var cpu = try TrainingConfigLoader.load(configURL("jdrl-prior-unet-cpu.yaml"))
        let plain = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml"))
        #expect(cpu.networkG.prior != nil)
        #expect(cpu.train.initFrom == nil && plain.train.initFrom != nil)
        #expect(cpu.train.optimizer.lr == 5e-4 && cpu.train.epochs == 80 && cpu.train.initEpochs == 12)
        cpu.networkG.prior = nil
        #expect(cpu.networkG == plain.networkG && cpu.datasets == plain.datasets && cpu.networkReblur == plain.networkReblur)
        expectRefusals(of: try String(contentsOf: configURL("jdrl-prior-unet-cpu.yaml"), encoding: .utf8), path: configURL("jdrl-prior-unet-cpu.yaml").path, [
            ("    ramp_start: 0.001", "    ramp_start: 0", "ramp_start"),
            ("    weight: 0.5", "    weight: -1", "weight"),
            ("    weight: 0.5", "    weight: 0.5\n    wieght: 1", "'wieght' in section 'network_g.prior'"),
        ])
    }

    /// Each (original, replacement, expected): the config with that one edit is refused, the reason naming `expected`.
    /// `path`: where the text's `base:` is resolved from.
    func expectRefusals(of text: String, path: String = "<config>", _ cases: [(String, String, String)]) {
        for (original, replacement, expected) in cases {
            #expect(text.contains(original))
            do {
                _ = try TrainingConfigLoader.parse(text.replacingOccurrences(of: original, with: replacement), path: path)
                Issue.record("accepted a config with \(replacement)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    @Test func unknownKeysAreRejectedInEverySection() throws {
        let text = try String(contentsOf: configURL("jdrl-unet-cpu.yaml"), encoding: .utf8)
        let typos: [(String, String, String)] = [
            ("seed: 0", "seed: 0\nsede: 1", "'sede' in top level"),
            ("    crop_size: 64", "    crop_size: 64\n    crop: 64", "'crop' in section 'datasets.train'"),
            ("    no_mask: false", "    no_mask: false\n    no_masks: true", "'no_masks' in section 'train.ablation'"),
            ("    gamma: 0.5", "    gamma: 0.5\n    gama: 0.1", "'gama' in section 'train.scheduler'"),
            ("  print_every_steps: 10", "  print_every_steps: 10\n  print_freq: 5", "'print_freq' in section 'logger'"),
        ]
        for (original, replacement, expected) in typos {
            #expect(text.contains(original))
            do {
                _ = try TrainingConfigLoader.parse(text.replacingOccurrences(of: original, with: replacement))
                Issue.record("accepted a config with \(expected)")
            } catch let error as TrainingConfigError {
                #expect(error.reason.contains(expected), "\(error.reason)")
            }
        }
    }

    @Test func crossFieldRulesExplainWhatToChange() throws {
        let text = try String(contentsOf: configURL("jdrl-unet-cpu.yaml"), encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("    no_isotropic: false", "    no_isotropic: true", "isotropic kernels"),
            ("    crop_size: 64", "    crop_size: 100", "multiple of 8"),
            ("  init_epochs: 2", "  init_epochs: 500", "init_epochs"),
            ("  init_epochs: 2", "  init_epochs: 2\n  reblur_warmup_epochs: 19", "reblur_warmup_epochs"),
            ("  loss_mode: jdrl", "  loss_mode: jdrI", "loss_mode"),
        ]
        expectRefusals(of: text, cases)
    }

    @Test func colourAlignmentIsOnForTheCPUConfigsAndOffForThePaper() throws {
        #expect(try TrainingConfigLoader.load(configURL("jdrl-unet-paper.yaml")).train.colourAlignment == ColourAlignmentMode.none)
        for name in ["jdrl-unet-cpu.yaml", "jdrl-unet-cpu-online.yaml", "baseline-unet-cpu.yaml", "ablations/no_deformation.yaml",
                     "ablations/no_mask.yaml", "ablations/no_cycle.yaml", "ablations/no_reblur.yaml"] {
            #expect(try TrainingConfigLoader.load(configURL(name)).train.colourAlignment == .gainOffset, "\(name)")
        }
        let text = try String(contentsOf: configURL("jdrl-unet-cpu.yaml"), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("  colour_alignment:") }.map(String.init))
        // An unknown value is refused with the choices named; a missing key is refused by name.
        do {
            _ = try TrainingConfigLoader.parse(text.replacingOccurrences(of: line, with: "  colour_alignment: gain"))
            Issue.record("accepted colour_alignment: gain")
        } catch {
            #expect("\(error)".contains("unknown colour_alignment 'gain'; choices: none, gain_offset"), "\(error)")
        }
        do {
            _ = try TrainingConfigLoader.parse(text.replacingOccurrences(of: line + "\n", with: ""))
            Issue.record("accepted a config without train.colour_alignment")
        } catch {
            #expect("\(error)".contains("missing key 'train.colour_alignment'"), "\(error)")
        }
        #expect(try TrainingConfigLoader.parse(text.replacingOccurrences(of: line, with: "  colour_alignment: none")).train.colourAlignment == ColourAlignmentMode.none)
    }

    @Test func networkTypeChoosesNAFNetAndLeavesUNetConfigsAsTheyWere() throws {
        let nafnet = try TrainingConfigLoader.load(configURL("jdrl-nafnet-cpu.yaml"))
        #expect(nafnet.networkG.architecture == .nafnet)
        #expect(nafnet.networkG.nafnet == NAFNetConfig(width: 16, encoderBlocks: [1, 1, 1, 1], middleBlocks: 1, decoderBlocks: [1, 1, 1, 1]))
        let again = try TrainingConfigLoader.parse(try TrainingConfigLoader.resolvedYAML(nafnet))
        #expect(try TrainingConfigLoader.hash(again) == TrainingConfigLoader.hash(nafnet))
        // A UNet config without `type` resolves without it (its hash, and the resume of its runs, unchanged).
        let unet = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml"))
        #expect(unet.networkG.type == nil && unet.networkG.architecture == .unet)
        let yaml = try TrainingConfigLoader.resolvedYAML(unet)
        #expect(!yaml.contains("type: unet") && !yaml.contains("nafnet"))

        let text = try String(contentsOf: configURL("jdrl-nafnet-cpu.yaml"), encoding: .utf8)
        func reason(_ edited: String) -> String {
            do { _ = try TrainingConfigLoader.parse(edited); return "accepted" } catch { return "\(error)" }
        }
        #expect(reason(text.replacingOccurrences(of: "  type: nafnet\n", with: "  type: resnet\n")).contains("unknown type 'resnet'; choices: unet, nafnet"))
        #expect(reason(text.replacingOccurrences(of: "dec_blocks: [1, 1, 1, 1]", with: "dec_blocks: [1, 1]")).contains("enc_blocks and dec_blocks lists of the same length"))
        #expect(reason(text.replacingOccurrences(of: "crop_size: 64", with: "crop_size: 40")).contains("multiple of 16 (2^levels for 4 NAFNet levels)"))
        let section = "  nafnet:\n    width: 16\n    enc_blocks: [1, 1, 1, 1]\n    middle_blocks: 1\n    dec_blocks: [1, 1, 1, 1]\n"
        #expect(text.contains(section))
        let withoutSection = text.replacingOccurrences(of: section, with: "")
        #expect(reason(withoutSection).contains("network_g.type nafnet needs a network_g.nafnet section"))
    }

    @Test func resolvedConfigRoundTripsWithTheSameHash() throws {
        let c = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml"))
        let yaml = try TrainingConfigLoader.resolvedYAML(c)
        let again = try TrainingConfigLoader.parse(yaml)
        #expect(again == c)
        #expect(try TrainingConfigLoader.hash(again) == TrainingConfigLoader.hash(c))
    }

    @Test func schedulesAndStages() throws {
        var c = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml"))
        #expect(c.networkG.residual && c.train.scheduler.type == .cosine && c.train.scheduler.warmupSteps == 0,
                "the CPU default's levers (docs/results.md)")
        #expect(c.train.initFrom == "pretrained/unet-cpu/net_g.safetensors" && c.train.lossWarp == .bicubic,
                "the default fine-tunes the shipped pretrained network with bicubic loss warps")
        c.train.scheduler.etaMin = 1e-6
        let cosine = LearningRateSchedule(c.train)
        #expect(abs(cosine.learningRate(epoch: 0) - 1e-4) < 1e-12)
        #expect(abs(cosine.learningRate(epoch: c.train.epochs) - 1e-6) < 1e-12)
        let half = 1e-6 + (1e-4 - 1e-6) * (1 + cos(Double.pi * Double(c.train.epochs / 2) / Double(c.train.epochs))) / 2
        #expect(abs(cosine.learningRate(epoch: c.train.epochs / 2) - half) < 1e-12)
        #expect(TrainingStage.at(epoch: c.train.initEpochs - 1, train: c.train) == .initialisation)
        #expect(TrainingStage.at(epoch: c.train.initEpochs, train: c.train) == .joint)
        c.train.lossMode = .baseline
        #expect(TrainingStage.at(epoch: 0, train: c.train) == .baseline)
    }

    @Test func warmupRampsLinearlyThenFollowsTheSchedule() throws {
        var c = try TrainingConfigLoader.load(configURL("jdrl-unet-paper.yaml"))
        #expect(c.train.scheduler.warmupSteps == 0 && !c.networkG.residual, "the paper's setting has neither lever")
        c.train.scheduler.warmupSteps = 4
        let schedule = LearningRateSchedule(c.train)
        #expect(abs(schedule.learningRate(step: 0, epoch: 0) - 2e-5 / 4) < 1e-15)
        #expect(abs(schedule.learningRate(step: 2, epoch: 0) - 2e-5 * 3 / 4) < 1e-15)
        #expect(schedule.learningRate(step: 3, epoch: 0) == 2e-5)
        #expect(schedule.learningRate(step: 100_000, epoch: 60) == 1e-5)
        c.train.scheduler.warmupSteps = -1
        #expect(throws: TrainingConfigError.self) { try TrainingConfigLoader.validate(c) }
    }
}
