// NAFNet (Chen et al., "Simple Baselines for Image Restoration", ECCV 2022) as a deblurring network F,
// with the parameter names of its PyTorch code:
//   intro: conv3x3 3 -> width
//   encoder level i (channels width << i): encoders.i.j NAFBlocks, then downs.i, a stride-2 2x2 conv c -> 2c
//   middle_blks.j NAFBlocks at the deepest width
//   decoder j (deepest first): ups.j.0, a 1x1 conv c -> 2c, PixelShuffle(2) (-> c/2 channels at twice the
//   side), plus the encoder's output of that level (a sum, not a concat), then decoders.j.k NAFBlocks
//   ending: conv3x3 width -> 3; output = input + ending(...)
// One deviation: `ups.j.0` has a bias here (our Conv2D always has one; NAFNet's has none). The bias
// before a pixel shuffle adds one learnt constant per output channel and phase; the twin declares it.
// Initialisation as PyTorch's defaults (uniform +-1/sqrt(fan_in) for every convolution), NAFBlock's
// beta = gamma = 0 (each block starts as the identity), norms weight 1 bias 0.
import Tensors

public struct NAFNetConfig: Codable, Sendable, Equatable {
    public var width: Int
    /// NAFBlocks per encoder level, shallow to deep; one down-convolution follows each level.
    public var encoderBlocks: [Int]
    public var middleBlocks: Int
    /// NAFBlocks per decoder level, deepest first (NAFNet's dec_blk_nums order); as many as encoder levels.
    public var decoderBlocks: [Int]

    public init(width: Int, encoderBlocks: [Int], middleBlocks: Int, decoderBlocks: [Int]) {
        self.width = width; self.encoderBlocks = encoderBlocks; self.middleBlocks = middleBlocks; self.decoderBlocks = decoderBlocks
    }

    /// NAFNet's GoPro deblurring model (width 32, 36 blocks).
    public static let paper = NAFNetConfig(width: 32, encoderBlocks: [1, 1, 1, 28], middleBlocks: 1, decoderBlocks: [1, 1, 1, 1])

    /// The keys of a training config's `network_g.nafnet` section (NAFNet's own option names).
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case width
        case encoderBlocks = "enc_blocks"
        case middleBlocks = "middle_blocks"
        case decoderBlocks = "dec_blocks"
    }

    public var levels: Int { encoderBlocks.count }
    /// For logs: "NAFNet width 32, blocks [1, 1, 1, 28] + 1 + [1, 1, 1, 1]".
    public var summary: String { "NAFNet width \(width), blocks \(encoderBlocks) + \(middleBlocks) + \(decoderBlocks)" }
    /// Input sides must be multiples of this (one halving per level).
    public var sizeMultiple: Int { 1 << levels }
}

/// Usage as the UNet's: plain NCHW Float buffers in [0, 1], `forward` then `backward` (parameter
/// gradients accumulate into `parameters.gradients`). Buffers are planned once per input shape, in the
/// engine's blocked layout. `inputChannels` > 3 (the prior network's features) runs the intro
/// channel-padded, adds `residualBase` instead of the input, and can return the input's gradient.
public final class NAFNet: Trainable {
    public let config: NAFNetConfig
    public let parameters: ParameterArena

    public let inputChannels: Int
    private let intro: Conv2D, ending: Conv2D
    private let wideInput: ChannelPaddedConv?
    private let encoders: [[NAFBlock]], downs: [Conv2D], middle: [NAFBlock], ups: [Conv2D], decoders: [[NAFBlock]]
    private var plan: Plan?
    private var lastForwardWasTraining = false

    public enum ConfigError: Error, CustomStringConvertible {
        case invalid(String)
        public var description: String { if case .invalid(let s) = self { return s }; return "" }
    }

    /// `appending`: tensors of a front end (the blur-map prior) that share this network's arena.
    public init(config: NAFNetConfig, seed: UInt64, inputChannels: Int = 3, appending extra: [(String, [Int])] = []) throws {
        guard config.width > 0, config.encoderBlocks.count == config.decoderBlocks.count,
              (config.encoderBlocks + config.decoderBlocks + [config.middleBlocks]).allSatisfy({ $0 >= 0 }) else {
            throw ConfigError.invalid("NAFNet: width must be positive and encoder_blocks and decoder_blocks lists of the same length")
        }
        guard inputChannels >= 3 else { throw ConfigError.invalid("NAFNet: the input needs at least the 3 image channels") }
        self.config = config
        self.inputChannels = inputChannels
        let levels = config.levels, width = config.width
        var convs = ConvTable()
        var blockTables: [(String, [Int])] = []
        func blocks(_ group: String, _ count: Int, _ channels: Int) -> [(String, Int)] {
            (0..<count).map { ("\(group).\($0)", channels) }
        }
        convs.add("intro", .conv3x3(inputChannels, width), relu: false)
        convs.add("ending", .conv3x3(width, 3), relu: false)
        var encoderNames: [[(String, Int)]] = [], decoderNames: [[(String, Int)]] = []
        for i in 0..<levels {
            encoderNames.append(blocks("encoders.\(i)", config.encoderBlocks[i], width << i))
            convs.add("downs.\(i)", .down2x2(width << i, width << (i + 1)), relu: false)
        }
        let middleNames = blocks("middle_blks", config.middleBlocks, width << levels)
        for j in 0..<levels {
            let inner = width << (levels - j)
            convs.add("ups.\(j).0", .conv1x1(inner, 2 * inner), relu: false)
            decoderNames.append(blocks("decoders.\(j)", config.decoderBlocks[j], inner / 2))
        }
        for (prefix, channels) in encoderNames.joined() + middleNames + decoderNames.joined() {
            blockTables += NAFBlock.parameterTable(prefix: prefix, channels: channels)
        }
        let arena = ParameterArena(convs.sizeTable + blockTables + extra)
        parameters = arena
        let bound = convs.bind(arena)
        intro = bound["intro"]!
        wideInput = inputChannels > 3 ? ChannelPaddedConv(intro) : nil
        ending = bound["ending"]!
        downs = (0..<levels).map { bound["downs.\($0)"]! }
        ups = (0..<levels).map { bound["ups.\($0).0"]! }
        func make(_ names: [(String, Int)]) -> [NAFBlock] { names.map { NAFBlock(prefix: $0.0, channels: $0.1, arena: arena) } }
        encoders = encoderNames.map(make)
        middle = make(middleNames)
        decoders = decoderNames.map(make)

        var generator = SeededGenerator(seed: seed)
        for row in convs.rows { Initialization.pytorchDefault(bound[row.name]!, &generator) }
        if inputChannels > 3 { Initialization.restoreImageColumnsScale(intro) }
        for block in encoders.joined() + middle + decoders.joined() {
            block.initialiseConvolutions(&generator)
            block.resetScalesAndNorms()
        }
    }

    /// Activations of one input shape, and their gradients (allocated by the first backward).
    private final class Plan {
        let n: Int, h: Int, w: Int
        let input: Tensor, introOut: Tensor
        /// Per encoder level: each block's output; the level's output is the last (or its input).
        let encoderOuts: [[Tensor]], downOuts: [Tensor], middleOuts: [Tensor]
        let upOuts: [Tensor], shuffled: [Tensor], sums: [Tensor], decoderOuts: [[Tensor]]
        let headOut: Tensor
        var gradients: [ObjectIdentifier: Tensor] = [:]

        init(_ c: NAFNetConfig, wideInputChannels: Int?, n: Int, h: Int, w: Int) {
            self.n = n; self.h = h; self.w = w
            func tensor(_ channels: Int, _ level: Int) -> Tensor { Tensor(n: n, c: channels, h: h >> level, w: w >> level, layout: .blocked) }
            // A wide input is blocked over whole channel blocks; its padding channels stay zero.
            input = wideInputChannels.map { Tensor(n: n, c: $0, h: h, w: w, layout: .blocked) } ?? Tensor(n: n, c: 3, h: h, w: w, layout: .plain)
            introOut = tensor(c.width, 0)
            encoderOuts = (0..<c.levels).map { i in (0..<c.encoderBlocks[i]).map { _ in tensor(c.width << i, i) } }
            downOuts = (0..<c.levels).map { tensor(c.width << ($0 + 1), $0 + 1) }
            middleOuts = (0..<c.middleBlocks).map { _ in tensor(c.width << c.levels, c.levels) }
            let levelOfDecoder = (0..<c.levels).map { c.levels - 1 - $0 }
            upOuts = levelOfDecoder.map { tensor(c.width << ($0 + 2), $0 + 1) }
            shuffled = levelOfDecoder.map { tensor(c.width << $0, $0) }
            sums = levelOfDecoder.map { tensor(c.width << $0, $0) }
            decoderOuts = (0..<c.levels).map { j in (0..<c.decoderBlocks[j]).map { _ in tensor(c.width << levelOfDecoder[j], levelOfDecoder[j]) } }
            // Blocked even for 3 channels (a plain dst sends oneDNN 2.6 to its reference convolution).
            headOut = tensor(3, 0)
        }

        func encoderOutput(_ i: Int) -> Tensor { encoderOuts[i].last ?? (i == 0 ? introOut : downOuts[i - 1]) }
        var middleOutput: Tensor { middleOuts.last ?? downOuts[downOuts.count - 1] }
        func decoderOutput(_ j: Int) -> Tensor { decoderOuts[j].last ?? sums[j] }
        var lastFeatures: Tensor { decoderOuts.indices.last.map(decoderOutput) ?? introOut }

        /// The gradient buffer of an activation (one per tensor object, so an activation that is also
        /// the next stage's input has one gradient).
        func gradient(of t: Tensor) -> Tensor {
            if let g = gradients[ObjectIdentifier(t)] { return g }
            let g = Tensor(n: t.n, c: t.c, h: t.h, w: t.w, layout: t.layout)
            gradients[ObjectIdentifier(t)] = g
            return g
        }
    }

    /// out = input + F(input) (`residualBase` + F(input) when given), plain NCHW; inference
    /// (`training: false`) clamps to [0, 1].
    public func forward(input: UnsafePointer<Float>, residualBase: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>,
                        n: Int, h: Int, w: Int, training: Bool) {
        precondition(h % config.sizeMultiple == 0 && w % config.sizeMultiple == 0,
                     "NAFNet input \(h)x\(w) must be a multiple of \(config.sizeMultiple) on both sides")
        precondition(residualBase != nil || inputChannels == 3, "NAFNet: a wider input needs the residualBase to add")
        if plan == nil || plan!.n != n || plan!.h != h || plan!.w != w {
            for conv in convolutions { conv.forgetPlannedTensors() }
            plan = Plan(config, wideInputChannels: wideInput?.padded.shape.inChannels, n: n, h: h, w: w)
        }
        let p = plan!
        if let wideInput {
            ChannelPaddedConv.loadChannels(input, channels: inputChannels, into: p.input)
            wideInput.forward(src: p.input, dst: p.introOut)
        } else {
            p.input.load(fromPlain: input)
            intro.forward(src: p.input, dst: p.introOut)
        }
        var x = p.introOut
        for i in 0..<config.levels {
            x = run(encoders[i], from: x, outputs: p.encoderOuts[i])
            downs[i].forward(src: x, dst: p.downOuts[i])
            x = p.downOuts[i]
        }
        x = run(middle, from: x, outputs: p.middleOuts)
        for j in 0..<config.levels {
            ups[j].forward(src: x, dst: p.upOuts[j])
            PixelShuffle.forward(src: p.upOuts[j], dst: p.shuffled[j], factor: 2)
            Elementwise.add(p.shuffled[j], p.encoderOutput(config.levels - 1 - j), into: p.sums[j])
            x = run(decoders[j], from: p.sums[j], outputs: p.decoderOuts[j])
        }
        ending.forward(src: x, dst: p.headOut)
        p.headOut.store(toPlain: output)
        UNet.addResidual(input: residualBase ?? input, into: output, count: n * 3 * h * w, clamp: !training)
        lastForwardWasTraining = training
    }

    private func run(_ blocks: [NAFBlock], from input: Tensor, outputs: [Tensor]) -> Tensor {
        var x = input
        for (block, out) in zip(blocks, outputs) {
            block.forward(x, into: out)
            x = out
        }
        return x
    }

    /// Blocks' backward from the gradient of their last output to that of `input` (the chain's first input).
    private func back(_ blocks: [NAFBlock], from input: Tensor, outputs: [Tensor], _ p: Plan) {
        for k in blocks.indices.reversed() {
            let source = k == 0 ? input : outputs[k - 1]
            blocks[k].backward(gradOut: p.gradient(of: outputs[k]), gradX: p.gradient(of: source))
        }
    }

    /// gradOutput: dLoss/dOutput, plain NCHW. Accumulates parameter gradients. `gradInput` (plain,
    /// inputChannels; overwritten, wide inputs only): dLoss/dinput through the network, without the residual.
    public func backward(gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>? = nil) {
        precondition(gradInput == nil || wideInput != nil, "NAFNet: the input gradient needs an input of more than 3 channels")
        guard let p = plan, lastForwardWasTraining else { preconditionFailure("NAFNet.backward needs a preceding forward(training: true)") }
        let levels = config.levels
        // d(input + head)/d(head) = 1 (training forwards do not clamp).
        let gHead = p.gradient(of: p.headOut)
        gHead.load(fromPlain: gradOutput)
        ending.backward(src: p.lastFeatures, dst: p.headOut, gradDst: gHead, gradSrc: p.gradient(of: p.lastFeatures))
        for j in (0..<levels).reversed() {
            back(decoders[j], from: p.sums[j], outputs: p.decoderOuts[j], p)
            let gSum = p.gradient(of: p.sums[j])
            PixelShuffle.backward(gradDst: gSum, gradSrc: p.gradient(of: p.upOuts[j]), factor: 2)
            let upInput = j == 0 ? p.middleOutput : p.decoderOutput(j - 1)
            ups[j].backward(src: upInput, dst: p.upOuts[j], gradDst: p.gradient(of: p.upOuts[j]), gradSrc: p.gradient(of: upInput))
        }
        back(middle, from: p.downOuts[levels - 1], outputs: p.middleOuts, p)
        for i in (0..<levels).reversed() {
            let levelOutput = p.encoderOutput(i)
            downs[i].backward(src: levelOutput, dst: p.downOuts[i], gradDst: p.gradient(of: p.downOuts[i]), gradSrc: p.gradient(of: levelOutput))
            // The level's output also reached decoder levels - 1 - i through the sum.
            Elementwise.accumulate(p.gradient(of: p.sums[levels - 1 - i]), into: p.gradient(of: levelOutput))
            back(encoders[i], from: i == 0 ? p.introOut : p.downOuts[i - 1], outputs: p.encoderOuts[i], p)
        }
        if let wideInput {
            wideInput.backward(src: p.input, dst: p.introOut, gradDst: p.gradient(of: p.introOut), gradSrc: gradInput == nil ? nil : p.gradient(of: p.input))
            if let gradInput {
                gradInput.update(repeating: 0, count: p.n * inputChannels * p.h * p.w)
                ChannelPaddedConv.addChannels(of: p.gradient(of: p.input), channels: inputChannels, into: gradInput)
            }
        } else {
            intro.backward(src: p.input, dst: p.introOut, gradDst: p.gradient(of: p.introOut), gradSrc: nil)
        }
    }

    private var convolutions: [Conv2D] {
        [intro, ending] + downs + ups + (encoders.joined() + middle + decoders.joined()).flatMap(\.convolutions) + (wideInput.map { [$0.padded] } ?? [])
    }

    /// Every oneDNN implementation the convolutions ran so far.
    public var implementations: Set<String> { Set(convolutions.flatMap(\.implementations)) }
}
