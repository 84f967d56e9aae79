import Flow
import Foundation
import Imaging

/// What a sample needs besides the two images, decided once from the config.
public struct PatchRequirements: Sendable, Equatable {
    /// The blurry->GT flow (initialisation stage) or both flows (joint stage from the manifest).
    public var flows: Bool
    /// Calibration masks of both flows (joint stage from the manifest, masks on).
    public var masks: Bool
    /// The GT brought to the blurry image's colours (train.colour_alignment: gain_offset): the colour map
    /// from the manifest, or fitted on load, is applied to `sharp` once, before any crop or loss.
    public var colour: Bool

    public init(flows: Bool, masks: Bool, colour: Bool = false) {
        self.flows = flows
        self.masks = masks
        self.colour = colour
    }

    public init(_ train: TrainSection) {
        let deforms = train.lossMode == .jdrl && !train.ablation.noDeformation
        self.flows = deforms
        self.masks = deforms && train.flowSource == .manifest && !train.ablation.noMask
        self.colour = train.colourAlignment == .gainOffset
    }
}

/// Loads patches from a source once, fills in flows/masks the manifest lacks (computed once, on load,
/// by `complete`), and keeps them in memory up to a byte budget (beyond it, patches are reloaded).
/// Thread-safe: the prefetch thread and a test may read it concurrently.
public final class PatchCache: @unchecked Sendable {
    public typealias Completion = @Sendable (TrainingPatch, PatchRequirements) throws -> TrainingPatch

    private let source: PatchSource
    private let requirements: PatchRequirements
    private let complete: Completion
    private let budgetBytes: Int
    private let lock = NSLock()
    private var cached: [Int: TrainingPatch] = [:]
    private var cachedBytes = 0

    public init(source: PatchSource, requirements: PatchRequirements, budgetBytes: Int = 4 << 30,
                complete: @escaping Completion) {
        self.source = source
        self.requirements = requirements
        self.budgetBytes = budgetBytes
        self.complete = complete
    }

    public var count: Int { source.count }

    public func patch(at index: Int) throws -> TrainingPatch {
        lock.lock()
        if let hit = cached[index] { lock.unlock(); return hit }
        lock.unlock()
        var patch = try source.patch(at: index)
        try Self.checkShapes(patch)
        if (requirements.flows && (patch.blurryToSharp == nil || patch.sharpToBlurry == nil))
            || (requirements.masks && (patch.blurryToSharpMask == nil || patch.sharpToBlurryMask == nil))
            || (requirements.colour && patch.sharpColour == nil) {
            patch = try complete(patch, requirements)
            try Self.checkShapes(patch)
        }
        if requirements.colour && !patch.sharpIsColourAligned {
            guard let map = patch.sharpColour else {
                throw DataError.colour(id: patch.id, files: patch.files, reason: "no colour map (train.colour_alignment: gain_offset)")
            }
            try ColourPlausibility.check(map, patch: patch)
            patch.sharp = map.applied(to: patch.sharp)
            patch.sharpIsColourAligned = true
        }
        let bytes = Self.bytes(patch)
        lock.lock()
        if cachedBytes + bytes <= budgetBytes, cached[index] == nil {
            cached[index] = patch
            cachedBytes += bytes
        }
        lock.unlock()
        return patch
    }

    static func checkShapes(_ p: TrainingPatch) throws {
        let w = p.blurry.width, h = p.blurry.height
        guard p.blurry.channels == 3, p.sharp.channels == 3 else {
            throw DataError.shapeMismatch(id: p.id, what: "expected RGB images, got \(p.blurry.channels) and \(p.sharp.channels) channels")
        }
        guard p.sharp.width == w, p.sharp.height == h else {
            throw DataError.shapeMismatch(id: p.id, what: "blurry \(w)x\(h) vs sharp \(p.sharp.width)x\(p.sharp.height)")
        }
        for (name, flow) in [("blurry->sharp flow", p.blurryToSharp), ("sharp->blurry flow", p.sharpToBlurry)] {
            if let f = flow, f.width != w || f.height != h {
                throw DataError.shapeMismatch(id: p.id, what: "\(name) is \(f.width)x\(f.height), images are \(w)x\(h)")
            }
        }
        for (name, mask) in [("blurry->sharp mask", p.blurryToSharpMask), ("sharp->blurry mask", p.sharpToBlurryMask)] {
            if let m = mask, m.width != w || m.height != h || m.channels != 1 {
                throw DataError.shapeMismatch(id: p.id, what: "\(name) is \(m.channels)x\(m.width)x\(m.height), expected 1x\(w)x\(h)")
            }
        }
    }

    static func bytes(_ p: TrainingPatch) -> Int {
        let plane = p.blurry.width * p.blurry.height * 4
        var total = plane * 6
        if p.blurryToSharp != nil { total += 2 * plane }
        if p.sharpToBlurry != nil { total += 2 * plane }
        if p.blurryToSharpMask != nil { total += plane }
        if p.sharpToBlurryMask != nil { total += plane }
        return total
    }
}

/// A colour map far from any exposure or white-balance change means the pair or the fit is wrong:
/// refused with the patch's files named rather than trained on.
public enum ColourPlausibility {
    public static let gains: ClosedRange<Double> = 0.2...5
    public static let offsets: ClosedRange<Double> = -0.5...0.5

    public static func check(_ map: ColourTransform, patch: TrainingPatch) throws {
        guard (map.gain + map.offset).allSatisfy(\.isFinite) else {
            throw DataError.colour(id: patch.id, files: patch.files,
                                   reason: "colour map \(map) is not finite (NaN or Inf in the images?)")
        }
        guard map.channels == patch.sharp.channels,
              map.gain.allSatisfy({ gains.contains($0) }), map.offset.allSatisfy({ offsets.contains($0) }) else {
            throw DataError.colour(id: patch.id, files: patch.files,
                                   reason: "implausible colour map \(map) (gains must lie in \(gains), offsets in \(offsets), one per channel); check the pair or set train.colour_alignment: none")
        }
    }
}
