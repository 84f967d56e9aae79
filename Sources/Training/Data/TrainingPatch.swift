import Flow
import Imaging

/// One training pair as stored: a blurry patch, its misaligned sharp GT, and the precomputed flows and
/// calibration masks between them (convention: A(p) matches B(p + flow(p)); `blurryToSharp` is used to
/// backward-warp the sharp image into the blurry frame). Masks are 1-channel images of 0/1.
public struct TrainingPatch: Sendable {
    public var id: Int64
    public var blurry: PlanarImage
    public var sharp: PlanarImage
    public var blurryToSharp: FlowField?
    public var sharpToBlurry: FlowField?
    public var blurryToSharpMask: PlanarImage?
    public var sharpToBlurryMask: PlanarImage?
    /// The GT's colours mapped onto the blurry image's: blurry ~ gain * warp(sharp, blurryToSharp) + offset
    /// (the manifest's fit beside the blurry->sharp flow, or estimated on load). Pointwise, so it applies
    /// to the unwarped GT as well (it commutes with the warp).
    public var sharpColour: ColourTransform?
    /// True once `sharp` holds the GT mapped by `sharpColour` (train.colour_alignment: gain_offset).
    public var sharpIsColourAligned = false
    /// The files behind the patch, for error messages ("blurry.png / sharp.png"); nil for in-memory patches.
    public var files: String?

    public init(id: Int64, blurry: PlanarImage, sharp: PlanarImage,
                blurryToSharp: FlowField? = nil, sharpToBlurry: FlowField? = nil,
                blurryToSharpMask: PlanarImage? = nil, sharpToBlurryMask: PlanarImage? = nil) {
        self.id = id
        self.blurry = blurry
        self.sharp = sharp
        self.blurryToSharp = blurryToSharp
        self.sharpToBlurry = sharpToBlurry
        self.blurryToSharpMask = blurryToSharpMask
        self.sharpToBlurryMask = sharpToBlurryMask
    }

    public var isComplete: Bool {
        blurryToSharp != nil && sharpToBlurry != nil && blurryToSharpMask != nil && sharpToBlurryMask != nil
    }
}

/// Where training patches come from: the manifest (`ManifestPatchSource`) or memory (tests, tools).
/// Indices are 0..<count in a stable order; the epoch order is drawn over these indices.
public protocol PatchSource: AnyObject, Sendable {
    var count: Int { get }
    func patch(at index: Int) throws -> TrainingPatch
}

/// Patches already in memory (synthesised in a test, or loaded by a caller).
public final class InMemoryPatchSource: PatchSource, @unchecked Sendable {
    private let patches: [TrainingPatch]
    public init(_ patches: [TrainingPatch]) { self.patches = patches }
    public var count: Int { patches.count }
    public func patch(at index: Int) throws -> TrainingPatch { patches[index] }
}

public enum DataError: Error, CustomStringConvertible {
    case emptySplit(manifest: String, split: String)
    case patchTooSmall(id: Int64, width: Int, height: Int, crop: Int)
    case shapeMismatch(id: Int64, what: String)
    case unreadable(id: Int64, path: String, reason: String)
    /// The colour map could not be fitted, or the stored one is implausible (train.colour_alignment).
    case colour(id: Int64, files: String?, reason: String)

    public var description: String {
        switch self {
        case let .emptySplit(manifest, split):
            return "\(manifest): no patches in split '\(split)' (run `make patches` first, or check datasets.train.split)"
        case let .patchTooSmall(id, width, height, crop):
            return "patch \(id) is \(width)x\(height), smaller than crop_size \(crop)"
        case let .shapeMismatch(id, what):
            return "patch \(id): \(what)"
        case let .unreadable(id, path, reason):
            return "patch \(id): cannot read \(path) (\(reason))"
        case let .colour(id, files, reason):
            return "patch \(id)\(files.map { " (\($0))" } ?? ""): \(reason)"
        }
    }
}
