import Foundation
import Imaging
import Manifest
import StageSupport

/// Cuts one blurry / sharp pair into patches: load both as RGB in their own bit depth, crop to the
/// common area, resize (SDD protocol), materialise once, measure each sharp patch's sharpness, drop
/// the least sharp if asked, and write the kept patches in parallel, each via a rename into place.
public struct CaptureTiler {
    public let plan: TilingPlan
    public let threads: Int
    public var onTileDone: (() -> Void)? = nil

    public init(plan: TilingPlan, threads: Int, onTileDone: (() -> Void)? = nil) {
        self.plan = plan
        self.threads = threads
        self.onTileDone = onTileDone
    }

    public struct Cut {
        public var origin: TileGrid.Origin
        public var sharpness: Double
        public var kept: Bool
        public var blurryURL: URL?
        public var sharpURL: URL?
    }

    public func tile(blurry blurryURL: URL, sharp sharpURL: URL, destination: (TileGrid.Origin, String) -> URL) throws -> (cuts: [Cut], notes: [String]) {
        let blurry = try ImageFile.loadRGB(blurryURL), sharp = try ImageFile.loadRGB(sharpURL)
        var notes = blurry.notes.map { "blurry: \($0)" } + sharp.notes.map { "sharp: \($0)" }
        let width = min(blurry.width, sharp.width), height = min(blurry.height, sharp.height)
        var images = [blurry.image, sharp.image]
        if blurry.width != sharp.width || blurry.height != sharp.height {
            images = try images.map { try $0.cropped(x: 0, y: 0, width: width, height: height) }
            notes.append("cropped to the common \(width)x\(height)")
        }
        images = try images.map { try $0.resized(scale: plan.effectiveScale).materialized() }
        let origins = plan.origins(width: images[0].width, height: images[0].height)
        if origins.isEmpty { notes.append("smaller than one \(plan.size)x\(plan.size) patch after resizing: no patches") }

        let luma = try Sharpness.luma(of: images[1])
        let sharpness = origins.map { Sharpness.sobelEnergy(luma: luma, width: images[1].width, x: $0.x, y: $0.y, size: plan.size) }
        let kept = plan.keptMask(sharpness: sharpness)
        let keptOrigins = origins.indices.filter { kept[$0] }.map { origins[$0] }

        let compression = plan.compression
        try TileWriter.write(images: images, origins: keptOrigins, size: plan.size, threads: threads,
                             destination: { destination(keptOrigins[$0], $1 == 0 ? "blur" : "gt") },
                             save: { crop, url in try AtomicFile.write(to: url) { try crop.savePNG(to: $0, compression: compression) } },
                             onTileDone: onTileDone)
        let cuts = origins.indices.map { i -> Cut in
            Cut(origin: origins[i], sharpness: sharpness[i], kept: kept[i],
                blurryURL: kept[i] ? destination(origins[i], "blur") : nil, sharpURL: kept[i] ? destination(origins[i], "gt") : nil)
        }
        return (cuts, notes)
    }

    /// Sharpness of a pre-cut patch (SDD's train_patches are registered as they are).
    public func sharpnessOfWholeImage(_ url: URL) throws -> Double {
        let image = try ImageFile.loadRGB(url).image.materialized()
        let luma = try Sharpness.luma(of: image)
        return Sharpness.sobelEnergy(luma: luma, width: image.width, x: 0, y: 0, size: min(image.width, image.height))
    }
}
