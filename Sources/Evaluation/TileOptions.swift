import ArgumentParser
import Tensors

/// How a whole image is run through the UNet (jdrl-deblur, and jdrl-eval's manifest mode):
/// overlapping tiles keep memory bounded whatever the image size, and the overlap hides the seams.
public struct TileOptions: ParsableArguments {
    @Option(help: "Tile side in pixels (rounded up to the UNet's multiple, 2^(depth-1)).")
    public var tile: Int = 512

    @Option(help: "Overlap between neighbouring tiles in pixels (blended by a raised-cosine ramp).")
    public var overlap: Int = 128

    @Option(help: "Inference arithmetic: f32 (the reference), bf16 (needs AVX-512; fast with AMX) or auto (bf16 only where a startup probe, cached per CPU in ~/.cache/jdrl, measures it faster than f32 here).")
    public var precision: InferencePrecision = .fixed(.f32)

    public init() {}

    public func validate() throws {
        if tile < 1 { throw ValidationError("--tile must be positive.") }
        if overlap < 0 || 2 * overlap > tile { throw ValidationError("--overlap must be between 0 and tile/2.") }
    }
}

extension InferencePrecision: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { description }
    public static var allValueStrings: [String] { names }
}
