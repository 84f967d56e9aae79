import Foundation

/// Where the benchmarks' peers live: the folder of reference scripts outside the repository that the
/// benchmarks run against (torch_jdrl.py, flow_dis.py, tile_peers.py, setup.sh). This is the one place
/// jdrl-bench reads it: `JDRL_PEERS`, else the default below, from the working directory (the repository
/// root under `make perf`). The development photos live beside it, in `../data/dev-photos`
/// (docs/performance.md).
enum PeerLocation {
    static let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["JDRL_PEERS"] ?? "../shared/peers").standardizedFileURL

    /// A peer script's path.
    static func script(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// A development photo's URL.
    static func devPhoto(_ name: String) -> URL {
        folder.deletingLastPathComponent().appendingPathComponent("data/dev-photos").appendingPathComponent(name)
    }

    /// Hands the location to the Python peers this process starts (they read `JDRL_PEERS`).
    static func export() { setenv("JDRL_PEERS", folder.path, 1) }
}
