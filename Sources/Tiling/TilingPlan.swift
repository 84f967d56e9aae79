import Foundation
import Imaging
import Manifest

/// The tiling parameters and what follows from them: the parameter hash that keys idempotence, the
/// patch origins of an image, and where patch files go.
public struct TilingPlan: Sendable, Equatable {
    public var `protocol`: TilingProtocol
    public var size: Int
    public var scale: Double
    public var stride: Int
    public var dropLeastSharp: Double
    public var compression: Int

    public init(protocol: TilingProtocol, size: Int, scale: Double, stride: Int, dropLeastSharp: Double, compression: Int) {
        self.protocol = `protocol`
        self.size = size
        self.scale = scale
        self.stride = stride
        self.dropLeastSharp = dropLeastSharp
        self.compression = compression
    }

    /// The protocol's published settings, each overridable (a CLI option or a dataset config's tiling
    /// section): SDD resizes by 0.5 and steps 256; DPDD keeps full size, steps 204 and drops the 30 %
    /// least sharp patches.
    public static func defaults(for chosen: TilingProtocol, size: Int? = nil, scale: Double? = nil, stride: Int? = nil,
                                dropLeastSharp: Double? = nil, compression: Int? = nil) -> TilingPlan {
        let dpdd = chosen == .dpdd
        return TilingPlan(protocol: chosen, size: size ?? 512, scale: scale ?? (dpdd ? 1 : 0.5), stride: stride ?? (dpdd ? 204 : 256),
                          dropLeastSharp: dropLeastSharp ?? (dpdd ? 0.3 : 0), compression: compression ?? 1)
    }

    /// Only what changes patch content or selection; compression does not.
    public var paramsHash: String {
        ContentHash.of("tile-v1;protocol=\(`protocol`.rawValue);size=\(size);scale=\(scale);stride=\(stride);drop=\(dropLeastSharp)")
    }

    public var description: String {
        "protocol \(`protocol`.rawValue), \(size)x\(size), scale \(scale), stride \(stride), drop \(Int(dropLeastSharp * 100))% least sharp"
    }

    /// SDD: resize by `scale`, then a plain grid. DPDD: full size, grid plus right/bottom edge patches.
    public var effectiveScale: Double { `protocol` == .sdd ? scale : 1 }

    public func origins(width: Int, height: Int) -> [TileGrid.Origin] {
        TileGrid.origins(width: width, height: height, size: size, stride: stride, includeEdges: `protocol` == .dpdd)
    }

    /// Which patches survive the least-sharp filter: the `dropLeastSharp` fraction with the lowest
    /// sharpness is dropped (of equally sharp patches the earlier ones go first).
    public func keptMask(sharpness: [Double]) -> [Bool] {
        let dropCount = Int((Double(sharpness.count) * dropLeastSharp).rounded(.down))
        guard dropCount > 0 else { return [Bool](repeating: true, count: sharpness.count) }
        let order = sharpness.indices.sorted { (sharpness[$0], $0) < (sharpness[$1], $1) }
        var kept = [Bool](repeating: true, count: sharpness.count)
        for index in order.prefix(dropCount) { kept[index] = false }
        return kept
    }

    /// <out>/<params hash prefix>/<split>/{blur,gt}/<capture stem>_x<X>_y<Y>.png
    public func patchURL(out: URL, split: Split, role: String, captureName: String, origin: TileGrid.Origin) -> URL {
        let stem = (captureName as NSString).deletingPathExtension
        return out.appendingPathComponent(String(paramsHash.prefix(8)))
            .appendingPathComponent(split.rawValue).appendingPathComponent(role)
            .appendingPathComponent("\(stem)_x\(origin.x)_y\(origin.y).png")
    }
}
