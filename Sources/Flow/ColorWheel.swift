import Foundation
import Imaging

/// The Middlebury flow colour coding (Baker et al., "A Database and Evaluation Methodology for
/// Optical Flow"): hue from the flow direction on a 55-colour wheel (red-yellow 15, yellow-green 6,
/// green-cyan 4, cyan-blue 11, blue-magenta 13, magenta-red 6), saturation from the length
/// normalised by the largest length in the image (white = no motion). Flow convention as everywhere:
/// A(p) matches B(p + flow(p)).
public enum ColorWheel {
    /// (segment length, which channel rises or falls): the six hue transitions in wheel order.
    public static let segmentLengths = [15, 6, 4, 11, 13, 6]

    /// The 55 wheel colours, 8-bit RGB.
    public static let colors: [(r: Int, g: Int, b: Int)] = {
        var wheel: [(r: Int, g: Int, b: Int)] = []
        func ramp(_ i: Int, _ n: Int) -> Int { Int((255 * Double(i) / Double(n)).rounded(.down)) }
        let (ry, yg, gc, cb, bm, mr) = (15, 6, 4, 11, 13, 6)
        for i in 0..<ry { wheel.append((255, ramp(i, ry), 0)) }            // red -> yellow: green rises
        for i in 0..<yg { wheel.append((255 - ramp(i, yg), 255, 0)) }      // yellow -> green: red falls
        for i in 0..<gc { wheel.append((0, 255, ramp(i, gc))) }            // green -> cyan: blue rises
        for i in 0..<cb { wheel.append((0, 255 - ramp(i, cb), 255)) }      // cyan -> blue: green falls
        for i in 0..<bm { wheel.append((ramp(i, bm), 0, 255)) }            // blue -> magenta: red rises
        for i in 0..<mr { wheel.append((255, 0, 255 - ramp(i, mr))) }      // magenta -> red: blue falls
        return wheel
    }()

    /// 8-bit RGB of one flow vector already divided by the normalising radius.
    @inline(__always)
    static func rgb(u: Float, v: Float) -> (UInt8, UInt8, UInt8) {
        let wheel = colors
        let radius = (u * u + v * v).squareRoot()
        let angle = atan2(-v, -u) / .pi                      // in [-1, 1]
        let position = (angle + 1) / 2 * Float(wheel.count - 1)
        let k0 = min(max(Int(position.rounded(.down)), 0), wheel.count - 1)
        let k1 = (k0 + 1) % wheel.count
        let f = position - Float(k0)
        func channel(_ c0: Int, _ c1: Int) -> UInt8 {
            var value = (1 - f) * Float(c0) / 255 + f * Float(c1) / 255
            // Inside the unit disc: towards white with decreasing length; outside: darkened.
            value = radius <= 1 ? 1 - radius * (1 - value) : value * 0.75
            return UInt8(max(0, min(255, (255 * value).rounded(.down))))
        }
        return (channel(wheel[k0].r, wheel[k1].r), channel(wheel[k0].g, wheel[k1].g), channel(wheel[k0].b, wheel[k1].b))
    }

    /// The largest flow length in the field (non-finite vectors ignored).
    public static func maximumRadius(_ flow: FlowField) -> Float {
        var largest: Float = 0
        for i in 0..<(flow.width * flow.height) {
            let r = (flow.u[i] * flow.u[i] + flow.v[i] * flow.v[i]).squareRoot()
            if r.isFinite { largest = max(largest, r) }
        }
        return largest
    }

    /// 8-bit RGB, interleaved per pixel (r, g, b), normalised by `radius` (default: the field's maximum,
    /// plus 1e-5 so a zero field is white, as common flow-visualisation code does).
    public static func renderBytes(_ flow: FlowField, radius: Float? = nil) -> [UInt8] {
        let norm = radius ?? (maximumRadius(flow) + 1e-5)
        let n = flow.width * flow.height
        var bytes = [UInt8](repeating: 0, count: 3 * n)
        for i in 0..<n {
            let u = flow.u[i].isFinite ? flow.u[i] : 0, v = flow.v[i].isFinite ? flow.v[i] : 0
            let (r, g, b) = rgb(u: u / norm, v: v / norm)
            bytes[3 * i] = r; bytes[3 * i + 1] = g; bytes[3 * i + 2] = b
        }
        return bytes
    }

    /// The rendering as an 8-bit RGB planar image (values k/255), ready to save as PNG.
    public static func render(_ flow: FlowField, radius: Float? = nil) -> PlanarImage {
        let bytes = renderBytes(flow, radius: radius)
        let n = flow.width * flow.height
        var image = PlanarImage(width: flow.width, height: flow.height, channels: 3, bitDepth: 8)
        for i in 0..<n {
            for c in 0..<3 { image.pixels[c * n + i] = Float(bytes[3 * i + c]) / 255 }
        }
        return image
    }
}
