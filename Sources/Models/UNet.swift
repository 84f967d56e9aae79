// The baseline deblurring network F of JDRL (Li et al., AAAI 2023; the authors' UNet), as defined by
// the reference implementation's `UNet` (docs/method.md):
//   encoder level i: conv3x3+ReLU, conv3x3+ReLU (widths[i]); dropout on the two deepest levels
//   (the dropped output is both the skip and the pooling input); 2x2 max-pool between levels;
//   decoder: nearest x2 upsample, 2x2 "same" conv (extra row/column right/bottom) to the level's
//   width, concat [up, skip], conv3x3+ReLU x2; head conv3x3 -> 3, sigmoid.
// Paper widths 64..1024 give 31,033,411 parameters.
// Option `residual` (not in the paper): output = input + head(...), no sigmoid, the head zero-initialised
// so the untrained network is the identity; a small CPU budget then starts from the blurry input's
// score instead of from a random image (docs/results.md). Inference clamps to [0, 1]; training does not
// (a clamp would zero the gradient of every saturated pixel, and the loss targets lie in [0, 1] anyway).
import Tensors

public struct UNetConfig: Codable, Sendable, Equatable {
    /// Channel width per level, shallow to deep; the depth is widths.count.
    public var widths: [Int]
    /// Dropout probability on the two deepest levels' outputs (0.4 in the released code).
    public var dropout: Float
    public var inputChannels: Int
    public var outputChannels: Int
    /// output = input + F(input) (see the file header); needs inputChannels == outputChannels.
    public var residual: Bool

    public init(widths: [Int] = [64, 128, 256, 512, 1024], dropout: Float = 0.4, inputChannels: Int = 3, outputChannels: Int = 3,
                residual: Bool = false) {
        self.widths = widths; self.dropout = dropout; self.inputChannels = inputChannels; self.outputChannels = outputChannels
        self.residual = residual
    }

    public static let paper = UNetConfig()
    public static let cpu = UNetConfig(widths: [32, 64, 128, 256])

    /// For logs: "UNet widths [32, 64, 128, 256], residual".
    public var summary: String { "UNet widths \(widths)\(residual ? ", residual" : "")" }

    /// Input sides must be multiples of this (one halving per pooling).
    public var sizeMultiple: Int { 1 << (widths.count - 1) }
}

/// Usage (Training and evaluation):
/// ```
/// let unet = try UNet(config: UNetConfig(widths: [32, 64, 128, 256], dropout: 0.4), seed: 0)
/// unet.forward(input: blurry, output: deblurred, n: 1, h: 256, w: 256, training: true)
/// unet.backward(gradOutput: gradDeblurred)   // accumulates into unet.parameters.gradients
/// ```
/// Buffers are plain NCHW Float (n x 3 x h x w, values in [0, 1]). The first forward for a given
/// (n, h, w) plans every activation buffer once (in oneDNN's blocked layout); a different shape
/// replans. h and w must be multiples of `config.sizeMultiple` (2^(depth-1)); inference works at any
/// such size (memory grows with h*w: gradient buffers are only allocated by the first backward).
/// `backward` must follow a `training: true` forward. An input of more than 3 channels (the prior
/// network's features) runs through a channel-padded first convolution, and only then can `backward`
/// also return the input's gradient.
public final class UNet: Trainable {
    public let config: UNetConfig
    public let parameters: ParameterArena

    private let encoderA: [Conv2D], encoderB: [Conv2D]
    private let upConvs: [UpsampleConv2x], decoderA: [Conv2D], decoderB: [Conv2D]
    private let head: Conv2D
    /// The first convolution as oneDNN runs it when the input has more than 3 channels.
    private let wideInput: ChannelPaddedConv?
    private let pools: [MaxPool2x2]
    let dropouts: [Dropout?]  // not private: UNetDropoutReplay.swift fast-forwards their generators
    private var activations: Activations?
    private var gradients: Gradients?
    private var lastForwardWasTraining = false

    public enum ConfigError: Error, CustomStringConvertible {
        case invalid(String)
        public var description: String { if case .invalid(let s) = self { return s }; return "" }
    }

    /// `seed` draws the initial weights; the dropout masks come from `dropoutSeed` (default: `seed`), which
    /// the ranks of a data-parallel run set apart so that their samples do not share masks.
    /// `appending`: tensors of a front end (the blur-map prior) that share this network's arena.
    public init(config: UNetConfig, seed: UInt64, dropoutSeed: UInt64? = nil, appending extra: [(String, [Int])] = []) throws {
        guard !config.widths.isEmpty, config.widths.allSatisfy({ $0 > 0 }) else {
            throw ConfigError.invalid("UNet widths must be a non-empty list of positive channel counts")
        }
        guard config.dropout >= 0 && config.dropout < 1 else { throw ConfigError.invalid("UNet dropout must be in [0, 1)") }
        guard !config.residual || config.inputChannels >= config.outputChannels else {
            throw ConfigError.invalid("a residual UNet adds an image of its output's channels: inputChannels must be at least outputChannels")
        }
        self.config = config
        let widths = config.widths, depth = widths.count
        var table = ConvTable()
        var c = config.inputChannels
        for (i, w) in widths.enumerated() {
            table.add("enc.\(i).0", .conv3x3(c, w), relu: true)
            table.add("enc.\(i).2", .conv3x3(w, w), relu: true)
            c = w
        }
        let decoderWidths = Array(widths.dropLast().reversed())
        for (j, w) in decoderWidths.enumerated() {
            table.add("ups.\(j).conv", .samePad2x2(c, w), relu: false)
            c = w
        }
        for (j, w) in decoderWidths.enumerated() {
            table.add("dec.\(j).0", .conv3x3(2 * w, w), relu: true)
            table.add("dec.\(j).2", .conv3x3(w, w), relu: true)
        }
        table.add("head", .conv3x3(c, config.outputChannels), relu: false)
        parameters = ParameterArena(table.sizeTable + extra)
        let convs = table.bind(parameters)
        encoderA = (0..<depth).map { convs["enc.\($0).0"]! }
        wideInput = config.inputChannels > 3 ? ChannelPaddedConv(encoderA[0]) : nil
        encoderB = (0..<depth).map { convs["enc.\($0).2"]! }
        // Upsample + 2x2 conv run as four low-resolution convolutions (UpsampleConv2x: 9/16 of the work).
        upConvs = decoderWidths.indices.map { UpsampleConv2x(convs["ups.\($0).conv"]!) }
        decoderA = decoderWidths.indices.map { convs["dec.\($0).0"]! }
        decoderB = decoderWidths.indices.map { convs["dec.\($0).2"]! }
        head = convs["head"]!
        pools = (0..<max(depth - 1, 0)).map { _ in MaxPool2x2() }
        dropouts = (0..<depth).map { i in
            i >= depth - 2 && config.dropout > 0 ? Dropout(probability: config.dropout, seed: (dropoutSeed ?? seed) &+ 1000 &+ UInt64(i)) : nil
        }
        var generator = SeededGenerator(seed: seed)
        // The paper's network keeps torch_jdrl.py's fan-out init. The residual option starts from He's
        // fan-in init with zero biases: with the fan-out init the deeper levels' activations shrink
        // about 4x per level, and at a CPU budget the network then never leaves the identity (docs/results.md).
        for row in table.rows {
            if config.residual { Initialization.kaimingFanIn(convs[row.name]!, &generator) }
            else { Initialization.kaimingFanOut(convs[row.name]!, &generator) }
        }
        // Residual: F starts at exactly 0 (identity network). Only the head's gradient is non-zero at
        // the first step; after it the deeper layers receive gradient through the head's new weights.
        if config.residual { Initialization.zero(head) }
        // The paper's fan-out init does not depend on the input's width; the fan-in init does.
        if config.residual, wideInput != nil { Initialization.restoreImageColumnsScale(encoderA[0]) }
    }

    /// Activation buffers for one (n, h, w): named slots, allocated once per plan.
    private final class Activations {
        let n: Int, h: Int, w: Int, precision: ElementType
        let input: Tensor, encA: [Tensor], encB: [Tensor], encOut: [Tensor], pooled: [Tensor]
        let upConv: [Tensor], concat: [Tensor], decA: [Tensor], decB: [Tensor]
        let headOut: Tensor, output: Tensor

        init(_ c: UNetConfig, dropoutLevels: [Bool], wideInputChannels: Int?, n: Int, h: Int, w: Int, precision: ElementType) {
            self.n = n; self.h = h; self.w = w; self.precision = precision
            let widths = c.widths, depth = widths.count
            // f32 runs in the engine's blocked layout (nChw16c on AVX-512, nChw8c on AVX2); bf16 in
            // NHWC, the only layout oneDNN 2.6's AMX convolutions take.
            let layout: Layout = precision == .f32 ? .blocked : .channelsLast
            func blocked(_ ch: Int, _ level: Int) -> Tensor {
                Tensor(n: n, c: ch, h: h >> level, w: w >> level, layout: layout, elementType: precision)
            }
            if let wideInputChannels {
                input = Tensor(n: n, c: wideInputChannels, h: h, w: w, layout: .blocked)   // padding channels stay zero
            } else {
                input = Tensor(n: n, c: c.inputChannels, h: h, w: w, layout: precision == .f32 ? .plain : .channelsLast, elementType: precision)
            }
            encA = widths.enumerated().map { blocked($1, $0) }
            let encB = widths.enumerated().map { blocked($1, $0) }
            self.encB = encB
            // Dropout needs its own output only in training, which is f32.
            encOut = (0..<depth).map { i in dropoutLevels[i] && precision == .f32 ? blocked(widths[i], i) : encB[i] }
            pooled = (0..<max(depth - 1, 0)).map { blocked(widths[$0], $0 + 1) }
            var upConv: [Tensor] = [], concat: [Tensor] = [], decA: [Tensor] = [], decB: [Tensor] = []
            for j in 0..<(depth - 1) {
                let level = depth - 2 - j, width = widths[level]
                upConv.append(blocked(width, level))
                concat.append(blocked(2 * width, level)); decA.append(blocked(width, level)); decB.append(blocked(width, level))
            }
            self.upConv = upConv; self.concat = concat; self.decA = decA; self.decB = decB
            // Blocked even for 3 channels: with a plain NCHW dst oneDNN 2.6 falls back to its reference
            // convolution (seconds at 256x256); one reorder at the edge is cheap. The head writes f32
            // at either precision (oneDNN's bf16 convolutions may write f32). The sigmoid runs after
            // that reorder, on plain NCHW: on a channel-padded blocked tensor oneDNN's eltwise is its
            // reference kernel.
            headOut = Tensor(n: n, c: c.outputChannels, h: h, w: w, layout: layout)
            output = Tensor(n: n, c: c.outputChannels, h: h, w: w, layout: .plain)
        }

        /// The tensor the head reads (the last decoder output, or the encoder for depth 1).
        var headInput: Tensor { decB.last ?? encOut[0] }
    }

    /// Gradient buffers mirroring the activations (allocated by the first backward of a plan).
    private final class Gradients {
        let encA: [Tensor], encOut: [Tensor], skip: [Tensor], pooled: [Tensor]
        let upConv: [Tensor], concat: [Tensor], decA: [Tensor], decB: [Tensor]
        let headOut: Tensor, output: Tensor, beforeSigmoid: Tensor
        lazy var input: Tensor = Tensor(n: inputShape.n, c: inputShape.c, h: inputShape.h, w: inputShape.w, layout: inputShape.layout)
        private let inputShape: (n: Int, c: Int, h: Int, w: Int, layout: Layout)

        init(like a: Activations) {
            inputShape = (a.input.n, a.input.c, a.input.h, a.input.w, a.input.layout)
            func like(_ t: Tensor) -> Tensor { Tensor(n: t.n, c: t.c, h: t.h, w: t.w, layout: t.layout) }
            encA = a.encA.map(like); encOut = a.encOut.map(like); pooled = a.pooled.map(like)
            skip = a.pooled.indices.map { like(a.encOut[$0]) }
            upConv = a.upConv.map(like); concat = a.concat.map(like)
            decA = a.decA.map(like); decB = a.decB.map(like)
            headOut = like(a.headOut); output = like(a.output); beforeSigmoid = like(a.output)
        }
    }

    /// Plain NCHW in, plain NCHW out (sigmoid, [0, 1]; residual: input + head, clamped to [0, 1] unless
    /// `training`). Dropout is active only with `training`. `residualBase` (outputChannels channels) is
    /// what the residual adds: required when the input is wider than the output (the prior network adds
    /// the blurry image, not its gated features).
    /// `precision: .bf16` (inference only; widths in whole 16-channel blocks, see `supportsBF16`)
    /// runs the convolutions on bf16 activations and weights with f32 accumulation: AMX where
    /// the CPU has it. f32 is the default and the reference. `reuseWeights`: the parameters did
    /// not change since the previous forward (tiles of one image), so their reordered copies are kept.
    public func forward(input: UnsafePointer<Float>, residualBase: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>,
                        n: Int, h: Int, w: Int, training: Bool, precision: ElementType = .f32, reuseWeights: Bool = false) {
        precondition(h % config.sizeMultiple == 0 && w % config.sizeMultiple == 0,
                     "UNet input \(h)x\(w) must be a multiple of \(config.sizeMultiple) on both sides")
        precondition(precision == .f32 || (!training && supportsBF16), "UNet: bf16 is for inference with widths in 16-channel blocks")
        precondition(!config.residual || residualBase != nil || config.inputChannels == config.outputChannels,
                     "UNet: a residual over a wider input needs the residualBase to add")
        if activations == nil || activations!.n != n || activations!.h != h || activations!.w != w || activations!.precision != precision {
            for conv in convolutions { conv.forgetPlannedTensors() }
            activations = nil; gradients = nil
            activations = Activations(config, dropoutLevels: dropouts.map { $0 != nil }, wideInputChannels: wideInput?.padded.shape.inChannels,
                                      n: n, h: h, w: w, precision: precision)
            gradients = nil
        }
        let a = activations!
        let depth = config.widths.count
        if wideInput != nil {
            ChannelPaddedConv.loadChannels(input, channels: config.inputChannels, into: a.input)
        } else {
            a.input.load(fromPlain: input)
        }
        for i in 0..<depth {
            if i == 0, let wideInput {
                wideInput.forward(src: a.input, dst: a.encA[0])
            } else {
                encoderA[i].forward(src: i == 0 ? a.input : a.pooled[i - 1], dst: a.encA[i], reuseWeights: reuseWeights)
            }
            encoderB[i].forward(src: a.encA[i], dst: a.encB[i], reuseWeights: reuseWeights)
            if training { dropouts[i]?.forward(src: a.encB[i], dst: a.encOut[i], training: true) }
            if i < depth - 1 { pools[i].forward(src: levelOutput(a, i, training), dst: a.pooled[i]) }
        }
        var x = levelOutput(a, depth - 1, training)
        for j in 0..<(depth - 1) {
            let level = depth - 2 - j
            upConvs[j].forward(src: x, dst: a.upConv[j], reuseWeights: reuseWeights)
            ChannelConcat.forward(a.upConv[j], levelOutput(a, level, training), into: a.concat[j])
            decoderA[j].forward(src: a.concat[j], dst: a.decA[j], reuseWeights: reuseWeights)
            decoderB[j].forward(src: a.decA[j], dst: a.decB[j], reuseWeights: reuseWeights)
            x = a.decB[j]
        }
        head.forward(src: x, dst: a.headOut, reuseWeights: reuseWeights)
        if config.residual {
            // The sum is taken on the plain buffers: the input is plain there, the head's output blocked.
            a.headOut.store(toPlain: output)
            Self.addResidual(input: residualBase ?? input, into: output, count: n * config.outputChannels * h * w, clamp: !training)
        } else {
            Reorder.run(from: a.headOut, to: a.output)
            Eltwise.forward(.sigmoid, src: a.output, dst: a.output)
            a.output.store(toPlain: output)
        }
        lastForwardWasTraining = training
    }

    /// output[i] += input[i], then into [0, 1] when `clamp` (inference: images are [0, 1]).
    static func addResidual(input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int, clamp: Bool) {
        if clamp {
            for i in 0..<count { output[i] = min(max(output[i] + input[i], 0), 1) }
        } else {
            for i in 0..<count { output[i] += input[i] }
        }
    }

    /// An encoder level's output: after dropout in training, the second conv's output otherwise.
    private func levelOutput(_ a: Activations, _ level: Int, _ training: Bool) -> Tensor {
        training ? a.encOut[level] : a.encB[level]
    }

    /// bf16 inference needs every width in whole 16-channel blocks (the concat copies blocks).
    public var supportsBF16: Bool { wideInput == nil && config.widths.allSatisfy { $0 % 16 == 0 } }

    /// gradOutput: dLoss/dOutput, plain NCHW like the output. Accumulates parameter gradients.
    /// `gradInput` (plain, inputChannels; overwritten): dLoss/dinput through the network, without the
    /// residual path (a `residualBase` is not the input). Wide inputs only.
    public func backward(gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>? = nil) {
        precondition(gradInput == nil || wideInput != nil, "UNet: the input gradient needs an input of more than 3 channels")
        guard let a = activations, lastForwardWasTraining else {
            preconditionFailure("UNet.backward needs a preceding forward(training: true)")
        }
        if gradients == nil { gradients = Gradients(like: a) }
        let g = gradients!
        let depth = config.widths.count
        if config.residual {
            // d(input + head)/d(head) = 1 (training forwards do not clamp).
            g.headOut.load(fromPlain: gradOutput)
        } else {
            g.output.load(fromPlain: gradOutput)
            Eltwise.backward(.sigmoid, dst: a.output, gradDst: g.output, gradSrc: g.beforeSigmoid)
            Reorder.run(from: g.beforeSigmoid, to: g.headOut)
        }
        head.backward(src: a.headInput, dst: a.headOut, gradDst: g.headOut, gradSrc: g.decB.last ?? g.encOut[0])
        for j in (0..<(depth - 1)).reversed() {
            let level = depth - 2 - j
            decoderB[j].backward(src: a.decA[j], dst: a.decB[j], gradDst: g.decB[j], gradSrc: g.decA[j])
            decoderA[j].backward(src: a.concat[j], dst: a.decA[j], gradDst: g.decA[j], gradSrc: g.concat[j])
            ChannelConcat.backward(gradOut: g.concat[j], gradFirst: g.upConv[j], gradSecond: g.skip[level])
            upConvs[j].backward(src: j == 0 ? levelOutput(a, depth - 1, true) : a.decB[j - 1], gradDst: g.upConv[j],
                                gradSrc: j == 0 ? g.encOut[depth - 1] : g.decB[j - 1])
        }
        for i in (0..<depth).reversed() {
            if i < depth - 1 {
                // The level's output fed both the pool and the skip connection: both gradients add.
                pools[i].backward(gradDst: g.pooled[i], gradSrc: g.encOut[i])
                Elementwise.accumulate(g.skip[i], into: g.encOut[i])
            }
            // Dropout backward in place: the encB gradient reuses the encOut gradient buffer.
            dropouts[i]?.backward(gradDst: g.encOut[i], gradSrc: g.encOut[i])
            encoderB[i].backward(src: a.encA[i], dst: a.encB[i], gradDst: g.encOut[i], gradSrc: g.encA[i])
            if i == 0, let wideInput {
                wideInput.backward(src: a.input, dst: a.encA[0], gradDst: g.encA[0], gradSrc: gradInput == nil ? nil : g.input)
            } else {
                encoderA[i].backward(src: i == 0 ? a.input : a.pooled[i - 1], dst: a.encA[i], gradDst: g.encA[i],
                                     gradSrc: i == 0 ? nil : g.pooled[i - 1])
            }
        }
        if let gradInput {
            gradInput.update(repeating: 0, count: a.n * config.inputChannels * a.h * a.w)
            ChannelPaddedConv.addChannels(of: g.input, channels: config.inputChannels, into: gradInput)
        }
    }

    /// Every convolution's oneDNN forward implementation after a forward, by layer (for benchmarks).
    public var forwardImplementations: [String] {
        convolutions.map { "\($0.shape): \($0.forwardImplementation)" }
    }

    /// Every oneDNN implementation the convolutions ran so far (forward; backward once run).
    public var implementations: Set<String> { Set(convolutions.flatMap(\.implementations)) }

    private var convolutions: [Conv2D] {
        encoderA + encoderB + upConvs.flatMap(\.convolutions) + decoderA + decoderB + [head] + (wideInput.map { [$0.padded] } ?? [])
    }

    /// Multiply-adds of one forward pass at n x h x w (backward costs about twice that).
    public func forwardMACs(n: Int, h: Int, w: Int) -> Double {
        var total = 0.0
        let depth = config.widths.count
        for i in 0..<depth {
            total += encoderA[i].shape.macs(n: n, h: h >> i, w: w >> i) + encoderB[i].shape.macs(n: n, h: h >> i, w: w >> i)
        }
        for j in 0..<(depth - 1) {
            let level = depth - 2 - j
            // Counted as upsample + 2x2 conv (what PyTorch runs), not as the 9/16 the phases do.
            for shape in [upConvs[j].shape, decoderA[j].shape, decoderB[j].shape] { total += shape.macs(n: n, h: h >> level, w: w >> level) }
        }
        return total + head.shape.macs(n: n, h: h, w: w)
    }
}
