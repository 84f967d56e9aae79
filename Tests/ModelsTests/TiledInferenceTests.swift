import Models
import Testing

/// Tiled inference must reproduce a single pass of a local operation: tiles overlap, edge tiles
/// shift inward, and the blend gives zero weight to tile edges that face another tile.
struct TiledInferenceTests {
    /// A deterministic test image, planar CHW.
    static func image(channels: Int, height: Int, width: Int) -> [Float] {
        var state: UInt32 = 2024
        return (0..<(channels * height * width)).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24)
        }
    }

    /// 3x3 mean with indices clamped to the buffer (so its only border effect is one pixel deep).
    static func boxFilter(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int) {
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for dy in -1...1 {
                        for dx in -1...1 {
                            let yy = min(max(y + dy, 0), height - 1), xx = min(max(x + dx, 0), width - 1)
                            sum += input[(c * height + yy) * width + xx]
                        }
                    }
                    output[(c * height + y) * width + x] = sum / 9
                }
            }
        }
    }

    func tiled(_ input: [Float], channels: Int, height: Int, width: Int, tiler: TiledInference,
               _ process: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> [Float] {
        var output = [Float](repeating: .nan, count: input.count)
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                tiler.run(input: source.baseAddress!, channels: channels, height: height, width: width,
                          output: destination.baseAddress!, process: process)
            }
        }
        return output
    }

    @Test(arguments: [(301, 517), (40, 517), (37, 50), (128, 128), (129, 300)])
    func identityIsReproducedExactly(height: Int, width: Int) {
        let input = Self.image(channels: 3, height: height, width: width)
        var tileShapes: [[Int]] = []
        let output = tiled(input, channels: 3, height: height, width: width, tiler: TiledInference(tile: 128, overlap: 32, multiple: 16)) { tileIn, tileOut, h, w in
            tileShapes.append([h, w])
            tileOut.update(from: tileIn, count: 3 * h * w)
        }
        let worst = zip(output, input).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-6, "max |tiled - input| = \(worst) at \(height)x\(width)")
        #expect(tileShapes.allSatisfy { $0[0] % 16 == 0 && $0[1] % 16 == 0 && $0[0] <= 128 && $0[1] <= 128 })
    }

    @Test func boxFilterMatchesSinglePassAtAwkwardSize() {
        let (channels, height, width) = (3, 301, 517)
        let input = Self.image(channels: channels, height: height, width: width)
        var reference = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { source in
            reference.withUnsafeMutableBufferPointer { Self.boxFilter(source.baseAddress!, $0.baseAddress!, channels: channels, height: height, width: width) }
        }
        var tiles = 0
        let output = tiled(input, channels: channels, height: height, width: width, tiler: TiledInference(tile: 128, overlap: 32, multiple: 16)) { tileIn, tileOut, h, w in
            tiles += 1
            Self.boxFilter(tileIn, tileOut, channels: channels, height: h, width: w)
        }
        // 517 wide: starts 0, 96, 192, 288, 384, 389 (shifted inward); 301 high: 0, 96, 173.
        #expect(tiles == 6 * 3)
        let worst = zip(output, reference).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5, "max |tiled - single pass| = \(worst)")
    }

    @Test func smallImagesAreReflectPaddedToTheMultiple() {
        // 37x50 with tile 64: one 48x64 tile (multiples of 16), reflect-padded; the box filter then
        // differs from the single pass only where the padding replaced the clamp (last row/column).
        let (channels, height, width) = (2, 37, 50)
        let input = Self.image(channels: channels, height: height, width: width)
        var reference = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { source in
            reference.withUnsafeMutableBufferPointer { Self.boxFilter(source.baseAddress!, $0.baseAddress!, channels: channels, height: height, width: width) }
        }
        var shapes: [[Int]] = []
        let output = tiled(input, channels: channels, height: height, width: width, tiler: TiledInference(tile: 64, overlap: 16, multiple: 16)) { tileIn, tileOut, h, w in
            shapes.append([h, w])
            Self.boxFilter(tileIn, tileOut, channels: channels, height: h, width: w)
        }
        #expect(shapes == [[48, 64]])
        var worst: Float = 0
        for c in 0..<channels { for y in 0..<(height - 1) { for x in 0..<(width - 1) {
            let i = (c * height + y) * width + x
            worst = max(worst, abs(output[i] - reference[i]))
        } } }
        #expect(worst <= 1e-6, "max |tiled - single pass| away from the padded edge = \(worst)")
    }
}

/// The size jdrl-deblur must handle: 4096x2160 RGB with 512-pixel tiles, identity reproduced.
struct TiledInferenceFullResolutionTests {
    @Test func fullResolutionIdentity() {
        let (channels, height, width) = (3, 2160, 4096)
        let input = TiledInferenceTests.image(channels: channels, height: height, width: width)
        var output = [Float](repeating: .nan, count: input.count)
        var tiles = 0
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                TiledInference(tile: 512, overlap: 64, multiple: 16).run(
                    input: source.baseAddress!, channels: channels, height: height, width: width,
                    output: destination.baseAddress!) { tileIn, tileOut, h, w in
                    tiles += 1
                    tileOut.update(from: tileIn, count: channels * h * w)
                }
            }
        }
        // Columns: 0, 448, ..., 3584 (9 tiles; 3584 + 512 ends exactly at the edge);
        // rows: 0, 448, 896, 1344 and the last shifted inward to 2160 - 512 = 1648 (5 tiles).
        #expect(tiles == 9 * 5)
        #expect(zip(output, input).allSatisfy { abs($0 - $1) <= 1e-6 })
    }
}
