// `--precision auto` decided by measurement: bf16 only where this CPU runs a representative bf16
// convolution faster than the f32 one the project would otherwise run. CPU feature flags do not say
// it: without AMX, oneDNN's bf16 convolutions can lose to its f32 Winograd and direct kernels even on
// a CPU with bf16 dot-product instructions. The verdict is measured once per CPU model, oneDNN ISA
// and oneDNN version (a few ms, `PrecisionProbe`) and kept in the user's cache folder.
import Foundation

/// The f32 and bf16 times of the probe's convolutions on one CPU.
public struct PrecisionTimings: Codable, Equatable, Sendable {
    public var f32Seconds: Double
    public var bf16Seconds: Double

    public init(f32Seconds: Double, bf16Seconds: Double) {
        self.f32Seconds = f32Seconds; self.bf16Seconds = bf16Seconds
    }
}

/// What `--precision` resolved to, and a sentence saying why.
public struct PrecisionDecision: Equatable, Sendable {
    public let precision: ElementType
    public let reason: String
}

public enum AutoPrecision {
    /// bf16 is taken only when it is at least this much faster: repeated probes of two equally fast
    /// paths on a loaded machine differed by up to 1.3x, the probe leaves out the bf16 path's own
    /// reorders and element-wise ops, and f32 is the reference arithmetic. Where bf16 pays (AMX: 1.6-1.8x
    /// end to end, more per convolution) it clears this easily.
    public static let requiredSpeedup = 1.5

    /// The choice for measured times: bf16 only when it beats f32 by `requiredSpeedup`; f32 when a
    /// time is not a positive finite number.
    public static func decide(_ timings: PrecisionTimings) -> ElementType {
        let f32 = timings.f32Seconds, bf16 = timings.bf16Seconds
        guard f32.isFinite, bf16.isFinite, f32 > 0, bf16 > 0 else { return .f32 }
        return f32 >= bf16 * requiredSpeedup ? .bf16 : .f32
    }

    /// The decision with its reason, for measured or cached times (`source` says which).
    public static func decision(_ timings: PrecisionTimings, source: String) -> PrecisionDecision {
        let choice = decide(timings)
        let times = String(format: "bf16 %.2f ms vs f32 %.2f ms", timings.bf16Seconds * 1e3, timings.f32Seconds * 1e3)
        let verdict = choice == .bf16 ? "bf16 is at least \(requiredSpeedup)x faster" : "bf16 is not at least \(requiredSpeedup)x faster"
        return PrecisionDecision(precision: choice, reason: "auto: \(verdict) on this CPU (probe convolutions: \(times), \(source))")
    }

    /// Resolves auto on `platform` (see the other `resolve`).
    public static func resolve(on platform: NumericPlatform, cache: PrecisionVerdictCache?,
                               measure: () -> PrecisionTimings) -> PrecisionDecision {
        resolve(bf16Available: platform.bf16 != .unavailable, isa: platform.isa, key: PrecisionVerdictCache.key(for: platform),
                cache: cache, measure: measure)
    }

    /// f32 without measuring where oneDNN has no bf16 convolution; else the verdict cached under
    /// `key`, or a fresh measurement (`measure`) stored in `cache` unless `busy` says the machine is
    /// too loaded for the measurement to hold later.
    public static func resolve(bf16Available: Bool, isa: String, key: String, cache: PrecisionVerdictCache?,
                               busy: () -> String? = MachineLoad.busy,
                               measure: () -> PrecisionTimings) -> PrecisionDecision {
        guard bf16Available else {
            return PrecisionDecision(precision: .f32, reason: "auto: oneDNN has no bf16 convolution on this CPU (\(isa)), nothing measured")
        }
        if let cache, let cached = cache.timings(for: key) {
            return decision(cached, source: "cached in \(cache.file.path)")
        }
        let measured = measure()
        guard let cache else { return decision(measured, source: "measured now; no cache folder") }
        if let busy = busy() {
            return decision(measured, source: "measured now; not cached: \(busy)")
        }
        do {
            try cache.store(measured, for: key)
            return decision(measured, source: "measured now, cached in \(cache.file.path)")
        } catch {
            return decision(measured, source: "measured now; not cached: \(error)")
        }
    }
}

/// Whether other work competes for the cores now: a probe taken then may not hold on a quiet
/// machine, so its verdict is used once and not cached.
public enum MachineLoad {
    /// A sentence when the 1-minute load average exceeds the cores (nil when quiet or unknown).
    public static func busy() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let load = text.split(separator: " ").first.flatMap({ Double($0) }) else { return nil }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return load > Double(cores) + 0.5 ? String(format: "the machine is busy (load %.1f on %d cores)", load, cores) : nil
    }
}
