// The reblurring module R of JDRL (Li et al., AAAI 2023), as defined by torch_jdrl.py `Reblur`:
// x = concat(deblurred, blurry) (6 channels) feeds two trunks of the same form,
//   conv3x3 6->width, 3 residual blocks (x + conv(relu(conv(x)))), conv3x3 head,
// the KPN (35 radial kernel seeds) and the WPN (8 logits, softmaxed over channels). Then
//   reblurred = W_0 * deblurred + sum_{k=1..7} W_k * blur_{K_k}(deblurred)
// with isotropic per-pixel kernels built from |seeds| (IsotropicBlur). Xavier-normal init, zero bias.
// At width 64: KPN 245,283 and WPN 229,704 parameters.
import Tensors

/// One trunk (KPN, WPN, or the prior network's blur estimator): its convolutions and the
/// activation/gradient buffers of the current plan. The first convolution runs channel-padded
/// (ChannelPaddedConv): its input is a blocked tensor of `paddedChannels` channels.
final class ReblurTrunk {
    let prefix: String
    let first: ChannelPaddedConv, blocks: [(Conv2D, Conv2D)], head: Conv2D
    // Activations (blocked, except the plain head output).
    // The head's output is blocked (a plain dst sends oneDNN 2.6 to its reference kernel) and
    // reordered into `headPlain` for the plain-Swift ops.
    var t0: Tensor!, inner: [Tensor] = [], branch: [Tensor] = [], out: [Tensor] = [], headOut: Tensor!, headPlain: Tensor!
    // Gradients: the caller fills `gHeadPlain`; `gInput` (blocked, padded channels) receives dLoss/dInput.
    var g0: Tensor!, gInner: [Tensor] = [], gBranch: [Tensor] = [], gOut: [Tensor] = [], gHead: Tensor!, gHeadPlain: Tensor!
    var gInput: Tensor!

    var paddedChannels: Int { first.padded.shape.inChannels }

    static func declare(_ table: inout ConvTable, prefix: String, inputs: Int = 6, width: Int, outputs: Int) {
        table.add("\(prefix).0", .conv3x3(inputs, width), relu: false)
        for b in 1...3 {
            table.add("\(prefix).\(b).c1", .conv3x3(width, width), relu: true)
            table.add("\(prefix).\(b).c2", .conv3x3(width, width), relu: false)
        }
        table.add("\(prefix).4", .conv3x3(width, outputs), relu: false)
    }

    init(prefix: String, convs: [String: Conv2D]) {
        self.prefix = prefix
        first = ChannelPaddedConv(convs["\(prefix).0"]!)
        blocks = (1...3).map { (convs["\(prefix).\($0).c1"]!, convs["\(prefix).\($0).c2"]!) }
        head = convs["\(prefix).4"]!
    }

    /// The arena's convolutions (for initialisers and MAC counts).
    var convolutions: [Conv2D] { [first.real, head] + blocks.flatMap { [$0.0, $0.1] } }

    func plan(n: Int, h: Int, w: Int) {
        let width = first.real.shape.outChannels
        func blocked() -> Tensor { Tensor(n: n, c: width, h: h, w: w, layout: .blocked) }
        t0 = blocked()
        inner = (0..<3).map { _ in blocked() }; branch = (0..<3).map { _ in blocked() }; out = (0..<3).map { _ in blocked() }
        headOut = Tensor(n: n, c: head.shape.outChannels, h: h, w: w, layout: .blocked)
        headPlain = Tensor(n: n, c: head.shape.outChannels, h: h, w: w, layout: .plain)
        g0 = nil
    }

    func planGradients() {
        if g0 != nil { return }
        func like(_ t: Tensor) -> Tensor { Tensor(n: t.n, c: t.c, h: t.h, w: t.w, layout: t.layout) }
        g0 = like(t0); gInner = inner.map(like); gBranch = branch.map(like); gOut = out.map(like)
        gHead = like(headOut); gHeadPlain = like(headPlain)
        gInput = Tensor(n: t0.n, c: paddedChannels, h: t0.h, w: t0.w, layout: .blocked)
    }

    func forward(_ input: Tensor) {
        first.forward(src: input, dst: t0)
        var x = t0!
        for (b, (c1, c2)) in blocks.enumerated() {
            c1.forward(src: x, dst: inner[b])
            c2.forward(src: inner[b], dst: branch[b])
            Elementwise.add(x, branch[b], into: out[b])
            x = out[b]
        }
        head.forward(src: x, dst: headOut)
        Reorder.run(from: headOut, to: headPlain)
    }

    /// Expects gHeadPlain filled; leaves dLoss/dInput in gInput (overwritten) when `inputGradient`.
    func backward(_ input: Tensor, inputGradient: Bool = true) {
        Reorder.run(from: gHeadPlain, to: gHead)
        head.backward(src: out[2], dst: headOut, gradDst: gHead, gradSrc: gOut[2])
        for b in (0..<3).reversed() {
            let (c1, c2) = blocks[b]
            let x = b == 0 ? t0! : out[b - 1], gx = b == 0 ? g0! : gOut[b - 1]
            c2.backward(src: inner[b], dst: branch[b], gradDst: gOut[b], gradSrc: gInner[b])
            c1.backward(src: x, dst: inner[b], gradDst: gInner[b], gradSrc: gx)
            Elementwise.accumulate(gOut[b], into: gx)   // the identity path
        }
        first.backward(src: input, dst: t0, gradDst: g0, gradSrc: inputGradient ? gInput : nil)
    }
}

/// Usage:
/// ```
/// let rb = try ReblurModule(width: 32, seed: 1)
/// rb.forward(deblurred: out, blurry: blurry, reblurred: re, seeds: nil, n: 1, h: 256, w: 256)
/// rb.backward(gradReblurred: gRe, gradDeblurred: gOut)   // params += ; gradDeblurred +=
/// ```
/// All buffers plain NCHW Float: deblurred/blurry/reblurred n x 3 x h x w; seeds (optional output)
/// n x 35 x h x w holding |KPN output| as torch_jdrl.py returns it. Buffers are planned on the
/// first call for (n, h, w). `backward` must follow `forward`; it adds the gradient w.r.t. the
/// deblurred input (through both the image and the trunks' input) into `gradDeblurred`; the blurry
/// input gets no gradient.
public final class ReblurModule: Trainable {
    public let width: Int
    public let parameters: ParameterArena
    public static let seedCount = IsotropicBlur.seedSplit.reduce(0, +)        // 35
    public static let branchCount = IsotropicBlur.seedSplit.count + 1          // 8

    let kpn: ReblurTrunk, wpn: ReblurTrunk
    private var n = 0, h = 0, w = 0
    private var input: Tensor!          // concat(deblurred, blurry): blocked, 6 real of 16 channels
    private var image: Tensor!          // the deblurred image, plain 3 channels (the blur's input)
    private var weights: Tensor!        // softmaxed WPN output
    private var reblurred: Tensor!
    private var gradSeeds: Tensor!, gradWeights: Tensor!

    public init(width: Int = 64, seed: UInt64) throws {
        guard width > 0 else { throw UNet.ConfigError.invalid("reblur width must be positive") }
        self.width = width
        var table = ConvTable()
        ReblurTrunk.declare(&table, prefix: "kpn", width: width, outputs: Self.seedCount)
        ReblurTrunk.declare(&table, prefix: "wpn", width: width, outputs: Self.branchCount)
        parameters = ParameterArena(table.sizeTable)
        let convs = table.bind(parameters)
        kpn = ReblurTrunk(prefix: "kpn", convs: convs)
        wpn = ReblurTrunk(prefix: "wpn", convs: convs)
        var generator = SeededGenerator(seed: seed)
        for row in table.rows { Initialization.xavierNormal(convs[row.name]!, &generator) }
    }

    /// Parameters of one trunk ("kpn" or "wpn").
    public func parameterCount(trunk: String) -> Int {
        parameters.entries.filter { $0.name.hasPrefix(trunk + ".") }.reduce(0) { $0 + $1.count }
    }

    private func plan(n: Int, h: Int, w: Int) {
        if n == self.n && h == self.h && w == self.w { return }
        self.n = n; self.h = h; self.w = w
        input = Tensor(n: n, c: kpn.paddedChannels, h: h, w: w, layout: .blocked)
        image = Tensor(n: n, c: 3, h: h, w: w, layout: .plain)
        weights = Tensor(n: n, c: Self.branchCount, h: h, w: w, layout: .plain)
        reblurred = Tensor(n: n, c: 3, h: h, w: w, layout: .plain)
        gradSeeds = nil; gradWeights = nil
        kpn.plan(n: n, h: h, w: w); wpn.plan(n: n, h: h, w: w)
    }

    public func forward(deblurred: UnsafePointer<Float>, blurry: UnsafePointer<Float>, reblurred output: UnsafeMutablePointer<Float>,
                        seeds: UnsafeMutablePointer<Float>?, n: Int, h: Int, w: Int) {
        plan(n: n, h: h, w: w)
        let image3 = 3 * h * w
        image.pointer.update(from: deblurred, count: n * image3)
        ChannelPaddedConv.loadChannels(deblurred, channels: 3, into: input)
        ChannelPaddedConv.loadChannels(blurry, channels: 3, into: input, first: 3)
        kpn.forward(input)
        wpn.forward(input)
        ChannelSoftmax.forward(input: wpn.headPlain.pointer, output: weights.pointer, n: n, c: Self.branchCount, h: h, w: w)
        IsotropicBlur.forward(image: image.pointer, seeds: kpn.headPlain.pointer, weights: weights.pointer,
                              output: reblurred.pointer, n: n, h: h, w: w)
        output.update(from: reblurred.pointer, count: n * image3)
        if let seeds {
            let raw = kpn.headPlain.pointer
            for i in 0..<(n * Self.seedCount * h * w) { seeds[i] = abs(raw[i]) }
        }
    }

    /// The KPN's raw output (n x 35 x h x w, before |.|) of the last forward: the prior network's
    /// pseudo-supervision target.
    public var rawSeeds: UnsafePointer<Float> {
        precondition(input != nil, "ReblurModule.rawSeeds before forward")
        return UnsafePointer(kpn.headPlain.pointer)
    }

    /// `gradRawSeeds`: an extra dLoss/d(raw seeds) from a loss on `rawSeeds` (the prior's pseudo-supervision).
    public func backward(gradReblurred: UnsafePointer<Float>, gradDeblurred: UnsafeMutablePointer<Float>,
                         gradRawSeeds: UnsafePointer<Float>? = nil) {
        precondition(input != nil, "ReblurModule.backward before forward")
        kpn.planGradients(); wpn.planGradients()
        if gradSeeds == nil {
            gradSeeds = Tensor(n: n, c: Self.seedCount, h: h, w: w, layout: .plain)
            gradWeights = Tensor(n: n, c: Self.branchCount, h: h, w: w, layout: .plain)
        }
        // The custom ops accumulate: start their outputs from zero (the image gradient goes
        // straight into the caller's gradDeblurred, which is what accumulation is for).
        gradSeeds.zero(); gradWeights.zero(); wpn.gHeadPlain.zero()
        IsotropicBlur.backward(image: image.pointer, seeds: kpn.headPlain.pointer, weights: weights.pointer,
                               gradOutput: gradReblurred, gradImage: gradDeblurred, gradSeeds: gradSeeds.pointer,
                               gradWeights: gradWeights.pointer, n: n, h: h, w: w)
        ChannelSoftmax.backward(output: weights.pointer, gradOutput: gradWeights.pointer, gradInput: wpn.gHeadPlain.pointer,
                                n: n, c: Self.branchCount, h: h, w: w)
        kpn.gHeadPlain.pointer.update(from: gradSeeds.pointer, count: gradSeeds.storageCount)
        if let gradRawSeeds {
            let g = kpn.gHeadPlain.pointer
            for i in 0..<gradSeeds.storageCount { g[i] += gradRawSeeds[i] }
        }
        kpn.backward(input)
        wpn.backward(input)
        // Both trunks read the same input: their gradients add; the deblurred half goes to the caller.
        Elementwise.accumulate(kpn.gInput, into: wpn.gInput)
        ChannelPaddedConv.addChannels(of: wpn.gInput, channels: 3, into: gradDeblurred)
    }

    /// Every oneDNN implementation both trunks' convolutions ran so far (forward; backward once run).
    public var implementations: Set<String> {
        Set([kpn, wpn].flatMap { trunk in trunk.first.implementations + trunk.convolutions.dropFirst().flatMap(\.implementations) })
    }

    /// Multiply-adds of both trunks' convolutions for one forward at n x h x w.
    public func forwardMACs(n: Int, h: Int, w: Int) -> Double {
        [kpn, wpn].reduce(0.0) { total, trunk in
            total + trunk.convolutions.reduce(0.0) { $0 + $1.shape.macs(n: n, h: h, w: w) }
        }
    }
}
