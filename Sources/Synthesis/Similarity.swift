import Foundation
import Imaging

/// A similarity transform about the image centre: T(p) = c + zoom * R(angle) * (p - c) + shift.
/// Used to misalign the GT the way SDD's zoom-and-shift misalignment does.
public struct SimilarityTransform: Sendable, Codable, Equatable {
    public var zoom: Double
    public var rotationDegrees: Double
    public var shiftX: Double
    public var shiftY: Double
    public var centreX: Double
    public var centreY: Double

    public init(zoom: Double, rotationDegrees: Double, shiftX: Double, shiftY: Double, centreX: Double, centreY: Double) {
        self.zoom = zoom; self.rotationDegrees = rotationDegrees; self.shiftX = shiftX; self.shiftY = shiftY
        self.centreX = centreX; self.centreY = centreY
    }

    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let a = rotationDegrees * .pi / 180, c = cos(a) * zoom, s = sin(a) * zoom
        let dx = x - centreX, dy = y - centreY
        return (centreX + c * dx - s * dy + shiftX, centreY + s * dx + c * dy + shiftY)
    }

    public func inverse(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let a = rotationDegrees * .pi / 180, c = cos(a) / zoom, s = sin(a) / zoom
        let dx = x - centreX - shiftX, dy = y - centreY - shiftY
        return (centreX + c * dx + s * dy, centreY - s * dx + c * dy)
    }

    /// flow(p) = T(p) - p: with A the untransformed frame and B = image resampled so that B(T(p)) = A(p),
    /// A(p) matches B(p + flow(p)).
    public func forwardFlow(width: Int, height: Int) -> FlowField {
        flow(width: width, height: height, apply)
    }

    /// flow(q) = T^-1(q) - q: B(q) matches A(q + flow(q)).
    public func inverseFlow(width: Int, height: Int) -> FlowField {
        flow(width: width, height: height, inverse)
    }

    private func flow(width: Int, height: Int, _ map: (Double, Double) -> (x: Double, y: Double)) -> FlowField {
        var field = FlowField(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let target = map(Double(x), Double(y))
                field.u[y * width + x] = Float(target.x - Double(x))
                field.v[y * width + x] = Float(target.y - Double(y))
            }
        }
        return field
    }
}
