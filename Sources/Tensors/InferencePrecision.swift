// The arithmetic a user asks UNet inference to run in: an element type, or `auto`. f32 is the
// reference (and the default: scores and outputs do not depend on the CPU); bf16 runs the convolutions
// in bf16 (~1e-3 mean difference; speed per CPU kind in docs/performance.md) and is refused on CPUs without bf16
// convolutions (before AVX-512); auto takes bf16 only where a startup probe measures it faster than f32
// on this CPU (`AutoPrecision`), and says which and why.

public enum InferencePrecision: Equatable, Sendable, CustomStringConvertible {
    case fixed(ElementType)
    case auto

    /// "f32", "bf16" or "auto"; nil for anything else.
    public init?(name: String) {
        if name == "auto" { self = .auto } else if let type = ElementType(rawValue: name) { self = .fixed(type) } else { return nil }
    }

    public static var names: [String] { ElementType.allCases.map(\.rawValue) + ["auto"] }

    public var description: String {
        switch self {
        case let .fixed(type): return type.rawValue
        case .auto: return "auto"
        }
    }

    /// The element type this request runs on `platform` (auto: measured, or cached in `cache`).
    public func resolved(on platform: NumericPlatform = Engine.shared.platform,
                         cache: PrecisionVerdictCache? = PrecisionVerdictCache.userDefault()) throws -> ElementType {
        try decision(on: platform, cache: cache).precision
    }

    /// The element type with a sentence saying why (what a stage prints).
    public func decision(on platform: NumericPlatform = Engine.shared.platform,
                         cache: PrecisionVerdictCache? = PrecisionVerdictCache.userDefault()) throws -> PrecisionDecision {
        switch self {
        case .fixed(.f32): return PrecisionDecision(precision: .f32, reason: "asked for")
        case .fixed(.bf16):
            guard platform.bf16 != .unavailable else { throw PrecisionUnavailable(platform: platform) }
            return PrecisionDecision(precision: .bf16, reason: "asked for")
        case .auto: return AutoPrecision.resolve(on: platform, cache: cache, measure: { PrecisionProbe.measure() })
        }
    }
}

/// `--precision bf16` on a CPU where oneDNN has no bf16 convolution.
public struct PrecisionUnavailable: Error, CustomStringConvertible {
    public let platform: NumericPlatform
    public var description: String {
        "bf16 inference needs a CPU with AVX-512 (oneDNN 2.6 has no bf16 convolution below it; AMX makes it fast), "
            + "and this one (\(platform.cpuModel)) runs \(platform.isa): use --precision f32 or auto"
    }
}
