// Benchmarks of the numeric core: a JDRL training step (F + R, Adam) at 256x256 and UNet inference,
// against today's PyTorch running the same networks (pipelines/peers/torch_train_step.py and
// torch_tiled_unet.py over the peers' torch_jdrl.py) spawned from this process.
import CBenchSupport
import CDNNL
import COpenBLAS
import Foundation
import Models
import Tensors

enum NumericBenchmarks {
    static var peerScript: String { PeerLocations.ownScript("torch_train_step.py") }

    static func trainStepPaper() throws {
        try trainStep(name: "train-step-paper", widths: [64, 128, 256, 512, 1024], reblurWidth: 64)
    }

    static func trainStepCPU() throws {
        try trainStep(name: "train-step-cpu", widths: [32, 64, 128, 256], reblurWidth: 32)
    }

    static func trainStep(name: String, widths: [Int], reblurWidth: Int, size: Int = 256, steps: Int = 5) throws {
        let unet = try UNet(config: UNetConfig(widths: widths, dropout: 0.4), seed: 0)
        let reblur = try ReblurModule(width: reblurWidth, seed: 1)
        let step = TrainingStep(unet: unet, reblur: reblur, optimizer: Adam(lr: 2e-5))
        var g = SeededGenerator(seed: 2)
        let count = 3 * size * size
        let blurry = (0..<count).map { _ in g.nextUniform() }, target = (0..<count).map { _ in g.nextUniform() }
        // Split timing of the parts (F, R) is taken on one extra step, outside the median.
        _ = step.run(blurry: blurry, target: target, n: 1, h: size, w: size)   // plans buffers and primitives
        var times: [Double] = []
        for _ in 0..<steps {
            let t0 = now()
            _ = step.run(blurry: blurry, target: target, n: 1, h: size, w: size)
            times.append(now() - t0)
        }
        let ours = median(times)
        // Multiply-adds: forward, backward-data and backward-weights each cost one forward's worth.
        let macs = 3 * (unet.forwardMACs(n: 1, h: size, w: size) + reblur.forwardMACs(n: 1, h: size, w: size))
        let peerArguments = ["simple", "--threads", "\(Engine.shared.threads)", "--size", "\(size)",
                             "--widths", widths.map(String.init).joined(separator: ","), "--reblur-width", "\(reblurWidth)"]
        let peer = runPeer(peerArguments)
        let debianPeer = runPeer(peerArguments + ["--modes", "default", "--steps", "3"], interpreter: PeerLocations.debianPython)
        // The rate counts a direct convolution's multiply-adds (what PyTorch runs); Winograd layers
        // do fewer, so this is the work-equivalent rate, not the FMA units' occupancy.
        let rate = 2 * macs / ours / 1e9
        let sgemm = measuredSgemmGFLOPS()
        let fmaPeak = jdrl_peak_fma_gflops(Int32(Engine.shared.threads), 20_000_000, 3)
        let peak = max(sgemm.onednn, sgemm.openBLAS, fmaPeak)
        var fields: [String: Any] = [
            "bench": name, "ours_s": ours, "ours_s_all": times, "size": size, "widths": widths, "reblur_width": reblurWidth,
            "threads": Engine.shared.threads,
            "conv_algorithm": Engine.shared.platform.algorithms,
            // What is timed, in plain words: not make train's step, which adds the warps and masks.
            "timed": "Models.TrainingStep: UNet and reblurring module forward and backward plus Adam, batch 1, "
                + "Charbonnier to a fixed target and the reblur term; no flow warps, no calibration masks, no data loading",
            "unet_params": unet.parameterCount, "reblur_params": reblur.parameterCount,
            "conv_gflop_per_step": 2 * macs / 1e9, "conv_gflops": rate,
            "peak_gflops_sgemm_onednn": sgemm.onednn, "peak_gflops_sgemm_openblas": sgemm.openBLAS,
            "peak_gflops_fma": fmaPeak, "peak_fma_vector_floats": Int(jdrl_peak_fma_width()), "fraction_of_peak": rate / peak,
            "fraction_of_peak_counts": "a direct convolution's multiply-adds (what PyTorch runs); Winograd layers do fewer, so it can pass 1",
            "vmhwm_mb": peakMemoryMB(), "reblur_blur": "ring-sum IsotropicBlur",
        ]
        PeerFields.add(peer, key: "train_step_s_median", ours: ours, to: &fields)
        PeerFields.addDebian(debianPeer, key: "train_step_s_median", to: &fields)
        fields["parts_s"] = partTimes(unet: unet, reblur: reblur, blurry: blurry, size: size)
        Benchmarks.emit(fields)
    }

    /// Forward/backward of F and R separately (one run each) to show where a step's time goes.
    static func partTimes(unet: UNet, reblur: ReblurModule, blurry: [Float], size: Int) -> [String: Double] {
        var out = [Float](repeating: 0, count: blurry.count), re = out, grad = out
        let g = [Float](repeating: 1e-3, count: blurry.count)
        var t = now(); unet.forward(input: blurry, output: &out, n: 1, h: size, w: size, training: true)
        let fF = now() - t
        t = now(); reblur.forward(deblurred: out, blurry: blurry, reblurred: &re, seeds: nil, n: 1, h: size, w: size)
        let fR = now() - t
        t = now(); reblur.backward(gradReblurred: g, gradDeblurred: &grad)
        let bR = now() - t
        t = now(); unet.backward(gradOutput: g)
        let bF = now() - t
        var adam = Adam(lr: 0)
        t = now(); adam.step([unet, reblur]); let a = now() - t
        return ["unet_forward": fF, "reblur_forward": fR, "reblur_backward": bR, "unet_backward": bF, "adam": a]
    }

    /// Where a CPU-sized step's time goes (F and R forward/backward, Adam), no peer.
    static func stepPartsCPU() throws {
        let size = 256
        let unet = try UNet(config: .cpu, seed: 0)
        let reblur = try ReblurModule(width: 32, seed: 1)
        var g = SeededGenerator(seed: 2)
        let blurry = (0..<(3 * size * size)).map { _ in g.nextUniform() }
        _ = partTimes(unet: unet, reblur: reblur, blurry: blurry, size: size)
        let parts = partTimes(unet: unet, reblur: reblur, blurry: blurry, size: size)
        Benchmarks.emit(["bench": "step-parts-cpu", "ours_s": parts.values.reduce(0, +), "parts_s": parts,
                         "peer": "none", "vmhwm_mb": peakMemoryMB()])
    }

    /// Where a paper-sized step's time goes, per oneDNN primitive kind (the rest is Swift ops).
    static func stepProfile() throws { try stepProfile(name: "step-profile", config: .paper, reblurWidth: 64) }

    /// The same for the CPU-sized step (widths 32..256, R width 32).
    static func stepProfileCPU() throws { try stepProfile(name: "step-profile-cpu", config: .cpu, reblurWidth: 32) }

    static func stepProfile(name: String, config: UNetConfig, reblurWidth: Int) throws {
        let size = 256
        let unet = try UNet(config: config, seed: 0)
        let reblur = try ReblurModule(width: reblurWidth, seed: 1)
        let step = TrainingStep(unet: unet, reblur: reblur, optimizer: Adam(lr: 2e-5))
        var g = SeededGenerator(seed: 2)
        let blurry = (0..<(3 * size * size)).map { _ in g.nextUniform() }
        _ = step.run(blurry: blurry, target: blurry, n: 1, h: size, w: size)
        Engine.shared.profiling = true
        let steps = 3
        let t0 = now()
        for _ in 0..<steps { _ = step.run(blurry: blurry, target: blurry, n: 1, h: size, w: size) }
        let total = (now() - t0) / Double(steps)
        Engine.shared.profiling = false
        let rows = Engine.shared.profile.sorted { $0.value.seconds > $1.value.seconds }
        var inPrimitives = 0.0
        for (label, entry) in rows {
            inPrimitives += entry.seconds / Double(steps)
            print(String(format: "%8.1f ms %5d  %@", entry.seconds / Double(steps) * 1000, entry.calls / steps, label))
        }
        Benchmarks.emit(["bench": name, "ours_s": total, "onednn_s": inPrimitives, "other_s": total - inPrimitives, "peer": "none",
                         "reorder_impl": Engine.shared.implementations(keysContaining: "reorder").sorted()])
    }

    /// Where the paper UNet's f32 inference at 256x256 goes, per oneDNN primitive and Swift op
    /// (the rest, "other_s", is unlabelled Swift work), no peer.
    static func inferProfile() throws {
        let size = 256, runs = 5
        let unet = try UNet(config: .paper, seed: 0)
        var g = SeededGenerator(seed: 2)
        let input = (0..<(3 * size * size)).map { _ in g.nextUniform() }
        var output = [Float](repeating: 0, count: input.count)
        unet.forward(input: input, output: &output, n: 1, h: size, w: size, training: false)
        Engine.shared.resetProfile()
        Engine.shared.profiling = true
        let t0 = now()
        for _ in 0..<runs { unet.forward(input: input, output: &output, n: 1, h: size, w: size, training: false) }
        let total = (now() - t0) / Double(runs)
        Engine.shared.profiling = false
        var labelled = 0.0
        for (label, entry) in Engine.shared.profile.sorted(by: { $0.value.seconds > $1.value.seconds }) {
            labelled += entry.seconds / Double(runs)
            print(String(format: "%8.2f ms %4d  %@", entry.seconds / Double(runs) * 1000, entry.calls / runs, label))
        }
        Benchmarks.emit(["bench": "infer-profile", "ours_s": total, "labelled_s": labelled, "other_s": total - labelled, "peer": "none",
                         "threads": Engine.shared.threads, "conv_algorithm": Engine.shared.platform.algorithms,
                         "reorder_impl": Engine.shared.implementations(keysContaining: "reorder").sorted()])
    }

    /// UNet inference at 256x256 (paper widths) in f32 and in bf16 (AMX), with their difference.
    static func unetInfer() throws {
        let size = 256
        let unet = try UNet(config: .paper, seed: 0)
        var g = SeededGenerator(seed: 2)
        let input = (0..<(3 * size * size)).map { _ in g.nextUniform() }
        var output = [Float](repeating: 0, count: input.count), outputBF16 = output
        func time(_ precision: ElementType, into out: inout [Float]) -> [Double] {
            unet.forward(input: input, output: &out, n: 1, h: size, w: size, training: false, precision: precision)
            return (0..<5).map { _ in
                let t0 = now()
                // As jdrl-deblur runs every tile after an image's first: the weights' transforms are kept.
                unet.forward(input: input, output: &out, n: 1, h: size, w: size, training: false, precision: precision,
                             reuseWeights: true)
                return now() - t0
            }
        }
        let f32 = time(.f32, into: &output)
        let ours = median(f32)
        let macs = unet.forwardMACs(n: 1, h: size, w: size)
        // The peer is timed as ours is: the same UNet under no_grad, one warm-up, the median of 5
        // (torch_jdrl.py's `time` times a single inference after its training steps, too noisy on a shared machine).
        let script = PeerLocations.ownScript("torch_tiled_unet.py")
        let peerArguments = ["--tiles", "1", "--size", "\(size)", "--measure", "\(f32.count)", "--threads", "\(Engine.shared.threads)",
                             "--peers", PeerLocations.folder]
        let peer = runPeer(peerArguments + ["--onnx"], script: script)
        let debianPeer = runPeer(peerArguments + ["--modes", "default"], script: script, interpreter: PeerLocations.debianPython)
        var fields: [String: Any] = ["bench": "unet-infer", "ours_s": ours, "ours_s_all": f32, "size": size,
                                     "conv_gflops": 2 * macs / ours / 1e9, "vmhwm_mb": peakMemoryMB(),
                                     "threads": Engine.shared.threads, "bf16": Engine.shared.platform.bf16.rawValue,
                                     "timed": "median of \(f32.count) f32 forwards after one warm-up, all sides; ours keeps the weight transforms from the warm-up, as jdrl-deblur does from a second tile on"]
        PeerFields.add(peer, key: "tile_s", ours: ours, to: &fields)
        PeerFields.addONNXRuntime(peer, key: "onnxruntime_tile_s", ours: ours, to: &fields)
        PeerFields.addDebian(debianPeer, key: "tile_s", to: &fields)
        // bf16 where oneDNN has bf16 convolutions (AVX-512; AMX makes them fast).
        if Engine.shared.platform.bf16 != .unavailable {
            let bf16 = time(.bf16, into: &outputBF16)
            let maxDifference = zip(output, outputBF16).map { abs($0 - $1) }.max() ?? 0
            let meanDifference = zip(output, outputBF16).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(output.count)
            fields["bf16_s"] = median(bf16); fields["bf16_s_all"] = bf16; fields["bf16_speedup_vs_f32"] = ours / median(bf16)
            fields["bf16_conv_impl"] = unet.forwardImplementations[1]
            fields["bf16_amx_palette_corrected"] = Engine.shared.amxPaletteWasCorrected
            fields["bf16_amx_tile_configurations"] = Engine.shared.amxTileConfigurations
            fields["bf16_vs_f32_max_abs_diff"] = Double(maxDifference); fields["bf16_vs_f32_mean_abs_diff"] = meanDifference
            if let p = fields["peer_s"] as? Double { fields["bf16_speedup"] = p / median(bf16) }
        }
        if ProcessInfo.processInfo.environment["JDRL_BENCH_VERBOSE"] != nil && Engine.shared.platform.bf16 != .unavailable {
            for line in unet.forwardImplementations { print("  " + line) }
            Engine.shared.profiling = true
            unet.forward(input: input, output: &outputBF16, n: 1, h: size, w: size, training: false, precision: .bf16)
            Engine.shared.profiling = false
            for (label, entry) in Engine.shared.profile.sorted(by: { $0.value.seconds > $1.value.seconds }) {
                print(String(format: "%8.2f ms %4d  %@", entry.seconds * 1000, entry.calls, label))
            }
        }
        Benchmarks.emit(fields)
    }

    // MARK: helpers

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    /// Each run's seconds of `body` after one warm-up run (which plans buffers and primitives).
    static func timedRuns(_ runs: Int, _ body: () -> Void) -> [Double] {
        body()
        return (0..<runs).map { _ in
            let started = now()
            body()
            return now() - started
        }
    }

    /// A PyTorch peer's JSON (nil when its interpreter or torch is unavailable), by default on
    /// today's PyTorch (`PeerLocations.modernPython`). A failure is named on stderr.
    static func runPeer(_ arguments: [String], script: String = peerScript,
                        interpreter: String = PeerLocations.modernPython) -> [String: Any]? {
        guard let run = try? PeerRun.python([script] + arguments, interpreter: interpreter) else {
            FileHandle.standardError.write("jdrl-bench: cannot start \(interpreter)\n".data(using: .utf8)!)
            return nil
        }
        if run.result == nil {
            FileHandle.standardError.write("jdrl-bench: \(interpreter) \(script) failed (exit \(run.status)): \(run.lastError)\n".data(using: .utf8)!)
        }
        return run.result
    }

    /// FP32 rate of sgemm (1024^3, best of 5) on all threads, the machine's practical peak: oneDNN's
    /// (what the project calls; it picks kernels by ISA) and OpenBLAS's (with the core it loaded).
    static func measuredSgemmGFLOPS() -> (onednn: Double, openBLAS: Double) {
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        func best(_ multiply: () -> Void) -> Double {
            var best = Double.infinity
            for _ in 0..<5 {
                let t0 = now()
                multiply()
                best = min(best, now() - t0)
            }
            return 2 * Double(n * n * n) / best / 1e9
        }
        let big = Int64(n), small = Int32(n)
        let onednn = best { _ = dnnl_sgemm(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "N")), big, big, big, 1, a, big, b, big, 0, &c, big) }
        // 0 (not measured) when a forced OPENBLAS_CORETYPE loaded kernels this CPU lacks: the call would be SIGILL.
        guard PeerRun.ownOpenBLASRuns else { return (onednn, 0) }
        let openBLAS = best { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, small, small, small, 1, a, small, b, small, 0, &c, small) }
        return (onednn, openBLAS)
    }

    /// Restarts VmHWM from the current resident set (Linux: 5 > /proc/self/clear_refs), after
    /// handing memory freed by earlier work back to the system (else it counts in the next peak).
    static func resetPeakMemory() {
        jdrl_release_free_memory()
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// VmHWM (peak resident set) of this process in MB.
    static func peakMemoryMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kb / 1024
    }
}
