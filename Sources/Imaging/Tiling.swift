import Foundation
import Threading

/// Where patches go in an image: a regular grid of `size` x `size` windows every `stride` pixels,
/// optionally with extra windows flush with the right and bottom edges (the DPDD protocol) so the
/// whole image is covered.
public enum TileGrid {
    public struct Origin: Hashable, Sendable {
        public var x: Int
        public var y: Int
        public init(x: Int, y: Int) { self.x = x; self.y = y }
    }

    public static func origins(width: Int, height: Int, size: Int, stride: Int, includeEdges: Bool) -> [Origin] {
        guard width >= size, height >= size, stride > 0 else { return [] }
        func positions(_ extent: Int) -> [Int] {
            var values = Array(Swift.stride(from: 0, through: extent - size, by: stride))
            if includeEdges, let last = values.last, last != extent - size { values.append(extent - size) }
            return values
        }
        let xs = positions(width), ys = positions(height)
        return ys.flatMap { y in xs.map { x in Origin(x: x, y: y) } }
    }
}

/// Cuts windows from materialised images and saves them on several threads. PNG encoding dominates
/// tiling time and each encode is single-threaded, so encoding different tiles in parallel is the lever.
public enum TileWriter {
    /// For every origin and every image, crops `size` x `size` and calls `save(crop, destination(origin, imageIndex))`.
    /// `images` must be materialised (see `VipsImage.materialized()`). Stops at the first error and rethrows it.
    public static func write(images: [VipsImage], origins: [TileGrid.Origin], size: Int, threads: Int,
                             destination: (Int, Int) -> URL, save: (VipsImage, URL) throws -> Void,
                             onTileDone: (() -> Void)? = nil) throws {
        // Workers take the next job as they finish one: balanced even when some tiles compress slower.
        try Parallel.eachItem(origins.count * images.count, workers: threads) { job in
            let originIndex = job / images.count, imageIndex = job % images.count
            let origin = origins[originIndex]
            let crop = try images[imageIndex].cropped(x: origin.x, y: origin.y, width: size, height: size)
            try save(crop, destination(originIndex, imageIndex))
            if imageIndex == images.count - 1 { onTileDone?() }
        }
    }
}

/// Sharpness of a patch as DPDNet's data preparation measures it: Sobel gradient energy of the sharp
/// image. Here: mean of gx^2 + gy^2 over the patch interior, on luma in [0, 1].
public enum Sharpness {
    /// Rec. 601 luma of a materialised RGB image, as one Float plane in [0, 1].
    public static func luma(of image: VipsImage) throws -> [Float] {
        let width = image.width, height = image.height, bands = image.bands
        let sixteen = image.bitDepth == 16
        let plane = width * height
        var out = [Float](repeating: 0, count: plane)
        let read: Void? = try image.withMemory { raw in
            let scale: Float = sixteen ? 1 / 65535 : 1 / 255
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<plane {
                    func sample(_ c: Int) -> Float {
                        let k = i * bands + min(c, bands - 1)
                        return sixteen ? Float(raw.loadUnaligned(fromByteOffset: k * 2, as: UInt16.self)) : Float(raw[k])
                    }
                    dst[i] = (0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2)) * scale
                }
            }
        }
        guard read != nil else { throw ImagingError.vips(operation: "get_data", reason: "pixels not available") }
        return out
    }

    public static func sobelEnergy(luma: [Float], width: Int, x: Int, y: Int, size: Int) -> Double {
        var sum = 0.0
        luma.withUnsafeBufferPointer { p in
            for row in (y + 1)..<(y + size - 1) {
                let up = (row - 1) * width, mid = row * width, down = (row + 1) * width
                var rowSum: Float = 0
                for col in (x + 1)..<(x + size - 1) {
                    let gx = (p[up + col + 1] + 2 * p[mid + col + 1] + p[down + col + 1]) - (p[up + col - 1] + 2 * p[mid + col - 1] + p[down + col - 1])
                    let gy = (p[down + col - 1] + 2 * p[down + col] + p[down + col + 1]) - (p[up + col - 1] + 2 * p[up + col] + p[up + col + 1])
                    rowSum += gx * gx + gy * gy
                }
                sum += Double(rowSum)
            }
        }
        return sum / Double((size - 2) * (size - 2))
    }
}
