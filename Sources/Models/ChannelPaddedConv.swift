// A convolution whose input channel count is not a whole number of the engine's channel blocks
// (R's 6-channel concat, the prior network's 38-channel features). oneDNN 2.6 has JIT kernels for
// 3-channel plain inputs and for full channel blocks, but such an input (plain or a padded block)
// sends backward to its reference kernels (seconds per call). So oneDNN runs a twin convolution over
// whole blocks whose extra input columns are zero: the real weights are copied in before each
// forward, and the real columns of its weight gradient are added back into the arena after backward.
// The input tensor's padding channels must be zero (`loadChannels` writes only the real ones).
import Tensors
import Threading

final class ChannelPaddedConv {
    let real: Conv2D
    let padded: Conv2D
    private let paddedArena: ParameterArena

    /// The channel count oneDNN sees for `channels` real input channels.
    static func paddedChannels(_ channels: Int) -> Int {
        let block = max(8, Layout.channelBlock)
        return (channels + block - 1) / block * block
    }

    init(_ real: Conv2D) {
        self.real = real
        let s = real.shape
        var shape = s
        shape.inChannels = Self.paddedChannels(s.inChannels)
        paddedArena = ParameterArena([("weight", [s.outChannels, shape.inChannels, s.kernelHeight, s.kernelWidth]), ("bias", [s.outChannels])])
        padded = Conv2D(shape, fusedReLU: real.fusedReLU, weights: paddedArena.values, gradients: paddedArena.gradients)
    }

    private var taps: Int { real.shape.kernelHeight * real.shape.kernelWidth }

    func forward(src: Tensor, dst: Tensor) {
        let outputs = real.shape.outChannels, inputs = real.shape.inChannels, wide = padded.shape.inChannels, taps = taps
        for o in 0..<outputs {
            for i in 0..<inputs { (paddedArena.values + (o * wide + i) * taps).update(from: real.weights + (o * inputs + i) * taps, count: taps) }
            paddedArena.values[outputs * wide * taps + o] = real.weights[real.shape.weightCount + o]
        }
        padded.forward(src: src, dst: dst)
    }

    /// Accumulates the real weights' gradients; `gradSrc` (padded channels) is overwritten when given.
    func backward(src: Tensor, dst: Tensor, gradDst: Tensor, gradSrc: Tensor?) {
        paddedArena.zeroGradients()
        padded.backward(src: src, dst: dst, gradDst: gradDst, gradSrc: gradSrc)
        let outputs = real.shape.outChannels, inputs = real.shape.inChannels, wide = padded.shape.inChannels, taps = taps
        for o in 0..<outputs {
            for i in 0..<inputs {
                let from = paddedArena.gradients + (o * wide + i) * taps, to = real.gradients + (o * inputs + i) * taps
                for k in 0..<taps { to[k] += from[k] }
            }
            real.gradients[real.shape.weightCount + o] += paddedArena.gradients[outputs * wide * taps + o]
        }
    }

    var implementations: [String] { padded.implementations }

    /// Writes plain NCHW channels (`channels` per sample) into channels `first..<first+channels` of `tensor`.
    static func loadChannels(_ plain: UnsafePointer<Float>, channels: Int, into tensor: Tensor, first: Int = 0) {
        let plane = tensor.h * tensor.w, stride = tensor.offset(0, 0, 0, 1)
        Parallel.rows(tensor.n * channels, minimumRowsPerChunk: 1) { planes in
            for index in planes {
                let (ni, c) = index.quotientAndRemainder(dividingBy: channels)
                let source = plain + index * plane, target = tensor.pointer + tensor.offset(ni, first + c, 0, 0)
                for p in 0..<plane { target[stride * p] = source[p] }
            }
        }
    }

    /// Adds channels `first..<first+channels` of `tensor` into plain NCHW (`channels` per sample).
    static func addChannels(of tensor: Tensor, first: Int = 0, channels: Int, into plain: UnsafeMutablePointer<Float>) {
        let plane = tensor.h * tensor.w, stride = tensor.offset(0, 0, 0, 1)
        Parallel.rows(tensor.n * channels, minimumRowsPerChunk: 1) { planes in
            for index in planes {
                let (ni, c) = index.quotientAndRemainder(dividingBy: channels)
                let source = tensor.pointer + tensor.offset(ni, first + c, 0, 0), target = plain + index * plane
                for p in 0..<plane { target[p] += source[stride * p] }
            }
        }
    }
}
