// conv-layers: every 3x3 convolution shape of the paper step at 256x256 (UNet levels and the
// reblurring trunks), forward + backward (data and weights), on oneDNN's convolution and on the
// project's own Winograd, side by side: the measurement behind `Conv2D.ownWinogradApplies`.
import Foundation
import Tensors

extension NumericBenchmarks {
    static func convLayers() throws {
        let shapes: [(cin: Int, cout: Int, size: Int)] = [
            (32, 32, 256), (64, 64, 256), (128, 64, 256), (64, 128, 128), (128, 128, 128), (256, 128, 128),
            (128, 256, 64), (256, 256, 64), (512, 256, 64), (256, 512, 32), (512, 512, 32), (1024, 512, 32),
            (512, 1024, 16), (1024, 1024, 16),
        ]
        var rows: [[String: Any]] = []
        let only = ProcessInfo.processInfo.environment["JDRL_BENCH_SHAPES"].map { $0.split(separator: ",").map(String.init) }
        for (cin, cout, size) in shapes where only == nil || only!.contains("\(cin)->\(cout)@\(size)") {
            let shape = ConvShape.conv3x3(cin, cout)
            let parameters = ParameterArena([("w", [cout, cin, 3, 3]), ("b", [cout])])
            var g = SeededGenerator(seed: 1)
            for i in 0..<parameters.count { parameters.values[i] = 0.05 * g.nextNormal() }
            let src = Tensor(n: 1, c: cin, h: size, w: size, layout: .blocked), gSrc = Tensor(n: 1, c: cin, h: size, w: size, layout: .blocked)
            let dst = Tensor(n: 1, c: cout, h: size, w: size, layout: .blocked), gDst = Tensor(n: 1, c: cout, h: size, w: size, layout: .blocked)
            for i in 0..<src.storageCount { src.pointer[i] = g.nextUniform() }
            for i in 0..<gDst.storageCount { gDst.pointer[i] = 1e-3 * g.nextUniform() }
            var row: [String: Any] = ["shape": "\(cin)->\(cout)@\(size)"]
            // Both layers side by side, timed in alternation, the minimum of 5 rounds each: on a shared
            // machine the minimum is what the code does, the rest is other people's work.
            let convs = [false, true].map { own in
                let conv = Conv2D(shape, weights: parameters.values, gradients: parameters.gradients)
                conv.ownWinogradOverride = own
                conv.forward(src: src, dst: dst); conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
                return conv
            }
            var fwd = [Double](repeating: .infinity, count: 2), bwd = fwd
            for _ in 0..<5 {
                for (k, conv) in convs.enumerated() {
                    var t = now(); conv.forward(src: src, dst: dst); fwd[k] = min(fwd[k], now() - t)
                    t = now(); conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc); bwd[k] = min(bwd[k], now() - t)
                }
            }
            for (k, name) in ["onednn", "wino"].enumerated() {
                row["\(name)_fwd_ms"] = (fwd[k] * 1e4).rounded() / 10
                row["\(name)_bwd_ms"] = (bwd[k] * 1e4).rounded() / 10
                row["\(name)_impl"] = convs[k].forwardImplementation
            }
            if ProcessInfo.processInfo.environment["JDRL_BENCH_VERBOSE"] != nil {
                Engine.shared.resetProfile()
                Engine.shared.profiling = true
                convs[1].forward(src: src, dst: dst); convs[1].backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
                Engine.shared.profiling = false
                for (label, entry) in Engine.shared.profile.sorted(by: { $0.value.seconds > $1.value.seconds }) {
                    print(String(format: "  %8.2f ms %4d  %@", entry.seconds * 1000, entry.calls, label))
                }
            }
            let direct = fwd[0] + bwd[0], wino = fwd[1] + bwd[1]
            row["speedup"] = (direct / wino * 100).rounded() / 100
            print(row)
            rows.append(row)
        }
        Benchmarks.emit(["bench": "conv-layers", "ours_s": 0, "peer": "none", "layers": rows])
    }
}
