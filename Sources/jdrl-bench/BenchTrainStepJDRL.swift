// train-step-jdrl: the step `make train` runs, timed through the training loop's own code
// (Training.TrainingStepRunner: F, the joint stage's flows and masks, JDRLLoss with the cycle and
// reblur terms through R, backward, Adam on F and R) on a batch already in memory, with the default
// config's sizes (configs/jdrl-unet-cpu.yaml: batch 4 of 64x64 crops). Its PyTorch twin
// (pipelines/peers/torch_train_step.py jdrl) runs the same step on the same batch, written here as
// safetensors, in the same run.
import Flow
import Foundation
import Imaging
import Tensors
import Training
import WeightFiles

extension NumericBenchmarks {
    /// The default config (`make train`'s); JDRL_BENCH_CONFIG times another (e.g. a narrower R) the same way.
    static var defaultTrainingConfig: String {
        ProcessInfo.processInfo.environment["JDRL_BENCH_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "configs/jdrl-unet-cpu.yaml"
    }

    static func trainStepJDRL() throws {
        let config = try TrainingConfigLoader.load(URL(fileURLWithPath: defaultTrainingConfig))
        let n = config.datasets.train.batchSize, size = config.datasets.train.cropSize
        let models = try ModelState.make(config)
        let loss = JDRLLoss(settings: LossSettings(config.train, prior: config.networkG.prior), batchSize: n, size: size)
        let batch = TrainingBatch(batchSize: n, size: size)
        try JointBatchMaker.fill(batch, maskMode: config.train.maskMode, lambda: Float(config.train.lambda))
        let runner = TrainingStepRunner(config: config, models: models, loss: loss)
        let epoch = config.train.initEpochs, lr = config.train.optimizer.lr
        var terms: LossTerms?
        func step() { terms = try! runner.run(batch: batch, stage: .joint, epoch: epoch, lr: lr) }
        let steps = 10
        let times = timedRuns(steps, step)
        let ours = median(times)

        // Where a step goes: oneDNN primitives and the labelled Swift ops, over a few more steps.
        Engine.shared.resetProfile()
        Engine.shared.profiling = true
        let profiled = 5
        let profileStart = now()
        for _ in 0..<profiled { step() }
        let profiledStep = (now() - profileStart) / Double(profiled)
        Engine.shared.profiling = false
        let rows = Engine.shared.profile.sorted { $0.value.seconds > $1.value.seconds }
        if ProcessInfo.processInfo.environment["JDRL_BENCH_VERBOSE"] != nil {
            for (label, entry) in rows {
                print(String(format: "%8.2f ms %5d  %@", entry.seconds / Double(profiled) * 1000, entry.calls / profiled, label))
            }
        }
        let labelled = rows.reduce(0) { $0 + $1.value.seconds } / Double(profiled)
        let top = rows.prefix(12).map { ["label": $0.key, "ms_per_step": $0.value.seconds / Double(profiled) * 1000,
                                         "calls_per_step": Double($0.value.calls / profiled)] as [String: Any] }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-bench-step-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let batchFile = folder.appendingPathComponent("batch.safetensors")
        try JointBatchMaker.write(batch, to: batchFile)
        let g = config.networkG
        var peerArguments = ["jdrl", batchFile.path, "--peers", PeerLocations.folder, "--threads", "\(Engine.shared.threads)",
                             "--widths", g.widths.map(String.init).joined(separator: ","), "--reblur-width", "\(config.networkReblur.width)",
                             "--dropout", "\(g.dropout)", "--alpha", "\(config.train.alpha)", "--eps", "\(config.train.charbonnierEps)",
                             "--lr", "\(lr)", "--steps", "\(steps)"]
        if g.residual { peerArguments.append("--residual") }
        let peer = runPeer(peerArguments)

        var fields: [String: Any] = [
            "bench": "train-step-jdrl", "ours_s": ours, "ours_s_all": times, "ours_s_min": times.min()!,
            "config": defaultTrainingConfig, "batch": n, "crop": size, "threads": Engine.shared.threads,
            "steps_per_s": 1 / ours, "unet_params": models.deblur.parameterCount, "reblur_params": models.reblur?.parameterCount ?? 0,
            "timed": "Training.TrainingStepRunner, joint stage: F forward, warp(GT) and warp(out) by the batch's flows, masked deblur "
                + "and cycle terms, alpha x reblur term through R, backward, Adam on F and R; batch in memory; median of \(steps) after a warm-up, both sides",
            "loss_total": terms?.total ?? .nan,
            "profiled_step_s": profiledStep, "profile_labelled_s": labelled, "profile_top": top,
        ]
        PeerFields.add(peer, key: "train_step_s_median", ours: ours, to: &fields)
        Benchmarks.emit(fields)
    }
}

/// A joint-stage batch made here (no manifest needed): smooth random blurry and sharp crops, smooth
/// flows of a few pixels both ways, and the calibration masks the config's mask mode makes of them,
/// as the data path (FlowCompletion) makes them for real patches.
enum JointBatchMaker {
    static func fill(_ batch: TrainingBatch, maskMode: MaskMode, lambda: Float) throws {
        let size = batch.size, plane = size * size
        var g = SeededGenerator(seed: 7)
        for sample in 0..<batch.batchSize {
            let phase = Float(sample) * 0.7
            for c in 0..<3 {
                for y in 0..<size {
                    for x in 0..<size {
                        let base = 0.5 + 0.25 * sin(Float(x) * 0.21 + phase + Float(c)) * cos(Float(y) * 0.17 - phase)
                        let i = (sample * 3 + c) * plane + y * size + x
                        batch.sharp[i] = base + 0.05 * (g.nextUniform() - 0.5)
                        batch.blurry[i] = base + 0.02 * (g.nextUniform() - 0.5)
                    }
                }
            }
            var forward = FlowField(width: size, height: size), backward = FlowField(width: size, height: size)
            for y in 0..<size {
                for x in 0..<size {
                    let i = y * size + x
                    let u = 1.5 * sin(Float(y) * 0.1 + phase) + 0.3 * (g.nextUniform() - 0.5)
                    let v = 1.0 * cos(Float(x) * 0.08 - phase) + 0.3 * (g.nextUniform() - 0.5)
                    forward.u[i] = u; forward.v[i] = v
                    backward.u[i] = -u; backward.v[i] = -v
                }
            }
            var parameters = MaskParameters()
            parameters.lambda = lambda
            let mask = try CalibrationMask.make(maskMode, forward: forward, backward: backward, parameters: parameters)
            let cycleMask = try CalibrationMask.make(maskMode, forward: backward, backward: forward, parameters: parameters)
            let at = sample * plane
            (batch.blurryToSharpU + at).update(from: forward.u, count: plane)
            (batch.blurryToSharpV + at).update(from: forward.v, count: plane)
            (batch.sharpToBlurryU + at).update(from: backward.u, count: plane)
            (batch.sharpToBlurryV + at).update(from: backward.v, count: plane)
            (batch.blurryToSharpMask + at).update(from: mask.pixels, count: plane)
            (batch.sharpToBlurryMask + at).update(from: cycleMask.pixels, count: plane)
        }
    }

    /// The batch as F32 safetensors for the PyTorch twin (images N x 3 x H x W, flows and masks N x H x W).
    static func write(_ batch: TrainingBatch, to url: URL) throws {
        let n = batch.batchSize, size = batch.size
        func tensor(_ name: String, _ pointer: UnsafeMutablePointer<Float>, image: Bool) -> SafeTensors.Tensor {
            let shape = image ? [n, 3, size, size] : [n, size, size]
            return SafeTensors.Tensor(name: name, shape: shape, values: Array(UnsafeBufferPointer(start: pointer, count: shape.reduce(1, *))))
        }
        try SafeTensors.write([
            tensor("blurry", batch.blurry, image: true), tensor("sharp", batch.sharp, image: true),
            tensor("blurry_to_sharp_u", batch.blurryToSharpU, image: false), tensor("blurry_to_sharp_v", batch.blurryToSharpV, image: false),
            tensor("sharp_to_blurry_u", batch.sharpToBlurryU, image: false), tensor("sharp_to_blurry_v", batch.sharpToBlurryV, image: false),
            tensor("blurry_to_sharp_mask", batch.blurryToSharpMask, image: false),
            tensor("sharp_to_blurry_mask", batch.sharpToBlurryMask, image: false),
        ], to: url)
    }
}
