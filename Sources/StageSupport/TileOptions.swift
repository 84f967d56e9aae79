import ArgumentParser

/// The arithmetic of UNet inference: f32 is the reference (and the default: scores and outputs do
/// not depend on the CPU); bf16 runs the convolutions in bf16 (AMX: 1.6-1.8x faster end to end,
/// ~1e-3 mean difference), refused on CPUs without bf16 convolutions (before AVX-512); auto takes
/// bf16 where the CPU has bf16 instructions (AVX512-BF16: 1.27x on Zen 4; AMX) and f32 elsewhere, and says which.
public enum InferencePrecision: String, ExpressibleByArgument, CaseIterable, Sendable {
    case f32, bf16, auto
}

/// How a whole image is run through the UNet (jdrl-deblur, and jdrl-eval's manifest mode):
/// overlapping tiles keep memory bounded whatever the image size, and the overlap hides the seams.
public struct TileOptions: ParsableArguments {
    @Option(help: "Tile side in pixels (rounded up to the UNet's multiple, 2^(depth-1)).")
    public var tile: Int = 512

    @Option(help: "Overlap between neighbouring tiles in pixels (blended by a raised-cosine ramp).")
    public var overlap: Int = 128

    @Option(help: "Inference arithmetic: f32 (the reference), bf16 (needs AVX-512; fast with AMX) or auto (bf16 where the CPU has bf16 instructions, else f32).")
    public var precision: InferencePrecision = .f32

    public init() {}

    public func validate() throws {
        if tile < 1 { throw ValidationError("--tile must be positive.") }
        if overlap < 0 || 2 * overlap > tile { throw ValidationError("--overlap must be between 0 and tile/2.") }
    }
}
