import Checks
import Imaging
import Threading

/// One channel of Float samples, row-major. The Flow module's working type: alignment and dense
/// flow run on grey planes derived from the caller's `PlanarImage`s.
struct Plane {
    var width: Int
    var height: Int
    var data: [Float]

    init(width: Int, height: Int, data: [Float]) {
        require(data.count == width * height)
        self.width = width
        self.height = height
        self.data = data
    }

    init(width: Int, height: Int, value: Float = 0) {
        self.init(width: width, height: height, data: [Float](repeating: value, count: width * height))
    }

    var count: Int { width * height }

    /// Grey level of an image: ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B) for 3+ channels
    /// (channels 0, 1, 2 taken as R, G, B), the channel itself for 1, the mean otherwise.
    init(luma image: PlanarImage, workers: Int) {
        let plane = image.width * image.height
        var out = [Float](repeating: 0, count: plane)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                Parallel.rows(image.height, workers: workers) { rows in
                    for i in (rows.lowerBound * image.width)..<(rows.upperBound * image.width) {
                        switch image.channels {
                        case 1: d[i] = s[i]
                        case 2: d[i] = 0.5 * (s[i] + s[plane + i])
                        default: d[i] = 0.299 * s[i] + 0.587 * s[plane + i] + 0.114 * s[2 * plane + i]
                        }
                    }
                }
            }
        }
        self.init(width: image.width, height: image.height, data: out)
    }

    var image: PlanarImage { PlanarImage(width: width, height: height, channels: 1, pixels: data) }
}
