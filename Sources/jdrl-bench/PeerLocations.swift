// Where the benchmarks find their peers: the one place jdrl-bench reads the peers' folder (`JDRL_PEERS`,
// default relative to the repository root, where `make perf` runs it; pipelines/peers-location.sh is the
// shell side) and the interpreter of today's PyTorch and ONNX Runtime. The development photos live beside
// the peers, in ../data/dev-photos (docs/performance.md).
import Foundation

enum PeerLocations {
    /// The peers' folder (setup.sh, torch_jdrl.py, flow_dis.py, ...).
    static var folder: String {
        if let set = ProcessInfo.processInfo.environment["JDRL_PEERS"], !set.isEmpty { return set }
        return URL(fileURLWithPath: "../shared/peers").standardizedFileURL.path
    }

    /// A development photo's URL.
    static func devPhoto(_ name: String) -> URL {
        URL(fileURLWithPath: folder).deletingLastPathComponent().appendingPathComponent("data/dev-photos").appendingPathComponent(name)
    }

    /// Hands the location to the Python peers this process starts (they read `JDRL_PEERS`).
    static func export() { setenv("JDRL_PEERS", folder, 1) }

    /// A script in the peers' folder.
    static func script(_ name: String) -> String { folder + "/" + name }

    /// A peer script of this repository (pipelines/peers/).
    static func ownScript(_ name: String) -> String { FileManager.default.currentDirectoryPath + "/pipelines/peers/" + name }

    /// The Python of today's PyTorch and ONNX Runtime (the virtual environment setup.sh makes):
    /// `JDRL_PEER_PYTHON`, else `$JDRL_PEER_VENV/bin/python`, else setup.sh's default venv,
    /// `$HOME/.cache/jdrl-peers/bin/python`.
    static var modernPython: String {
        let environment = ProcessInfo.processInfo.environment
        if let set = environment["JDRL_PEER_PYTHON"], !set.isEmpty { return set }
        let venv = environment["JDRL_PEER_VENV"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/jdrl-peers"
        return venv + "/bin/python"
    }

    /// Debian's python3 with its PyTorch 1.13: an older reference point, never the headline peer.
    static let debianPython = "/usr/bin/python3"
}

/// The JSON fields every PyTorch comparison shares: the headline peer (today's PyTorch in the faster
/// f32 memory format) with its speedup, each mode's time (bf16 autocast separately, where the CPU has
/// bf16) and Debian's PyTorch 1.13 as an extra field.
enum PeerFields {
    /// `peer` from a peer script's JSON (`key`: its headline seconds, e.g. `train_step_s_median`);
    /// `scale` multiplies the peer's seconds (a per-tile time into a whole image's).
    static func add(_ peer: [String: Any]?, key: String, ours: Double, scale: Double = 1, to fields: inout [String: Any]) {
        fields["peer"] = peer?["peer"] as? String ?? "unavailable (run $JDRL_PEERS/setup.sh; JDRL_PEER_PYTHON names its interpreter)"
        fields["peer_python"] = PeerLocations.modernPython
        guard let peer, let seconds = peer[key] as? Double else { return }
        fields["peer_s"] = seconds * scale
        fields["speedup"] = seconds * scale / ours
        if let modes = peer["modes_s"] as? [String: Double] {
            fields["peer_modes_s"] = modes.mapValues { $0 * scale }
            if let bf16 = modes["bf16_autocast"] {
                fields["peer_bf16_autocast_s"] = bf16 * scale
                fields["speedup_vs_peer_bf16_autocast"] = bf16 * scale / ours
            }
        }
    }

    /// ONNX Runtime on the network exported from the PyTorch twin (`peer_onnxruntime_s`,
    /// `speedup_onnxruntime`), or why it is missing.
    static func addONNXRuntime(_ peer: [String: Any]?, key: String, ours: Double, scale: Double = 1, to fields: inout [String: Any]) {
        guard let peer else { return }
        if let seconds = peer[key] as? Double {
            fields["peer_onnxruntime"] = peer["onnxruntime"] as? String ?? "onnxruntime"
            fields["peer_onnxruntime_s"] = seconds * scale
            fields["speedup_onnxruntime"] = seconds * scale / ours
            if let difference = peer["onnxruntime_vs_pytorch_max_abs_diff"] { fields["onnxruntime_vs_pytorch_max_abs_diff"] = difference }
        } else if let error = peer["onnxruntime_error"] as? String {
            fields["peer_onnxruntime"] = "unavailable: \(error)"
        }
    }

    /// Debian's PyTorch 1.13 beside the headline (`peer_debian_torch_s`), when it is installed.
    static func addDebian(_ peer: [String: Any]?, key: String, scale: Double = 1, to fields: inout [String: Any]) {
        guard let peer, let seconds = peer[key] as? Double else { return }
        fields["peer_debian_torch"] = peer["peer"] as? String ?? "pytorch (Debian)"
        fields["peer_debian_torch_s"] = seconds * scale
    }
}
