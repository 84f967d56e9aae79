import Flow
import Foundation
import Imaging
import Manifest

/// Training patches of one split from the manifest: kept `patches` rows with both files, plus the
/// newest `flows` row per (patch, direction) when there is one ('blurry_to_sharp', 'sharp_to_blurry').
/// Images are decoded with libvips on demand (the `PatchCache` keeps them).
public final class ManifestPatchSource: PatchSource, @unchecked Sendable {
    struct Entry: Sendable {
        var id: Int64
        var blurryPath: String
        var sharpPath: String
        var blurryToSharp: FlowRecord?
        var sharpToBlurry: FlowRecord?
    }

    private let entries: [Entry]
    public let manifestPath: String

    public init(manifest: Manifest, manifestPath: String, split: String) throws {
        self.manifestPath = manifestPath
        entries = try manifest.trainingPatches(split: split).compactMap { item -> Entry? in
            guard let id = item.patch.id, let blurry = item.patch.blurryPath, let sharp = item.patch.sharpPath else { return nil }
            return Entry(id: id, blurryPath: blurry, sharpPath: sharp, blurryToSharp: item.blurryToSharp, sharpToBlurry: item.sharpToBlurry)
        }
    }

    public var count: Int { entries.count }

    /// How many patches have both precomputed flows (the rest get theirs computed on load).
    public var patchesWithFlows: Int { entries.filter { $0.blurryToSharp != nil && $0.sharpToBlurry != nil }.count }

    public func patch(at index: Int) throws -> TrainingPatch {
        let e = entries[index]
        func image(_ path: String) throws -> PlanarImage {
            do { return try ImageFile.loadPlanar(URL(fileURLWithPath: path)).image } catch {
                throw DataError.unreadable(id: e.id, path: path, reason: "\(error)")
            }
        }
        func flow(_ record: FlowRecord?) throws -> FlowField? {
            guard let record else { return nil }
            do { return try FlowFile.read(URL(fileURLWithPath: record.flowPath)) } catch {
                throw DataError.unreadable(id: e.id, path: record.flowPath, reason: "\(error)")
            }
        }
        func mask(_ record: FlowRecord?) throws -> PlanarImage? {
            guard let path = record?.maskPath else { return nil }
            return Self.binaryMask(try image(path))
        }
        var patch = TrainingPatch(id: e.id, blurry: try image(e.blurryPath), sharp: try image(e.sharpPath),
                                  blurryToSharp: try flow(e.blurryToSharp), sharpToBlurry: try flow(e.sharpToBlurry),
                                  blurryToSharpMask: try mask(e.blurryToSharp), sharpToBlurryMask: try mask(e.sharpToBlurry))
        patch.files = "\(e.blurryPath) / \(e.sharpPath)"
        // jdrl-flow's colour fit beside the blurry->sharp flow (nil for rows from before it; then fitted on load).
        if let map = e.blurryToSharp?.colourMap {
            guard let space = ColourSpace(rawValue: map.space) else {
                throw DataError.colour(id: e.id, files: patch.files, reason: "flows row \(e.blurryToSharp?.id ?? 0) has colour_space '\(map.space)'")
            }
            patch.sharpColour = ColourTransform(gain: map.gain, offset: map.offset, space: space)
        }
        return patch
    }

    /// How many patches have a stored colour map (the rest get theirs fitted once on load when needed).
    public var patchesWithColour: Int { entries.filter { $0.blurryToSharp?.colourMap != nil }.count }

    /// A mask file (grey, possibly loaded as RGB) -> one plane of exact 0/1.
    static func binaryMask(_ image: PlanarImage) -> PlanarImage {
        let plane = image.width * image.height
        var values = [Float](repeating: 0, count: plane)
        for i in 0..<plane where image.pixels[i] > 0.5 { values[i] = 1 }
        return PlanarImage(width: image.width, height: image.height, channels: 1, pixels: values)
    }
}
