import Foundation
import Imaging

/// Which global model the aligner fits.
public enum MotionModel: String, Codable, CaseIterable, Sendable {
    /// Zoom, rotation and shift (4 parameters): what a refocusing lens and a nudged tripod do.
    case similarity
    /// A general 2x3 affine map (6 parameters): adds anisotropic scale and shear.
    case affine
}

/// A global 2-D map W from A's pixel grid into B's, about the image centre c:
/// W(p) = c + M (p - c) + t, with M = [[a00, a01], [a10, a11]] and t = (shiftX, shiftY).
/// Flow convention (the project's): flow(p) = W(p) - p, so A(p) matches B(W(p)) = B(p + flow(p)).
/// Pixel coordinates: integer positions are pixel centres; c = ((width-1)/2, (height-1)/2).
public struct GlobalMotion: Sendable, Equatable, Codable {
    public var a00: Double, a01: Double, a10: Double, a11: Double
    /// Displacement of the image centre in pixels (x right, y down).
    public var shiftX: Double, shiftY: Double
    public var centreX: Double, centreY: Double

    public init(a00: Double, a01: Double, a10: Double, a11: Double, shiftX: Double, shiftY: Double, centreX: Double, centreY: Double) {
        (self.a00, self.a01, self.a10, self.a11) = (a00, a01, a10, a11)
        (self.shiftX, self.shiftY, self.centreX, self.centreY) = (shiftX, shiftY, centreX, centreY)
    }

    public static func identity(width: Int, height: Int) -> GlobalMotion {
        GlobalMotion(a00: 1, a01: 0, a10: 0, a11: 1, shiftX: 0, shiftY: 0,
                     centreX: Double(width - 1) / 2, centreY: Double(height - 1) / 2)
    }

    /// A similarity: a point at offset d from the centre in A sits at offset zoom * R(rotation) d + shift
    /// in B (zoom > 1: B's grid is stretched, i.e. A shows the scene larger than B does).
    public static func similarity(zoom: Double, rotationDegrees: Double, shiftX: Double, shiftY: Double,
                                  width: Int, height: Int) -> GlobalMotion {
        let angle = rotationDegrees * .pi / 180
        return GlobalMotion(a00: zoom * cos(angle), a01: -zoom * sin(angle), a10: zoom * sin(angle), a11: zoom * cos(angle),
                            shiftX: shiftX, shiftY: shiftY,
                            centreX: Double(width - 1) / 2, centreY: Double(height - 1) / 2)
    }

    /// Isotropic scale: the square root of |det M| (1.012 means B's grid is 1.2% larger than A's).
    public var zoom: Double { sqrt(abs(a00 * a11 - a01 * a10)) }

    /// Rotation of the closest similarity, degrees, positive from +x towards +y (clockwise on screen).
    public var rotationDegrees: Double { atan2(a10 - a01, a00 + a11) * 180 / .pi }

    /// B position of A's pixel (x, y).
    @inline(__always)
    public func map(x: Double, y: Double) -> (x: Double, y: Double) {
        let dx = x - centreX, dy = y - centreY
        return (centreX + a00 * dx + a01 * dy + shiftX, centreY + a10 * dx + a11 * dy + shiftY)
    }

    /// The map from B's grid back into A's (same centre). Nil if M is singular.
    public var inverse: GlobalMotion? {
        let det = a00 * a11 - a01 * a10
        guard abs(det) > 1e-12 else { return nil }
        let i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det
        return GlobalMotion(a00: i00, a01: i01, a10: i10, a11: i11,
                            shiftX: -(i00 * shiftX + i01 * shiftY), shiftY: -(i10 * shiftX + i11 * shiftY),
                            centreX: centreX, centreY: centreY)
    }

    /// The same map expressed on pyramid level `level` (pixel x_l covers level-0 position
    /// 2^l (x_l + 0.5) - 0.5): M is unchanged, the centre and shift scale by 2^-l.
    func atLevel(_ level: Int) -> GlobalMotion {
        let scale = 1 / Double(1 << level)
        return GlobalMotion(a00: a00, a01: a01, a10: a10, a11: a11, shiftX: shiftX * scale, shiftY: shiftY * scale,
                            centreX: (centreX + 0.5) * scale - 0.5, centreY: (centreY + 0.5) * scale - 0.5)
    }

    /// The dense flow of this map on a width x height grid: flow(p) = W(p) - p
    /// (A(p) matches B(p + flow(p))).
    public func flow(width: Int, height: Int) -> FlowField {
        var field = FlowField(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let m = map(x: Double(x), y: Double(y))
                field.u[y * width + x] = Float(m.x - Double(x))
                field.v[y * width + x] = Float(m.y - Double(y))
            }
        }
        return field
    }
}
