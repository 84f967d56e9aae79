import CDNNL
import Dispatch
import Threading

/// A planar feature map (channels x height x width) flowing through the LPIPS trunk.
struct FeatureMap {
    var channels: Int
    var height: Int
    var width: Int
    var values: [Float]
}

/// A 2-D convolution with bias and a fused ReLU, as im2col + sgemm. The column matrix is built
/// for a chunk of output rows at a time so its memory stays bounded at any image size.
/// The sgemm is oneDNN's: it picks its kernels from the running CPU by itself, where Debian's
/// OpenBLAS 0.3.21 misreads some as Prescott (SSE3 kernels, 5x slower; docs/design.md) unless a
/// user sets OPENBLAS_CORETYPE before it loads.
struct ConvolutionReLU {
    let inputChannels: Int
    let outputChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    /// outputChannels x (inputChannels * kernel * kernel), PyTorch's OIHW order.
    let weights: [Float]
    let bias: [Float]

    /// Most floats one im2col chunk may hold (16 MB).
    static let columnBudget = 4 << 20

    func callAsFunction(_ input: FeatureMap) -> FeatureMap {
        precondition(input.channels == inputChannels)
        let outHeight = (input.height + 2 * padding - kernel) / stride + 1
        let outWidth = (input.width + 2 * padding - kernel) / stride + 1
        let depth = inputChannels * kernel * kernel
        var output = FeatureMap(channels: outputChannels, height: outHeight, width: outWidth,
                                values: [Float](repeating: 0, count: outputChannels * outHeight * outWidth))
        let chunkRows = max(1, min(outHeight, Self.columnBudget / max(1, depth * outWidth)))
        var columns = [Float](repeating: 0, count: depth * chunkRows * outWidth)
        input.values.withUnsafeBufferPointer { source in
            output.values.withUnsafeMutableBufferPointer { destination in
                columns.withUnsafeMutableBufferPointer { cols in
                    weights.withUnsafeBufferPointer { w in
                        var firstRow = 0
                        while firstRow < outHeight {
                            let rows = min(chunkRows, outHeight - firstRow)
                            fillColumns(cols.baseAddress!, from: source.baseAddress!, input: input,
                                        firstRow: firstRow, rows: rows, outWidth: outWidth)
                            let n = rows * outWidth
                            let status = dnnl_sgemm(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "N")),
                                                    Int64(outputChannels), Int64(n), Int64(depth),
                                                    1, w.baseAddress!, Int64(depth), cols.baseAddress!, Int64(n),
                                                    0, destination.baseAddress! + firstRow * outWidth, Int64(outHeight * outWidth))
                            precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue)")
                            firstRow += rows
                        }
                    }
                }
                addBiasAndRectify(destination.baseAddress!, planeSize: outHeight * outWidth)
            }
        }
        return output
    }

    /// Row (ci, ky, kx) of the column matrix holds, for each output pixel of the chunk, the input
    /// sample that kernel tap multiplies (zero outside the image: PyTorch's zero padding).
    private func fillColumns(_ columns: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, input: FeatureMap,
                             firstRow: Int, rows: Int, outWidth: Int) {
        let depth = inputChannels * kernel * kernel, n = rows * outWidth
        let shared = SendablePointer(columns)
        let sourceAddress = Int(bitPattern: source)
        Parallel.rows(depth, minimumRowsPerChunk: 1) { taps in for tap in taps {
            let source = UnsafePointer<Float>(bitPattern: sourceAddress)!
            let channel = tap / (kernel * kernel), ky = (tap / kernel) % kernel, kx = tap % kernel
            let plane = source + channel * input.height * input.width
            let row = shared.pointer + tap * n
            for r in 0..<rows {
                let y = (firstRow + r) * stride - padding + ky
                let out = row + r * outWidth
                guard y >= 0, y < input.height else { out.initialize(repeating: 0, count: outWidth); continue }
                let line = plane + y * input.width
                for ox in 0..<outWidth {
                    let x = ox * stride - padding + kx
                    out[ox] = (x >= 0 && x < input.width) ? line[x] : 0
                }
            }
        } }
    }

    private func addBiasAndRectify(_ values: UnsafeMutablePointer<Float>, planeSize: Int) {
        for c in 0..<outputChannels {
            let plane = values + c * planeSize, b = bias[c]
            for i in 0..<planeSize { plane[i] = max(0, plane[i] + b) }
        }
    }
}

/// 3x3 max pooling with stride 2, no padding, floor mode (AlexNet's pools).
func maxPool3x3Stride2(_ input: FeatureMap) -> FeatureMap {
    let outHeight = (input.height - 3) / 2 + 1, outWidth = (input.width - 3) / 2 + 1
    var output = FeatureMap(channels: input.channels, height: outHeight, width: outWidth,
                            values: [Float](repeating: 0, count: input.channels * outHeight * outWidth))
    input.values.withUnsafeBufferPointer { source in
        output.values.withUnsafeMutableBufferPointer { destination in
            for c in 0..<input.channels {
                let plane = source.baseAddress! + c * input.height * input.width
                let out = destination.baseAddress! + c * outHeight * outWidth
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        var best = -Float.infinity
                        for ky in 0..<3 { for kx in 0..<3 { best = max(best, plane[(2 * oy + ky) * input.width + 2 * ox + kx]) } }
                        out[oy * outWidth + ox] = best
                    }
                }
            }
        }
    }
    return output
}
