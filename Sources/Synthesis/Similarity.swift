import Foundation
import Imaging
import Threading

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

public enum Resample {
    /// Backward warp: out(p) = image(p + flow(p)), bilinear, coordinates clamped to the border
    /// (flow convention: out(p) then matches image at p + flow(p)).
    public static func backwardWarp(_ image: PlanarImage, by flow: FlowField, threads: Int) -> PlanarImage {
        precondition(flow.width == image.width && flow.height == image.height, "flow and image sizes differ")
        let width = image.width, height = image.height, plane = image.planeSize, channels = image.channels
        var out = PlanarImage(width: width, height: height, channels: channels, bitDepth: image.bitDepth)
        out.pixels.withUnsafeMutableBufferPointer { dst in
            image.pixels.withUnsafeBufferPointer { src in
                let d = dst, s = src
                Parallel.rows(height, workers: threads, minimumRowsPerChunk: 1) { rows in
                    for y in rows {
                        for x in 0..<width {
                            let i = y * width + x
                            let sx = min(max(Float(x) + flow.u[i], 0), Float(width - 1))
                            let sy = min(max(Float(y) + flow.v[i], 0), Float(height - 1))
                            let x0 = min(Int(sx), width - 2 < 0 ? 0 : width - 2), y0 = min(Int(sy), height - 2 < 0 ? 0 : height - 2)
                            let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
                            let fx = sx - Float(x0), fy = sy - Float(y0)
                            for c in 0..<channels {
                                let o = c * plane
                                let top = s[o + y0 * width + x0] * (1 - fx) + s[o + y0 * width + x1] * fx
                                let bottom = s[o + y1 * width + x0] * (1 - fx) + s[o + y1 * width + x1] * fx
                                d[o + i] = top * (1 - fy) + bottom * fy
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
