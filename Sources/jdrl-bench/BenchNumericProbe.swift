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
        Benchmarks.emit(["bench": "conv-probe", "ours_s": median(fwd) + median(bwd), "forward_s": median(fwd),
                         "backward_s": median(bwd), "forward_gflops": flop / median(fwd) / 1e9,
                         "backward_gflops": 2 * flop / median(bwd) / 1e9, "impl": conv.forwardImplementation, "peer": "none"])
    }
}
