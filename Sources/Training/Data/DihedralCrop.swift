import Imaging

/// One of the 8 symmetries of the square (flips, 90-degree rotations, transpose), as the composition
/// "transpose first, then flip x, then flip y". Index bits: 1 = flip x, 2 = flip y, 4 = transpose.
public struct Dihedral: Sendable, Equatable, CaseIterable {
    public let transpose: Bool
    public let flipX: Bool
    public let flipY: Bool

    public init(transpose: Bool, flipX: Bool, flipY: Bool) {
        self.transpose = transpose
        self.flipX = flipX
        self.flipY = flipY
    }

    public init(index: Int) {
        precondition((0..<8).contains(index))
        self.init(transpose: index & 4 != 0, flipX: index & 1 != 0, flipY: index & 2 != 0)
    }

    public static let identity = Dihedral(index: 0)
    public static let allCases: [Dihedral] = (0..<8).map(Dihedral.init(index:))

    /// The transformed flow vector. A flow is a displacement, so it is mapped by the linear part of the
    /// transform: if A'(p') = A(T^-1 p') and B'(q') = B(T^-1 q'), then A'(p') matches B'(p' + L f(T^-1 p')).
    /// Transpose swaps u and v; a horizontal flip negates u; a vertical flip negates v.
    @inline(__always)
    public func transformVector(u: Float, v: Float) -> (u: Float, v: Float) {
        let (tu, tv) = transpose ? (v, u) : (u, v)
        return (flipX ? -tu : tu, flipY ? -tv : tv)
    }
}

/// A square crop of a patch followed by a dihedral transform: where each output pixel comes from.
/// Images, masks and flows of one sample go through the same `DihedralCrop`, so they stay registered.
public struct DihedralCrop: Sendable, Equatable {
    public let originX: Int
    public let originY: Int
    public let size: Int
    public let transform: Dihedral

    public init(originX: Int, originY: Int, size: Int, transform: Dihedral = .identity) {
        self.originX = originX
        self.originY = originY
        self.size = size
        self.transform = transform
    }

    /// Source coordinates (in the uncropped patch) of output pixel (x, y).
    @inline(__always)
    func sourcePixel(x: Int, y: Int) -> (x: Int, y: Int) {
        let fx = transform.flipX ? size - 1 - x : x
        let fy = transform.flipY ? size - 1 - y : y
        let (cx, cy) = transform.transpose ? (fy, fx) : (fx, fy)
        return (originX + cx, originY + cy)
    }

    /// Copies `channels` planes of a `sourceWidth`-wide planar image into `size x size` planes.
    public func copyPlanes(from source: UnsafePointer<Float>, sourceWidth: Int, sourceHeight: Int, channels: Int,
                           into destination: UnsafeMutablePointer<Float>) {
        precondition(originX >= 0 && originY >= 0 && originX + size <= sourceWidth && originY + size <= sourceHeight,
                     "crop \(size)x\(size) at (\(originX), \(originY)) leaves the \(sourceWidth)x\(sourceHeight) patch")
        let sourcePlane = sourceWidth * sourceHeight, plane = size * size
        for y in 0..<size {
            for x in 0..<size {
                let s = sourcePixel(x: x, y: y)
                let from = s.y * sourceWidth + s.x, to = y * size + x
                for c in 0..<channels {
                    destination[c * plane + to] = source[c * sourcePlane + from]
                }
            }
        }
    }

    public func copy(_ image: PlanarImage, into destination: UnsafeMutablePointer<Float>) {
        image.pixels.withUnsafeBufferPointer {
            copyPlanes(from: $0.baseAddress!, sourceWidth: image.width, sourceHeight: image.height,
                       channels: image.channels, into: destination)
        }
    }

    /// Crops and transforms a flow field: positions move like image pixels, vectors by `transformVector`.
    public func copy(_ flow: FlowField, intoU: UnsafeMutablePointer<Float>, intoV: UnsafeMutablePointer<Float>) {
        precondition(originX + size <= flow.width && originY + size <= flow.height, "crop leaves the flow field")
        flow.u.withUnsafeBufferPointer { u in
            flow.v.withUnsafeBufferPointer { v in
                for y in 0..<size {
                    for x in 0..<size {
                        let s = sourcePixel(x: x, y: y)
                        let from = s.y * flow.width + s.x, to = y * size + x
                        let t = transform.transformVector(u: u[from], v: v[from])
                        intoU[to] = t.u
                        intoV[to] = t.v
                    }
                }
            }
        }
    }
}
