// The probe times of `--precision auto`, one entry per CPU model, oneDNN ISA and oneDNN version, in
// a JSON file in the user's cache folder. Written whole and atomically (a reader never sees half a
// file); a file that does not parse is treated as empty and rewritten, so a damaged cache costs one
// probe, never a failed run.
import CDNNL
import Foundation

public struct PrecisionVerdictCache: Sendable {
    public let file: URL

    public init(file: URL) { self.file = file }

    /// `$XDG_CACHE_HOME/jdrl/precision.json`, else `~/.cache/jdrl/precision.json`; nil without either.
    public static func userDefault(environment: [String: String] = ProcessInfo.processInfo.environment) -> PrecisionVerdictCache? {
        let base: URL
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            base = URL(fileURLWithPath: xdg)
        } else if let home = environment["HOME"], !home.isEmpty {
            base = URL(fileURLWithPath: home).appendingPathComponent(".cache")
        } else {
            return nil
        }
        return PrecisionVerdictCache(file: base.appendingPathComponent("jdrl").appendingPathComponent("precision.json"))
    }

    /// What a verdict depends on: the CPU, what oneDNN dispatches to on it, and oneDNN itself.
    public static func key(for platform: NumericPlatform) -> String {
        let v = dnnl_version()!.pointee
        return "\(platform.cpuModel) | \(platform.isa) | oneDNN \(v.major).\(v.minor).\(v.patch)"
    }

    private struct Entry: Codable {
        var f32Seconds: Double
        var bf16Seconds: Double
        var measured: String
    }

    /// Every entry of a readable file; empty when the file is missing or does not parse.
    private func entries() -> [String: Entry] {
        guard let data = try? Data(contentsOf: file),
              let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) else { return [:] }
        return decoded
    }

    /// The stored times for `key`, nil when none (or the file is missing or damaged).
    public func timings(for key: String) -> PrecisionTimings? {
        guard let entry = entries()[key], entry.f32Seconds > 0, entry.bf16Seconds > 0 else { return nil }
        return PrecisionTimings(f32Seconds: entry.f32Seconds, bf16Seconds: entry.bf16Seconds)
    }

    /// Adds or replaces `key`'s times, keeping the other CPUs' entries of a readable file.
    public func store(_ timings: PrecisionTimings, for key: String) throws {
        var all = entries()
        all[key] = Entry(f32Seconds: timings.f32Seconds, bf16Seconds: timings.bf16Seconds,
                         measured: ISO8601DateFormatter().string(from: Date()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(all).write(to: file, options: .atomic)
    }
}
