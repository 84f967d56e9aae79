import Foundation
import Tensors

/// `warp`: the loss's warp on one training batch (4 x 3 x 64 x 64, flows of a few pixels), forward plus
/// adjoint per image as `JDRLLoss` runs them, bicubic against bilinear. Median of 21 runs of 20 batches.
/// No external peer: the bilinear warp is the yardstick.
func benchWarp() throws {
    let (batch, channels, size) = (4, 3, 64)
    let plane = size * size
    var rng = SeededGenerator(seed: 7)
    let images = (0..<(batch * channels * plane)).map { _ in rng.nextUniform() }
    let u = (0..<(batch * plane)).map { _ in (rng.nextUniform() * 2 - 1) * 4 }
    let v = (0..<(batch * plane)).map { _ in (rng.nextUniform() * 2 - 1) * 4 }
    var warped = [Float](repeating: 0, count: images.count), grad = warped
    func seconds(_ interpolation: WarpInterpolation) -> Double {
        NumericBenchmarks.median(NumericBenchmarks.timedRuns(21) {
            for _ in 0..<20 {
                for n in 0..<batch {
                    let image = n * channels * plane, pixels = n * plane
                    images.withUnsafeBufferPointer { src in u.withUnsafeBufferPointer { fu in v.withUnsafeBufferPointer { fv in
                    warped.withUnsafeMutableBufferPointer { dst in grad.withUnsafeMutableBufferPointer { g in
                        Warp.warp(src.baseAddress! + image, channels: channels, height: size, width: size, flowU: fu.baseAddress! + pixels,
                                  flowV: fv.baseAddress! + pixels, interpolation: interpolation, into: dst.baseAddress! + image)
                        Warp.warpBackward(gradOutput: dst.baseAddress! + image, channels: channels, height: size, width: size,
                                          flowU: fu.baseAddress! + pixels, flowV: fv.baseAddress! + pixels, interpolation: interpolation,
                                          gradSource: g.baseAddress! + image)
                    }}}}}
                }
            }
        }) / 20
    }
    let bilinear = seconds(.bilinear), bicubic = seconds(.bicubic)
    Benchmarks.emit([
        "bench": "warp", "ours_s": bicubic, "bilinear_s": bilinear, "bicubic_over_bilinear": bicubic / bilinear,
        "peer": "none (the bilinear warp is the yardstick)",
        "timed": "Warp.warp + Warp.warpBackward on a 4x3x64x64 batch (per image, as the loss runs them), seconds per batch, median of 21 runs",
    ])
}
