import Foundation
import Imaging
import Manifest

/// The tiling parameters and what follows from them: the parameter hash that keys idempotence, the
/// patch origins of an image, and where patch files go.
struct TilingPlan {
    var `protocol`: TilingProtocol
    var size: Int
    var scale: Double
    var stride: Int
    var dropLeastSharp: Double
    var compression: Int

    /// Only what changes patch content or selection; compression does not.
    var paramsHash: String {
        ContentHash.of("tile-v1;protocol=\(`protocol`.rawValue);size=\(size);scale=\(scale);stride=\(stride);drop=\(dropLeastSharp)")
    }

    var description: String {
        "protocol \(`protocol`.rawValue), \(size)x\(size), scale \(scale), stride \(stride), drop \(Int(dropLeastSharp * 100))% least sharp"
    }

    /// SDD: resize by `scale`, then a plain grid. DPDD: full size, grid plus right/bottom edge patches.
    var effectiveScale: Double { `protocol` == .sdd ? scale : 1 }

    func origins(width: Int, height: Int) -> [TileGrid.Origin] {
        TileGrid.origins(width: width, height: height, size: size, stride: stride, includeEdges: `protocol` == .dpdd)
    }

    /// Which patches survive the least-sharp filter: the `dropLeastSharp` fraction with the lowest
    /// sharpness is dropped (ties keep the earlier patch).
    func keptMask(sharpness: [Double]) -> [Bool] {
        let dropCount = Int((Double(sharpness.count) * dropLeastSharp).rounded(.down))
        guard dropCount > 0 else { return [Bool](repeating: true, count: sharpness.count) }
        let order = sharpness.indices.sorted { (sharpness[$0], $0) < (sharpness[$1], $1) }
        var kept = [Bool](repeating: true, count: sharpness.count)
        for index in order.prefix(dropCount) { kept[index] = false }
        return kept
    }

    /// <out>/<params hash prefix>/<split>/{blur,gt}/<capture stem>_x<X>_y<Y>.png
    func patchURL(out: URL, split: Split, role: String, captureName: String, origin: TileGrid.Origin) -> URL {
        let stem = (captureName as NSString).deletingPathExtension
        return out.appendingPathComponent(String(paramsHash.prefix(8)))
            .appendingPathComponent(split.rawValue).appendingPathComponent(role)
            .appendingPathComponent("\(stem)_x\(origin.x)_y\(origin.y).png")
    }
}
