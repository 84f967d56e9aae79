import Foundation

/// Runs a per-tile image operation (a deblurring network, typically) over an image of any size by
/// overlapping tiles blended without seams, holding one tile at a time.
///
/// Tiling per axis: tiles of `tile` pixels start every `tile - overlap` pixels; the last tile is
/// shifted inward to end at the image edge (no padding when the image is at least one tile). An axis
/// shorter than a tile gets one tile of that length rounded up to `multiple`, reflect-padded.
///
/// Blending: each tile's output is weighted by a separable raised-cosine ramp over its `overlap`
/// pixels on every side that faces another tile (weight 0 at the tile edge, where a network sees the
/// least context; 1 inside and on sides at the image border), and the sum is divided by the total
/// weight. Because both the ramps and the tile grid are separable, the total weight at (y, x) is the
/// product of two 1-D sums: memory is the output, one input tile, one output tile and H + W floats.
public struct TiledInference: Sendable {
    public let tile: Int
    public let overlap: Int
    public let multiple: Int

    public init(tile: Int, overlap: Int, multiple: Int = 16) {
        precondition(multiple > 0 && tile > 0 && tile % multiple == 0, "tile \(tile) must be a positive multiple of \(multiple)")
        // overlap 1 would give two neighbouring tiles weight 0 on the same pixel.
        precondition(overlap == 0 || (overlap >= 2 && 2 * overlap <= tile), "overlap \(overlap) must be 0 or in 2...tile/2")
        self.tile = tile
        self.overlap = overlap
        self.multiple = multiple
    }

    /// `input` and `output` are planar CHW (`channels` x `height` x `width`); `process` maps a tile
    /// (channels x h x w, h and w multiples of `multiple`) to an output tile of the same shape.
    public func run(input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                    output: UnsafeMutablePointer<Float>,
                    process: (_ tileIn: UnsafePointer<Float>, _ tileOut: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int) throws -> Void) rethrows {
        let rows = spans(length: height), columns = spans(length: width)
        let rowWeight = totalWeight(rows, length: height), columnWeight = totalWeight(columns, length: width)
        let tileHeight = rows[0].size, tileWidth = columns[0].size
        let plane = height * width
        output.initialize(repeating: 0, count: channels * plane)
        let tileIn = UnsafeMutablePointer<Float>.allocate(capacity: channels * tileHeight * tileWidth)
        let tileOut = UnsafeMutablePointer<Float>.allocate(capacity: channels * tileHeight * tileWidth)
        defer { tileIn.deallocate(); tileOut.deallocate() }

        for row in rows {
            for column in columns {
                gather(input, channels: channels, height: height, width: width, row: row, column: column, into: tileIn)
                tileOut.initialize(repeating: 0, count: channels * tileHeight * tileWidth)
                try process(tileIn, tileOut, tileHeight, tileWidth)
                for c in 0..<channels {
                    for ty in 0..<min(row.size, height) {
                        let wy = row.weights[ty]
                        let source = tileOut + (c * tileHeight + ty) * tileWidth
                        let target = output + c * plane + (row.start + ty) * width + column.start
                        for tx in 0..<min(column.size, width) { target[tx] += source[tx] * (wy * column.weights[tx]) }
                    }
                }
            }
        }
        for c in 0..<channels {
            for y in 0..<height {
                let line = output + c * plane + y * width, wy = rowWeight[y]
                for x in 0..<width { line[x] /= wy * columnWeight[x] }
            }
        }
    }

    /// How many tiles `run` processes for an image of this size.
    public func tileCount(height: Int, width: Int) -> Int { spans(length: height).count * spans(length: width).count }

    /// One tile's extent along an axis and its blending weights (one per tile pixel).
    struct Span {
        var start: Int
        var size: Int
        var weights: [Float]
    }

    /// Tile extents along an axis of `length` pixels, with ramps on the sides that meet another tile.
    func spans(length: Int) -> [Span] {
        if length <= tile {
            let size = (length + multiple - 1) / multiple * multiple
            return [Span(start: 0, size: size, weights: [Float](repeating: 1, count: size))]
        }
        var starts: [Int] = []
        var start = 0
        while start + tile < length {
            starts.append(start)
            start += tile - overlap
        }
        starts.append(length - tile)
        return starts.enumerated().map { index, start in
            Span(start: start, size: tile,
                 weights: ramp(leading: index > 0, trailing: index < starts.count - 1))
        }
    }

    /// 1 inside; sin² rising from 0 over `overlap` pixels on the requested sides.
    private func ramp(leading: Bool, trailing: Bool) -> [Float] {
        var weights = [Float](repeating: 1, count: tile)
        for i in 0..<overlap {
            let rising = Float(pow(sin(Double.pi / 2 * Double(i) / Double(overlap)), 2))
            if leading { weights[i] = rising }
            if trailing { weights[tile - 1 - i] = rising }
        }
        return weights
    }

    /// Sum over tiles of the weights covering each pixel of the axis.
    private func totalWeight(_ spans: [Span], length: Int) -> [Float] {
        var total = [Float](repeating: 0, count: length)
        for span in spans {
            for i in 0..<min(span.size, length) { total[span.start + i] += span.weights[i] }
        }
        return total
    }

    /// Copies a tile out of the image; positions past the image edge reflect (edge pixel not repeated),
    /// repeatedly if the tile is more than twice the image.
    private func gather(_ input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                        row: Span, column: Span, into tileIn: UnsafeMutablePointer<Float>) {
        let columnIndex = (0..<column.size).map { reflect(column.start + $0, length: width) }
        for c in 0..<channels {
            for ty in 0..<row.size {
                let source = input + (c * height + reflect(row.start + ty, length: height)) * width
                let target = tileIn + (c * row.size + ty) * column.size
                for tx in 0..<column.size { target[tx] = source[columnIndex[tx]] }
            }
        }
    }

    private func reflect(_ index: Int, length: Int) -> Int {
        if length == 1 { return 0 }
        let period = 2 * (length - 1)
        let folded = index % period
        return folded < length ? folded : period - folded
    }
}
