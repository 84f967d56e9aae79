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
        for (cin, cout, size) in shapes {
            let shape = ConvShape.conv3x3(cin, cout)
            let parameters = ParameterArena([("w", [cout, cin, 3, 3]), ("b", [cout])])
            var g = SeededGenerator(seed: 1)
            for i in 0..<parameters.count { parameters.values[i] = 0.05 * g.nextNormal() }
            let src = Tensor(n: 1, c: cin, h: size, w: size, layout: .blocked), gSrc = Tensor(n: 1, c: cin, h: size, w: size, layout: .blocked)
            let dst = Tensor(n: 1, c: cout, h: size, w: size, layout: .blocked), gDst = Tensor(n: 1, c: cout, h: size, w: size, layout: .blocked)
            for i in 0..<src.storageCount { src.pointer[i] = g.nextUniform() }
            for i in 0..<gDst.storageCount { gDst.pointer[i] = 1e-3 * g.nextUniform() }
            var row: [String: Any] = ["shape": "\(cin)->\(cout)@\(size)"]
            for own in [false, true] {
                let conv = Conv2D(shape, weights: parameters.values, gradients: parameters.gradients)
                conv.ownWinogradOverride = own
                conv.forward(src: src, dst: dst); conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
                var fwd: [Double] = [], bwd: [Double] = []
                let verbose = own && ProcessInfo.processInfo.environment["JDRL_BENCH_VERBOSE"] != nil
                Engine.shared.profiling = verbose
                for _ in 0..<3 {
                    var t = now(); conv.forward(src: src, dst: dst); fwd.append(now() - t)
                    t = now(); conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc); bwd.append(now() - t)
                }
                if verbose {
                    Engine.shared.profiling = false
                    for (label, entry) in Engine.shared.profile.sorted(by: { $0.value.seconds > $1.value.seconds }) {
                        print(String(format: "  %8.2f ms %4d  %@", entry.seconds * 1000 / 3, entry.calls / 3, label))
                    }
                    Engine.shared.resetProfile()
                }
                let name = own ? "wino" : "onednn"
                row["\(name)_fwd_ms"] = (median(fwd) * 1e4).rounded() / 10
                row["\(name)_bwd_ms"] = (median(bwd) * 1e4).rounded() / 10
                row["\(name)_impl"] = conv.forwardImplementation
            }
            let direct = (row["onednn_fwd_ms"] as! Double) + (row["onednn_bwd_ms"] as! Double)
            let wino = (row["wino_fwd_ms"] as! Double) + (row["wino_bwd_ms"] as! Double)
            row["speedup"] = (direct / wino * 100).rounded() / 100
            print(row)
            rows.append(row)
        }
        Benchmarks.emit(["bench": "conv-layers", "ours_s": 0, "peer": "none", "layers": rows])
    }
}
