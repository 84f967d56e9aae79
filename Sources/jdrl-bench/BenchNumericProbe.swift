// conv-probe: one 3x3 64->64 convolution at 256x256 in the blocked layout, forward and backward,
// with the oneDNN implementation names (a quick check that the JIT kernels, not reference loops, run).
import Foundation
import Tensors

extension NumericBenchmarks {
    static func convProbe() throws {
        let shape = ConvShape.conv3x3(64, 64)
        let parameters = ParameterArena([("w", [64, 64, 3, 3]), ("b", [64])])
        var g = SeededGenerator(seed: 1)
        for i in 0..<parameters.count { parameters.values[i] = 0.05 * g.nextNormal() }
        let conv = Conv2D(shape, fusedReLU: true, weights: parameters.values, gradients: parameters.gradients)
        let src = Tensor(n: 1, c: 64, h: 256, w: 256, layout: .blocked), dst = Tensor(n: 1, c: 64, h: 256, w: 256, layout: .blocked)
        let gSrc = Tensor(n: 1, c: 64, h: 256, w: 256, layout: .blocked), gDst = Tensor(n: 1, c: 64, h: 256, w: 256, layout: .blocked)
        for i in 0..<src.storageCount { src.pointer[i] = g.nextUniform() }
        conv.forward(src: src, dst: dst); conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
        var fwd: [Double] = [], bwd: [Double] = []
        for _ in 0..<5 {
            var t = now(); conv.forward(src: src, dst: dst); fwd.append(now() - t)
            for i in 0..<gDst.storageCount { gDst.pointer[i] = 1e-3 }
            t = now(); conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc); bwd.append(now() - t)
        }
        let flop = 2 * shape.macs(n: 1, h: 256, w: 256)
        let f32Implementation = conv.forwardImplementation
        var fields: [String: Any] = ["bench": "conv-probe", "ours_s": median(fwd) + median(bwd), "forward_s": median(fwd),
                                     "backward_s": median(bwd), "forward_gflops": flop / median(fwd) / 1e9,
                                     "backward_gflops": 2 * flop / median(bwd) / 1e9, "impl": f32Implementation, "peer": "none",
                                     "bf16": Engine.shared.platform.bf16.rawValue]
        // The same convolution in bf16 (NHWC, inference): AMX where the CPU has it; skipped where
        // oneDNN has no bf16 convolution (before AVX-512).
        guard Engine.shared.platform.bf16 != .unavailable else { return Benchmarks.emit(fields) }
        let srcBF16 = Tensor(n: 1, c: 64, h: 256, w: 256, layout: .channelsLast, elementType: .bf16)
        let dstBF16 = Tensor(n: 1, c: 64, h: 256, w: 256, layout: .channelsLast, elementType: .bf16)
        Reorder.run(from: src, to: srcBF16)
        conv.forward(src: srcBF16, dst: dstBF16)
        var bf16: [Double] = []
        for _ in 0..<5 {
            let t = now(); conv.forward(src: srcBF16, dst: dstBF16, reuseWeights: true); bf16.append(now() - t)
        }
        fields["bf16_forward_s"] = median(bf16)
        fields["bf16_forward_gflops"] = flop / median(bf16) / 1e9
        fields["bf16_impl"] = conv.forwardImplementation
        Benchmarks.emit(fields)
    }
}

extension NumericBenchmarks {
    /// precision-probe: the f32 and bf16 forward times of 3x3 convolutions of the UNets' shapes
    /// (channels x side), as `--precision auto`'s probe times its own two; no peer.
    static func precisionProbe() throws {
        guard Engine.shared.platform.bf16 != .unavailable else {
            return Benchmarks.emit(["bench": "precision-probe", "peer": "none", "skipped": "no bf16 convolution on this CPU"])
        }
        let shapes: [(channels: Int, side: Int)] = [(32, 256), (64, 256), (64, 128), (64, 64), (128, 128), (128, 64), (128, 32),
                                                    (256, 64), (256, 32), (512, 32), (512, 16), (1024, 16)]
        let timings = PrecisionProbe.measure(shapes: shapes, rounds: 5)
        let probe = PrecisionProbe.measure()
        var rows: [[String: Any]] = []
        for (shape, t) in zip(shapes, timings) {
            rows.append(["channels": shape.channels, "side": shape.side, "f32_ms": t.f32Seconds * 1e3, "bf16_ms": t.bf16Seconds * 1e3,
                         "bf16_speedup": t.f32Seconds / t.bf16Seconds])
            print(String(format: "%5d ch %4d^2: f32 %8.3f ms  bf16 %8.3f ms  bf16 %.2fx", shape.channels, shape.side,
                         t.f32Seconds * 1e3, t.bf16Seconds * 1e3, t.f32Seconds / t.bf16Seconds))
        }
        Benchmarks.emit(["bench": "precision-probe", "peer": "none", "ours_s": probe.f32Seconds + probe.bf16Seconds, "shapes": rows,
                         "auto_probe_f32_ms": probe.f32Seconds * 1e3, "auto_probe_bf16_ms": probe.bf16Seconds * 1e3,
                         "auto_choice": AutoPrecision.decide(probe).rawValue])
    }
}
