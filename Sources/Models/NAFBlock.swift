// NAFNet's block (Chen et al., "Simple Baselines for Image Restoration", ECCV 2022), with the parameter
// names of its PyTorch code so weights can be exchanged:
//   y = x + beta  * conv3(SCA(SimpleGate(conv2(conv1(norm1(x))))))      conv2: depthwise 3x3 on 2c channels
//   z = y + gamma * conv5(SimpleGate(conv4(norm2(y))))
// conv1, conv4: 1x1 c -> 2c; conv3, conv5: 1x1 c -> c; SCA: a 1x1 conv (`sca.1`) of the pooled means scales each
// channel; beta and gamma: one factor per channel ([1, c, 1, 1]). No dropout (the paper's deblurring setting).
// Explicit forward and backward; every buffer is allocated once per input shape.
import Tensors

public final class NAFBlock {
    public let prefix: String
    public let channels: Int
    let conv1: Conv2D, conv2: Conv2D, conv3: Conv2D, conv4: Conv2D, conv5: Conv2D
    let norm1: ChannelLayerNorm, norm2: ChannelLayerNorm
    let attention: ChannelAttention
    private let arena: ParameterArena

    /// The block's parameters as (name, shape), PyTorch's names under `prefix`.
    public static func parameterTable(prefix: String, channels c: Int) -> [(String, [Int])] {
        var table = ConvTable()
        declare(&table, prefix: prefix, channels: c)
        return table.sizeTable + [
            ("\(prefix).sca.1.weight", [c, c, 1, 1]), ("\(prefix).sca.1.bias", [c]),
            ("\(prefix).norm1.weight", [c]), ("\(prefix).norm1.bias", [c]),
            ("\(prefix).norm2.weight", [c]), ("\(prefix).norm2.bias", [c]),
            ("\(prefix).beta", [1, c, 1, 1]), ("\(prefix).gamma", [1, c, 1, 1]),
        ]
    }

    static func declare(_ table: inout ConvTable, prefix: String, channels c: Int) {
        table.add("\(prefix).conv1", .conv1x1(c, 2 * c), relu: false)
        table.add("\(prefix).conv2", .depthwise3x3(2 * c), relu: false)
        table.add("\(prefix).conv3", .conv1x1(c, c), relu: false)
        table.add("\(prefix).conv4", .conv1x1(c, 2 * c), relu: false)
        table.add("\(prefix).conv5", .conv1x1(c, c), relu: false)
    }

    /// Binds to `arena`, which must hold `parameterTable(prefix:channels:)`.
    public init(prefix: String, channels c: Int, arena: ParameterArena) {
        self.prefix = prefix
        channels = c
        self.arena = arena
        var table = ConvTable()
        Self.declare(&table, prefix: prefix, channels: c)
        let convs = table.bind(arena)
        conv1 = convs["\(prefix).conv1"]!; conv2 = convs["\(prefix).conv2"]!; conv3 = convs["\(prefix).conv3"]!
        conv4 = convs["\(prefix).conv4"]!; conv5 = convs["\(prefix).conv5"]!
        norm1 = ChannelLayerNorm(channels: c); norm2 = ChannelLayerNorm(channels: c)
        attention = ChannelAttention(channels: c)
    }

    /// NAFNet's initialisation of the scales: beta = gamma = 0, so the block starts as the identity
    /// (norm weights 1, biases 0; the convolutions keep whatever the caller put in the arena).
    public func resetScalesAndNorms() {
        for name in ["beta", "gamma", "norm1.bias", "norm2.bias"] { value(name).update(repeating: 0, count: channels) }
        for name in ["norm1.weight", "norm2.weight"] { value(name).update(repeating: 1, count: channels) }
    }

    /// PyTorch's default for the five convolutions and the attention's 1x1 (`sca.1`): weights and bias
    /// uniform in +-1/sqrt(fan_in). NAFNet uses it; `resetScalesAndNorms` sets the rest.
    func initialiseConvolutions(_ generator: inout SeededGenerator) {
        for conv in convolutions { Initialization.pytorchDefault(conv, &generator) }
        let bound = 1 / Float(channels).squareRoot()
        for name in ["sca.1.weight", "sca.1.bias"] {
            let p = value(name), count = arena.entry("\(prefix).\(name)")!.count
            for i in 0..<count { p[i] = bound * (2 * generator.nextUniform() - 1) }
        }
    }

    var convolutions: [Conv2D] { [conv1, conv2, conv3, conv4, conv5] }

    private func value(_ name: String) -> UnsafeMutablePointer<Float> { arena.pointer("\(prefix).\(name)") }
    private func gradient(_ name: String) -> UnsafeMutablePointer<Float> { arena.gradientPointer("\(prefix).\(name)") }

    // Activations of the last forward and the gradients' buffers (same shapes).
    private var n1, a, b, g, s, t, y, n2, d, e, f: Tensor?
    private var gY, gBranch, gWide, gWide2, gNarrow, gNarrow2, gNorm: Tensor?

    private func plan(like x: Tensor) {
        if let y, y.hasSameShape(x), y.layout == x.layout { return }
        func narrow() -> Tensor { Tensor(n: x.n, c: channels, h: x.h, w: x.w, layout: x.layout) }
        func wide() -> Tensor { Tensor(n: x.n, c: 2 * channels, h: x.h, w: x.w, layout: x.layout) }
        n1 = narrow(); a = wide(); b = wide(); g = narrow(); s = narrow(); t = narrow(); y = narrow()
        n2 = narrow(); d = wide(); e = narrow(); f = narrow()
        gY = narrow(); gBranch = narrow(); gWide = wide(); gWide2 = wide(); gNarrow = narrow(); gNarrow2 = narrow(); gNorm = narrow()
    }

    /// out = block(x); out must not alias x (the backward pass needs x's normalisation, kept inside).
    public func forward(_ x: Tensor, into out: Tensor) {
        precondition(x.c == channels && out.hasSameShape(x) && out.layout == x.layout && out !== x)
        plan(like: x)
        let (n1, a, b, g, s, t, y, n2, d, e, f) = (n1!, a!, b!, g!, s!, t!, y!, n2!, d!, e!, f!)
        norm1.forward(src: x, dst: n1, weight: value("norm1.weight"), bias: value("norm1.bias"))
        conv1.forward(src: n1, dst: a)
        conv2.forward(src: a, dst: b)
        SimpleGate.forward(src: b, dst: g)
        attention.forward(src: g, dst: s, weight: value("sca.1.weight"), bias: value("sca.1.bias"))
        conv3.forward(src: s, dst: t)
        ChannelScaledAdd.forward(base: x, branch: t, scale: value("beta"), into: y)
        norm2.forward(src: y, dst: n2, weight: value("norm2.weight"), bias: value("norm2.bias"))
        conv4.forward(src: n2, dst: d)
        SimpleGate.forward(src: d, dst: e)
        conv5.forward(src: e, dst: f)
        ChannelScaledAdd.forward(base: y, branch: f, scale: value("gamma"), into: out)
    }

    /// gradX = dLoss/dx (overwritten) from gradOut; parameter gradients accumulate in the arena.
    /// Follows a forward of the same shape (its activations are the ones used).
    public func backward(gradOut: Tensor, gradX: Tensor) {
        guard let y, y.hasSameShape(gradOut) else { preconditionFailure("NAFBlock.backward before a forward of this shape") }
        let (n1, a, b, g, s, t, n2, d, e, f) = (n1!, a!, b!, g!, s!, t!, n2!, d!, e!, f!)
        let (gY, gBranch, gWide, gWide2, gNarrow, gNarrow2, gNorm) = (gY!, gBranch!, gWide!, gWide2!, gNarrow!, gNarrow2!, gNorm!)
        // Second half: z = y + gamma * conv5(SG(conv4(norm2(y)))).
        ChannelScaledAdd.backward(gradOut: gradOut, branch: f, scale: value("gamma"), gradBranch: gBranch, gradScale: gradient("gamma"))
        conv5.backward(src: e, dst: f, gradDst: gBranch, gradSrc: gNarrow)
        SimpleGate.backward(src: d, gradDst: gNarrow, gradSrc: gWide)
        conv4.backward(src: n2, dst: d, gradDst: gWide, gradSrc: gNorm)
        norm2.backward(gradDst: gNorm, gradSrc: gY, weight: value("norm2.weight"), gradWeight: gradient("norm2.weight"),
                       gradBias: gradient("norm2.bias"))
        Elementwise.accumulate(gradOut, into: gY)
        // First half: y = x + beta * conv3(SCA(SG(conv2(conv1(norm1(x)))))).
        ChannelScaledAdd.backward(gradOut: gY, branch: t, scale: value("beta"), gradBranch: gBranch, gradScale: gradient("beta"))
        conv3.backward(src: s, dst: t, gradDst: gBranch, gradSrc: gNarrow)
        attention.backward(src: g, gradDst: gNarrow, gradSrc: gNarrow2, weight: value("sca.1.weight"),
                           gradWeight: gradient("sca.1.weight"), gradBias: gradient("sca.1.bias"))
        SimpleGate.backward(src: b, gradDst: gNarrow2, gradSrc: gWide)
        conv2.backward(src: a, dst: b, gradDst: gWide, gradSrc: gWide2)
        conv1.backward(src: n1, dst: a, gradDst: gWide2, gradSrc: gNorm)
        norm1.backward(gradDst: gNorm, gradSrc: gradX, weight: value("norm1.weight"), gradWeight: gradient("norm1.weight"),
                       gradBias: gradient("norm1.bias"))
        Elementwise.accumulate(gY, into: gradX)
    }
}
