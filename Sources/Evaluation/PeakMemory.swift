import Foundation

/// The process's peak resident memory (VmHWM in /proc/self/status), what a user must provision.
public enum PeakMemory {
    /// Bytes, or nil where /proc is absent (not Linux).
    public static func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }

    public static func describe() -> String {
        guard let bytes = residentBytes() else { return "peak memory: unavailable (no /proc/self/status)" }
        return String(format: "peak memory (VmHWM): %.0f MiB", Double(bytes) / 1_048_576)
    }
}
