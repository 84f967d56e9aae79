// Nearest x2 upsampling followed by a 2x2 "same" convolution (extra row/column at the right and
// bottom: the UNet's up-path, torch_jdrl.py `Upsample` + `SamePad2x2`), computed on the
// low-resolution input in sub-pixel (polyphase) form. Output pixel (2i+a, 2j+b) sees upsampled
// rows 2i+a, 2i+a+1 and columns 2j+b, 2j+b+1; rows 2i and 2i+1 are both low-resolution row i,
// so for a = 0 the kernel's two rows fall on the same input row and add up (columns likewise):
//   phase (0,0): 1x1 kernel   W00 + W01 + W10 + W11          at (i, j)
//   phase (0,1): 1x2 kernel   [W00 + W10, W01 + W11]          at (i, j), (i, j+1)
//   phase (1,0): 2x1 kernel   [W00 + W01; W10 + W11]          at (i, j), (i+1, j)
//   phase (1,1): 2x2 kernel   W itself                        at (i..i+1, j..j+1)
// with zeros beyond the low-resolution image exactly where the upsampled image had its zero pad.
// 1 + 2 + 2 + 4 = 9 taps per low-resolution pixel instead of 4 x 4 = 16, and no upsampled copy.
// The result is the same linear map (it differs from upsample + conv only by float rounding).
// Backward is its adjoint: the phases' weight gradients fold back onto W by the same sums, the
// input gradient is the sum of the four phases' input gradients.
//
// The phases are oneDNN convolutions (Conv2D). Phase (1,1) is the layer's own Conv2D over the
// arena's weights; the other three run on derived weights in a small private arena, refreshed at
// every forward (the arena's weights change at every Adam step).
import Checks
import CDNNL

public final class UpsampleConv2x {
    /// The 2x2 "same" convolution whose arena holds the parameters (also phase (1,1)).
    public let conv: Conv2D
    public var shape: ConvShape { conv.shape }
    /// Phases (0,0), (0,1), (1,0): derived weights and their gradients, each OIHW then a bias.
    private let derived: ParameterArena
    private let phases: [Conv2D]   // (0,0), (0,1), (1,0), (1,1)
    private var buffers: Buffers?
    /// The derived weights hold the arena's weights of some earlier forward (for `reuseWeights`).
    private var derivedCurrent = false

    /// The 2x2 "same" convolution's shape: phase kernels are 1x1, 1x2, 2x1 and 2x2 over its channels.
    public static func phaseShapes(_ s: ConvShape) -> [ConvShape] {
        let (i, o) = (s.inChannels, s.outChannels)
        return [ConvShape.conv1x1(i, o),
                ConvShape(inChannels: i, outChannels: o, kernelHeight: 1, kernelWidth: 2, padTop: 0, padLeft: 0, padBottom: 0, padRight: 1),
                ConvShape(inChannels: i, outChannels: o, kernelHeight: 2, kernelWidth: 1, padTop: 0, padLeft: 0, padBottom: 1, padRight: 0),
                s]
    }

    public init(_ conv: Conv2D) {
        require(conv.shape == .samePad2x2(conv.shape.inChannels, conv.shape.outChannels) && !conv.fusedReLU,
                "UpsampleConv2x needs a 2x2 same convolution without ReLU, got \(conv.shape)")
        self.conv = conv
        let shapes = Self.phaseShapes(conv.shape)
        let arena = ParameterArena((0..<3).map { ("phase\($0)", [shapes[$0].parameterCount]) })
        derived = arena
        phases = (0..<3).map { k in
            Conv2D(shapes[k], weights: arena.values + arena.entries[k].offset, gradients: arena.gradients + arena.entries[k].offset)
        } + [conv]
    }

    /// The four phases' low-resolution outputs and gradients, per input shape and layout.
    private final class Buffers {
        let key: String
        let outputs: [Tensor], gradients: [Tensor], inputGradients: [Tensor]
        init(key: String, like src: Tensor, outChannels: Int) {
            self.key = key
            func make(_ c: Int) -> Tensor { Tensor(n: src.n, c: c, h: src.h, w: src.w, layout: src.layout, elementType: src.elementType) }
            outputs = (0..<4).map { _ in make(outChannels) }
            gradients = src.elementType == .f32 ? (0..<4).map { _ in make(outChannels) } : []
            inputGradients = src.elementType == .f32 ? (0..<3).map { _ in make(src.c) } : []
        }
    }

    private func planned(_ src: Tensor) -> Buffers {
        let key = "\(src.n)x\(src.c)x\(src.h)x\(src.w) \(src.layout) \(src.elementType)"
        if let buffers, buffers.key == key { return buffers }
        let made = Buffers(key: key, like: src, outChannels: shape.outChannels)
        buffers = made
        return made
    }

    /// The phases' weights and biases from the arena's: the sums in the file header.
    private func deriveWeights() {
        let w = conv.weights, cout = shape.outChannels, pairs = cout * shape.inChannels
        let p00 = phases[0].weights, p01 = phases[1].weights, p10 = phases[2].weights
        Parallel.chunks(pairs, minimumChunk: 1 << 13) { range in
            for k in range {
                let w00 = w[4 * k], w01 = w[4 * k + 1], w10 = w[4 * k + 2], w11 = w[4 * k + 3]
                p00[k] = (w00 + w01) + (w10 + w11)
                p01[2 * k] = w00 + w10; p01[2 * k + 1] = w01 + w11
                p10[2 * k] = w00 + w01; p10[2 * k + 1] = w10 + w11
            }
        }
        let bias = w + 4 * pairs
        (p00 + pairs).update(from: bias, count: cout)
        (p01 + 2 * pairs).update(from: bias, count: cout)
        (p10 + 2 * pairs).update(from: bias, count: cout)
    }

    /// dst (n x Cout x 2h x 2w) = conv2x2same(upsample2x(src)) + bias. `reuseWeights`: the arena's
    /// weights did not change since the previous forward (tiles of one image).
    public func forward(src: Tensor, dst: Tensor, reuseWeights: Bool = false) {
        require(dst.n == src.n && dst.c == shape.outChannels && dst.h == 2 * src.h && dst.w == 2 * src.w
                    && dst.layout == src.layout && dst.elementType == src.elementType,
                "UpsampleConv2x \(shape): src \(src.n)x\(src.c)x\(src.h)x\(src.w) / dst \(dst.n)x\(dst.c)x\(dst.h)x\(dst.w) do not fit")
        let b = planned(src)
        if !(reuseWeights && derivedCurrent) {
            Engine.shared.profiled("upconv derive \(shape)") { deriveWeights() }
            derivedCurrent = true
        }
        for (phase, out) in zip(phases, b.outputs) { phase.forward(src: src, dst: out, reuseWeights: reuseWeights) }
        Engine.shared.profiled("upconv interleave \(shape)") { Subpixel.interleave(b.outputs, into: dst) }
    }

    /// Accumulates the parameter gradients; overwrites gradSrc. Must follow a forward on src.
    public func backward(src: Tensor, gradDst: Tensor, gradSrc: Tensor) {
        require(gradDst.n == src.n && gradDst.c == shape.outChannels && gradDst.h == 2 * src.h && gradDst.w == 2 * src.w
                    && gradSrc.hasSameShape(src) && gradSrc.layout == src.layout && gradDst.layout == src.layout
                    && src.elementType == .f32, "UpsampleConv2x.backward: shapes do not fit")
        let b = planned(src)
        Engine.shared.profiled("upconv deinterleave \(shape)") { Subpixel.deinterleave(gradDst, into: b.gradients) }
        derived.zeroGradients()
        // Phase (1,1) accumulates straight into the arena; (0,0) writes gradSrc, the rest their own.
        for k in 0..<4 {
            phases[k].backward(src: src, dst: b.outputs[k], gradDst: b.gradients[k], gradSrc: k == 0 ? gradSrc : b.inputGradients[k - 1])
        }
        Engine.shared.profiled("upconv fold \(shape)") {
            Elementwise.accumulate(b.inputGradients[0], b.inputGradients[1], b.inputGradients[2], into: gradSrc)
            foldGradients()
        }
    }

    /// Arena gradient += the derived phases' gradients mapped back by the adjoint of `deriveWeights`.
    private func foldGradients() {
        let g = conv.gradients, cout = shape.outChannels, pairs = cout * shape.inChannels
        let d00 = phases[0].gradients, d01 = phases[1].gradients, d10 = phases[2].gradients
        Parallel.chunks(pairs, minimumChunk: 1 << 13) { range in
            for k in range {
                let s = d00[k]
                g[4 * k] += s + d01[2 * k] + d10[2 * k]
                g[4 * k + 1] += s + d01[2 * k + 1] + d10[2 * k]
                g[4 * k + 2] += s + d01[2 * k] + d10[2 * k + 1]
                g[4 * k + 3] += s + d01[2 * k + 1] + d10[2 * k + 1]
            }
        }
        let bias = g + 4 * pairs
        for o in 0..<cout { bias[o] += d00[pairs + o] + d01[2 * pairs + o] + d10[2 * pairs + o] }
    }

    /// oneDNN implementations of the four phases (forward, then backward once run).
    public var implementations: [String] { phases.flatMap(\.implementations) }

    /// The phase convolutions (for the network's lists of layers: implementations, replanning).
    public var convolutions: [Conv2D] { phases }
}

/// Moves between a high-resolution tensor and its four sub-pixel phases (a, b): phase a*2+b holds
/// pixels (2i+a, 2j+b). Works on whole pixel units: a channel block (blocked), one channel (plain)
/// or a pixel's channels (channels-last), of any element type.
enum Subpixel {
    /// Per layout: planes (images x channel planes), the bytes of one pixel unit.
    private static func geometry(_ t: Tensor) -> (planes: Int, unit: Int) {
        let size = t.elementType.byteSize
        switch t.layout {
        case .blocked: return (t.n * ((t.c + t.block - 1) / t.block), t.block * size)
        case .plain: return (t.n * t.c, size)
        case .channelsLast: return (t.n, t.c * size)
        }
    }

    static func interleave(_ phases: [Tensor], into dst: Tensor) { move(phases, dst, toHigh: true) }
    static func deinterleave(_ src: Tensor, into phases: [Tensor]) { move(phases, src, toHigh: false) }

    /// Parallel over (plane, low-resolution row): each writes two disjoint high-resolution rows
    /// (interleave) or one row of each phase (deinterleave).
    private static func move(_ phases: [Tensor], _ high: Tensor, toHigh: Bool) {
        let (planes, unit) = geometry(high)
        let h = phases[0].h, w = phases[0].w
        require(phases.count == 4 && phases.allSatisfy { $0.h == h && $0.w == w && $0.layout == high.layout && geometry($0) == (planes, unit) }
                    && high.h == 2 * h && high.w == 2 * w, "Subpixel: phases do not fit")
        let highBase = UnsafeMutableRawPointer(high.pointer)
        let lowBases = phases.map { UnsafeMutableRawPointer($0.pointer) }
        let lowRow = w * unit, highRow = 2 * w * unit
        Parallel.chunks(planes * h, minimumChunk: max(1, (1 << 16) / max(1, lowRow))) { range in
            for item in range {
                let plane = item / h, i = item % h
                for a in 0..<2 {
                    let highLine = highBase + (plane * 2 * h + 2 * i + a) * highRow
                    for b in 0..<2 {
                        let lowLine = lowBases[2 * a + b] + (plane * h + i) * lowRow
                        copyStrided(lowLine, highLine + b * unit, count: w, unit: unit, toHigh: toHigh)
                    }
                }
            }
        }
    }

    /// high[2j] <-> low[j] for j < count (units of `unit` bytes; the high line starts at the phase's column).
    @inline(__always)
    private static func copyStrided(_ low: UnsafeMutableRawPointer, _ high: UnsafeMutableRawPointer, count: Int, unit: Int, toHigh: Bool) {
        switch unit {
        case 32: copyUnits(SIMD8<Float>.self, low, high, count, toHigh)
        case 64: copyUnits(SIMD16<Float>.self, low, high, count, toHigh)
        case 16: copyUnits(SIMD4<Float>.self, low, high, count, toHigh)
        case 4: copyUnits(Float.self, low, high, count, toHigh)
        default:
            for j in 0..<count {
                if toHigh { (high + 2 * j * unit).copyMemory(from: low + j * unit, byteCount: unit) }
                else { (low + j * unit).copyMemory(from: high + 2 * j * unit, byteCount: unit) }
            }
        }
    }

    @inline(__always)
    private static func copyUnits<T>(_: T.Type, _ low: UnsafeMutableRawPointer, _ high: UnsafeMutableRawPointer, _ count: Int, _ toHigh: Bool) {
        let size = MemoryLayout<T>.size
        if toHigh {
            for j in 0..<count { (high + 2 * j * size).storeBytes(of: low.loadUnaligned(fromByteOffset: j * size, as: T.self), as: T.self) }
        } else {
            for j in 0..<count { (low + j * size).storeBytes(of: high.loadUnaligned(fromByteOffset: 2 * j * size, as: T.self), as: T.self) }
        }
    }
}
