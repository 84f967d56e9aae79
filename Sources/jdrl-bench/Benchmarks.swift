// The benchmark registry: (name, body) pairs. Each body prints exactly one JSON line
// {"bench": NAME, "ours_s": ..., "peer": ..., "peer_s": ..., "speedup": peer_s / ours_s, ...}.
// To add one, append an entry to `all` (keep names kebab-case) and put its code in its own file.
import Foundation

enum Benchmarks {
    static let all: [(name: String, run: () throws -> Void)] = [
        ("train-step-paper", NumericBenchmarks.trainStepPaper),
        ("train-step-cpu", NumericBenchmarks.trainStepCPU),
        ("unet-infer", NumericBenchmarks.unetInfer),
        ("deblur-4k", NumericBenchmarks.deblur4K),
        ("step-parts-cpu", NumericBenchmarks.stepPartsCPU),
        ("step-profile", NumericBenchmarks.stepProfile),
        ("conv-probe", NumericBenchmarks.convProbe),
        ("isotropic-blur", benchIsotropicBlur),
        ("tiling", benchTiling),
        ("metrics", benchMetrics),
        ("flow", benchFlow),
    ]

    static func main(_ arguments: [String]) -> Int32 {
        let wanted = arguments.dropFirst().first
        if wanted == "--help" || wanted == "-h" {
            print("usage: jdrl-bench [NAME]\nbenchmarks: " + all.map(\.name).joined(separator: ", "))
            return 0
        }
        let selected = all.filter { wanted == nil || $0.name == wanted }
        if selected.isEmpty {
            FileHandle.standardError.write("jdrl-bench: no benchmark named \(wanted!); known: \(all.map(\.name).joined(separator: ", "))\n".data(using: .utf8)!)
            return 2
        }
        var failed = false
        for bench in selected {
            do { try bench.run() } catch {
                failed = true
                FileHandle.standardError.write("jdrl-bench: \(bench.name) failed: \(error)\n".data(using: .utf8)!)
            }
        }
        return failed ? 1 : 0
    }

    /// Prints one JSON object on one line (keys sorted, so lines diff well).
    static func emit(_ fields: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        fflush(stdout)
    }
}
