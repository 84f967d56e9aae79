// The benchmark registry: (name, body) pairs. Each body prints exactly one JSON line
// {"bench": NAME, "ours_s": ..., "peer": ..., "peer_s": ..., "speedup": peer_s / ours_s, ...}.
// To add one, append an entry to `all` (keep names kebab-case) and put its code in its own file.
import CBenchSupport
import COpenBLAS
import Foundation
import Tensors

enum Benchmarks {
    static let all: [(name: String, run: () throws -> Void)] = [
        ("train-step-paper", NumericBenchmarks.trainStepPaper),
        ("train-step-cpu", NumericBenchmarks.trainStepCPU),
        ("train-step-jdrl", NumericBenchmarks.trainStepJDRL),
        ("train-throughput", NumericBenchmarks.trainThroughput),
        ("unet-infer", NumericBenchmarks.unetInfer),
        ("train-step-nafnet", benchTrainStepNAFNet),
        ("train-step-prior", benchTrainStepPrior),
        ("deblur-4k", NumericBenchmarks.deblur4K),
        ("step-parts-cpu", NumericBenchmarks.stepPartsCPU),
        ("step-profile", NumericBenchmarks.stepProfile),
        ("step-profile-cpu", NumericBenchmarks.stepProfileCPU),
        ("infer-profile", NumericBenchmarks.inferProfile),
        ("conv-probe", NumericBenchmarks.convProbe),
        ("precision-probe", NumericBenchmarks.precisionProbe),
        ("conv-layers", NumericBenchmarks.convLayers),
        ("isotropic-blur", benchIsotropicBlur),
        ("tiling", benchTiling),
        ("metrics", benchMetrics),
        ("flow", benchFlow),
        ("manifest-merge", benchManifestMerge),
        ("warp", benchWarp),
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

    /// Prints one JSON object on one line (keys sorted, so lines diff well), with what it ran on:
    /// the CPU, oneDNN's ISA, the activation layout, the convolution implementations created so far
    /// and the OpenBLAS core. A `ref:` implementation is also named on stderr as a warning.
    static func emit(_ fields: [String: Any]) {
        var fields = fields
        let platform = Engine.shared.platform
        fields["cpu"] = platform.cpuModel
        fields["isa"] = platform.isa
        fields["layout"] = platform.layout
        fields["conv_algorithms"] = platform.algorithms
        fields["conv_impl"] = Engine.shared.convolutionImplementations().sorted()
        fields["openblas_core"] = String(cString: openblas_get_corename())
        fields["openblas_core_for_peers"] = PeerRun.openBLASCoreType ?? "own detection"
        let slow = Engine.shared.referenceImplementations()
        fields["ref_impl"] = slow
        if !slow.isEmpty, let warning = Engine.shared.implementationReport().last {
            FileHandle.standardError.write("jdrl-bench: \(warning)\n".data(using: .utf8)!)
        }
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        fflush(stdout)
    }
}

/// One run of a Python peer. The PyTorch and ONNX Runtime peers run on the peers' virtual
/// environment (`PeerLocations.modernPython`); the others on the python3 first on PATH, where the
/// peers' setup.sh installs them. Peers load
/// Debian's OpenBLAS, which misreads some CPUs (as Prescott: SSE3 kernels, 5x slow; docs/design.md):
/// they get the core type that fits this CPU (`openBLASCoreType`), never one it lacks.
struct PeerRun {
    let status: Int32
    let output: String
    let errorOutput: String

    static func python(_ arguments: [String], interpreter: String = "python3") throws -> PeerRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = openBLASCoreType
        // The peer inherits ONEDNN_MAX_CPU_ISA (its oneDNN follows it); its ATen kernels get the same cap.
        if environment["ATEN_CPU_CAPABILITY"] == nil, let capability = atenCapability(forOneDNNCap: environment["ONEDNN_MAX_CPU_ISA"]) {
            environment["ATEN_CPU_CAPABILITY"] = capability
        }
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // stderr is read after stdout: peers write little to it, so its pipe never fills.
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errorOutput = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return PeerRun(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                       errorOutput: String(decoding: errorOutput, as: UTF8.self))
    }

    /// The OpenBLAS core type a peer should run with: the user's OPENBLAS_CORETYPE if set; else, when
    /// OpenBLAS's own detection in this process chose kernels older than the CPU's vectors (a CPU
    /// newer than Debian's OpenBLAS), the kernel set the CPU's features allow; nil (OpenBLAS's own
    /// choice) otherwise. SkylakeX needs AVX-512 F/BW/DQ/VL/CD, Haswell AVX2 + FMA.
    static let openBLASCoreType: String? = {
        if let chosen = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
            // A user's core type whose kernels this CPU cannot run would kill every peer's OpenBLAS (SIGILL).
            guard let requirement = requirement(ofCoreType: chosen), !requirement.met else { return chosen }
            FileHandle.standardError.write("jdrl-bench: OPENBLAS_CORETYPE=\(chosen) needs \(requirement.feature), which this CPU lacks: peers run without it\n".data(using: .utf8)!)
        }
        let detected = String(cString: openblas_get_corename()).lowercased()
        let modern = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]
        if modern.contains(detected) { return nil }
        if jdrl_cpu_has_avx512_skylakex_set() != 0 { return "SkylakeX" }
        if jdrl_cpu_has_avx2_fma() != 0 { return "Haswell" }
        return nil
    }()

    /// The CPU feature an OpenBLAS core type's kernels need and whether this CPU has it (nil: a core
    /// type without a known requirement, e.g. OpenBLAS's older sets).
    static func requirement(ofCoreType coreType: String) -> (feature: String, met: Bool)? {
        switch coreType.lowercased() {
        case "cooperlake", "sapphirerapids": ("AVX-512 with BF16", jdrl_cpu_has_avx512_bf16() != 0)
        case "skylakex": ("AVX-512", jdrl_cpu_has_avx512_skylakex_set() != 0)
        case "haswell", "zen": ("AVX2 + FMA", jdrl_cpu_has_avx2_fma() != 0)
        default: nil
        }
    }

    /// Whether this process's own OpenBLAS can run: not when a user's OPENBLAS_CORETYPE made it load
    /// kernels this CPU lacks (any call would die of SIGILL).
    static var ownOpenBLASRuns: Bool { requirement(ofCoreType: String(cString: openblas_get_corename()))?.met ?? true }

    /// PyTorch's ATen kernel level matching a oneDNN ISA cap (a capped comparison is capped on both
    /// sides): `avx2` for the AVX2 caps, `default` below them, nil (PyTorch's own choice) otherwise.
    static func atenCapability(forOneDNNCap cap: String?) -> String? {
        guard let cap = cap?.uppercased() else { return nil }
        if cap.hasPrefix("AVX2") { return "avx2" }
        if ["SSE41", "AVX"].contains(cap) { return "default" }
        return nil
    }

    /// Every stdout line that is a JSON object.
    var jsonLines: [[String: Any]] {
        output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The last stdout line as a JSON object, when the peer succeeded.
    var result: [String: Any]? { status == 0 ? jsonLines.last : nil }

    /// The last line of stderr, for an error message.
    var lastError: String { errorOutput.split(separator: "\n").last.map(String.init) ?? "no output" }
}
