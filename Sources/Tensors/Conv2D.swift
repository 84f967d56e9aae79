// 2-D convolution (stride 1, any kernel, asymmetric zero padding, bias, optional fused ReLU) on
// oneDNN: forward, backward-data and backward-weights primitives.
//
// Parameters live in a caller-owned arena in PyTorch's layout (OIHW weights, then bias), so that
// Adam, checkpoints and an allreduce are flat loops. oneDNN picks its own weight layouts
// (`format_tag_any`, e.g. OIhw16i16o): the arena weights are reordered into the forward layout at
// every forward (they change at every Adam step), into the backward-data layout when that one
// differs, and weight gradients are reordered back with a sum post-op, which is what makes
// backward accumulate (+=) into the gradient arena.
import Checks
import CDNNL
import Foundation

public struct ConvShape: Hashable, Sendable, CustomStringConvertible {
    public var inChannels: Int, outChannels: Int
    public var kernelHeight: Int, kernelWidth: Int
    /// Zero padding (top, left) before and (bottom, right) after the image.
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    /// Channel groups (PyTorch's `groups`): each group of in/groups inputs makes out/groups outputs;
    /// groups == in == out is a depthwise convolution. Weights [out][in/groups][kh][kw], as in PyTorch.
    public var groups: Int
    /// The same step along both axes (NAFNet's 2x2 down-convolution: 2).
    public var stride: Int

    public init(inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
                padTop: Int, padLeft: Int, padBottom: Int, padRight: Int, groups: Int = 1, stride: Int = 1) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0 && stride >= 1,
                     "ConvShape: \(inChannels)->\(outChannels) cannot be cut into \(groups) groups (stride \(stride))")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.groups = groups; self.stride = stride
    }

    /// 3x3, padding 1: the UNet's and the reblurring module's convolution.
    public static func conv3x3(_ cin: Int, _ cout: Int) -> ConvShape {
        ConvShape(inChannels: cin, outChannels: cout, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
    }
    /// 2x2 with "same" padding, the extra row/column on the right/bottom (torch_jdrl.py `SamePad2x2`).
    public static func samePad2x2(_ cin: Int, _ cout: Int) -> ConvShape {
        ConvShape(inChannels: cin, outChannels: cout, kernelHeight: 2, kernelWidth: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1)
    }
    public static func conv1x1(_ cin: Int, _ cout: Int) -> ConvShape {
        ConvShape(inChannels: cin, outChannels: cout, kernelHeight: 1, kernelWidth: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0)
    }
    /// 3x3, padding 1, one filter per channel (NAFNet's depthwise convolution).
    public static func depthwise3x3(_ channels: Int) -> ConvShape {
        ConvShape(inChannels: channels, outChannels: channels, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1,
                  padBottom: 1, padRight: 1, groups: channels)
    }
    /// 2x2, stride 2, no padding: halves each side (NAFNet's down-sampling).
    public static func down2x2(_ cin: Int, _ cout: Int) -> ConvShape {
        ConvShape(inChannels: cin, outChannels: cout, kernelHeight: 2, kernelWidth: 2, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0,
                  stride: 2)
    }

    public var weightCount: Int { outChannels * (inChannels / groups) * kernelHeight * kernelWidth }
    public var parameterCount: Int { weightCount + outChannels }
    public func outputHeight(_ h: Int) -> Int { (h + padTop + padBottom - kernelHeight) / stride + 1 }
    public func outputWidth(_ w: Int) -> Int { (w + padLeft + padRight - kernelWidth) / stride + 1 }
    /// A plain convolution: every input channel reaches every output, one pixel step (what Winograd needs).
    public var isDense: Bool { groups == 1 && stride == 1 }
    /// Multiply-adds of one forward pass over an n x h x w input (x2 for FLOPs).
    public func macs(n: Int, h: Int, w: Int) -> Double {
        Double(n * outputHeight(h) * outputWidth(w)) * Double(weightCount)
    }
    public var description: String {
        "\(inChannels)->\(outChannels) k\(kernelHeight)x\(kernelWidth) pad\(padTop),\(padLeft),\(padBottom),\(padRight)"
            + (groups > 1 ? " groups\(groups)" : "") + (stride > 1 ? " stride\(stride)" : "")
    }
}

/// One convolution layer bound to its slice of a parameter arena and of its gradient arena.
public final class Conv2D {
    /// Winograd for eligible 3x3 convolutions (JDRL_CONV_ALGORITHM=direct turns it off).
    nonisolated(unsafe) public static var useWinograd = ProcessInfo.processInfo.environment["JDRL_CONV_ALGORITHM"] != "direct"
    public let shape: ConvShape
    /// ReLU fused into the forward as a post-op; backward first masks the output gradient.
    public let fusedReLU: Bool
    /// OIHW weights followed by the bias, in the arena; gradients mirror them.
    public let weights: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>

    private let arenaWeights: dnnl_memory_t      // OIHW view of `weights`
    private let arenaBias: dnnl_memory_t          // x view of `weights + weightCount`
    private let arenaWeightGrad: dnnl_memory_t    // OIHW view of `gradients`
    private let oihw: dnnl_memory_desc_t

    // The current plan (per input shape and layouts); replanned when they change.
    private var planKey = ""
    private var plannedSource: Tensor?, plannedDestination: Tensor?   // strong: identity stays meaningful
    /// The cached oneDNN forward primitive of the current plan (shared by every conv of the same shape).
    public private(set) var forwardPrimitive: Primitive!
    private var backwardDataPrimitive: Primitive?
    private var backwardWeightsPrimitive: Primitive?
    private var forwardWeights: Tensor?           // nil when oneDNN takes OIHW as is
    private var forwardWeightsCurrent = false     // forwardWeights holds the arena's weights of the last forward
    private var backwardDataWeights: Tensor?      // nil when it equals the forward layout or OIHW
    private var backwardDataWeightsMemory: dnnl_memory_t?
    private var weightGradScratch: Tensor?
    private var biasGradScratch: Tensor?
    /// The project's own Winograd for this layer, made when a plan first chooses it.
    private var ownWinograd: WinogradConvolution?
    /// The current plan runs on `ownWinograd` instead of oneDNN's convolution primitives.
    private var planUsesOwnWinograd = false
    /// Forces this layer onto the project's own Winograd (true) or off it (false) for eligible shapes
    /// on any CPU; nil follows the platform's rule (`ownWinogradApplies`). For tests and benchmarks;
    /// set it before the first forward.
    public var ownWinogradOverride: Bool?

    public init(_ shape: ConvShape, fusedReLU: Bool = false,
                weights: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        self.shape = shape; self.fusedReLU = fusedReLU
        self.weights = weights; self.gradients = gradients
        var md = dnnl_memory_desc_t()
        dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(Conv2D.weightDims(shape).count), Conv2D.weightDims(shape), dnnl_f32,
                                               shape.groups > 1 ? dnnl_goihw : dnnl_oihw), "weights md")
        oihw = md
        var biasMD = dnnl_memory_desc_t()
        dnnlCheck(dnnl_memory_desc_init_by_tag(&biasMD, 1, [Int64(shape.outChannels)], dnnl_f32, dnnl_x), "bias md")
        let engine = Engine.shared.engine
        var m1: dnnl_memory_t?, m2: dnnl_memory_t?, m3: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&m1, &md, engine, weights), "memory_create")
        dnnlCheck(dnnl_memory_create(&m2, &biasMD, engine, weights + shape.weightCount), "memory_create")
        dnnlCheck(dnnl_memory_create(&m3, &md, engine, gradients), "memory_create")
        arenaWeights = m1!; arenaBias = m2!; arenaWeightGrad = m3!
    }

    deinit {
        dnnl_memory_destroy(arenaWeights); dnnl_memory_destroy(arenaBias); dnnl_memory_destroy(arenaWeightGrad)
    }

    /// OIHW, or GOIHW for a grouped convolution (the same memory order as PyTorch's [out][in/groups][kh][kw]).
    static func weightDims(_ s: ConvShape) -> [Int64] {
        if s.groups > 1 {
            return [Int64(s.groups), Int64(s.outChannels / s.groups), Int64(s.inChannels / s.groups), Int64(s.kernelHeight), Int64(s.kernelWidth)]
        }
        return [Int64(s.outChannels), Int64(s.inChannels), Int64(s.kernelHeight), Int64(s.kernelWidth)]
    }

    static func anyWeightsDescriptor(_ s: ConvShape, _ type: ElementType) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let dims = weightDims(s)
        dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dims, type.dnnlType, dnnl_format_tag_any), "any md")
        return md
    }

    /// The oneDNN implementation chosen for the forward pass (after the first forward).
    public var forwardImplementation: String {
        planUsesOwnWinograd ? ownWinograd!.implementation : forwardPrimitive?.implementation ?? "unplanned"
    }

    /// The implementations of every pass planned so far (forward, then backward-data and -weights once run).
    public var implementations: [String] {
        if planUsesOwnWinograd { return ownWinograd!.implementations }
        return [forwardPrimitive, backwardDataPrimitive, backwardWeightsPrimitive].compactMap { $0?.implementation }
    }

    private func descriptors(src: Tensor, dst: Tensor) -> (String, [Int64], [Int64]) {
        require(src.c == shape.inChannels && dst.c == shape.outChannels && src.n == dst.n
                     && dst.h == shape.outputHeight(src.h) && dst.w == shape.outputWidth(src.w),
                     "Conv2D \(shape): src \(src.n)x\(src.c)x\(src.h)x\(src.w) / dst \(dst.n)x\(dst.c)x\(dst.h)x\(dst.w) do not fit")
        let key = "conv \(shape) relu=\(fusedReLU) src \(descriptorKey(src.desc)) dst \(descriptorKey(dst.desc))"
        return (key, [Int64(shape.padTop), Int64(shape.padLeft)], [Int64(shape.padBottom), Int64(shape.padRight)])
    }

    private func plan(src: Tensor, dst: Tensor) {
        // Same tensors as last time (the usual case in a step loop): nothing to look up or build.
        if src === plannedSource && dst === plannedDestination { return }
        plannedSource = src; plannedDestination = dst
        let (key, padL, padR) = descriptors(src: src, dst: dst)
        if key == planKey { return }
        planKey = key
        planUsesOwnWinograd = Conv2D.ownWinogradApplies(shape, src: src, dst: dst, override: ownWinogradOverride)
        if planUsesOwnWinograd {
            if ownWinograd == nil { ownWinograd = WinogradConvolution(shape, fusedReLU: fusedReLU, weights: weights, gradients: gradients) }
            forwardPrimitive = nil; backwardDataPrimitive = nil; backwardWeightsPrimitive = nil
            return
        }
        let shape = self.shape, relu = fusedReLU, algorithms = self.algorithms(height: src.h, width: src.w)
        let anyWeights = Conv2D.anyWeightsDescriptor(shape, src.elementType), strides = [Int64(shape.stride), Int64(shape.stride)]
        var biasMD = dnnl_memory_desc_t()
        dnnlCheck(dnnl_memory_desc_init_by_tag(&biasMD, 1, [Int64(shape.outChannels)], dnnl_f32, dnnl_x), "bias md")
        forwardPrimitive = Conv2D.primitive(kind: "fwd", key: key, algorithms: algorithms) { algorithm in
            var desc = dnnl_convolution_desc_t()
            var s = src.desc, d = dst.desc, wmd = anyWeights, b = biasMD
            guard dnnl_convolution_forward_desc_init(&desc, src.elementType == .bf16 ? dnnl_forward_inference : dnnl_forward_training, algorithm,
                                                     &s, &wmd, &b, &d, strides, padL, padR) == dnnl_success else { return nil }
            var attr: dnnl_primitive_attr_t?
            dnnlCheck(dnnl_primitive_attr_create(&attr), "attr_create")
            defer { dnnl_primitive_attr_destroy(attr) }
            if relu {
                var postOps: dnnl_post_ops_t?
                dnnlCheck(dnnl_post_ops_create(&postOps), "post_ops_create")
                dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1.0, dnnl_eltwise_relu, 0, 0), "append relu")
                dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, postOps), "set_post_ops")
                dnnl_post_ops_destroy(postOps)
            }
            return Engine.shared.descriptorIfSupported(&desc, attr: attr)
        }
        let fwdWeightsMD = forwardPrimitive.memoryDescriptor(dnnl_query_weights_md)
        forwardWeights = Conv2D.scratch(fwdWeightsMD, unless: oihw, reuse: forwardWeights)
        forwardWeightsCurrent = false
        // Backward primitives are planned lazily: inference never needs them.
        backwardDataPrimitive = nil
        backwardWeightsPrimitive = nil
    }

    /// The algorithms to try, best first: Winograd F(4x4, 3x3) where oneDNN has it (AVX-512 CPUs,
    /// `NumericPlatform.winograd`; 3x3, pad 1, channels in whole 16-blocks) and where it pays
    /// (measured at 256x256 on 2 threads: 1.5-2.4x faster down to 32x32 images, slower at 16x16,
    /// where a few 4x4 tiles cannot feed both threads), then direct, which exists for every shape. A fixed rule, not a timing: the same
    /// shapes always get the same arithmetic, which keeps resumed training bitwise reproducible.
    private func algorithms(height: Int, width: Int) -> [dnnl_alg_kind_t] {
        let s = shape
        let winogradShape = Engine.shared.platform.winograd && s.isDense && s.kernelHeight == 3 && s.kernelWidth == 3 && s.padTop == 1 && s.padLeft == 1
            && s.padBottom == 1 && s.padRight == 1 && s.inChannels % 16 == 0 && s.outChannels % 16 == 0
        let large = height * width >= 32 * 32
        return Conv2D.useWinograd && winogradShape && large ? [dnnl_convolution_winograd, dnnl_convolution_direct]
                                                           : [dnnl_convolution_direct]
    }

    /// Whether a convolution runs on the project's own Winograd F(4x4, 3x3): on a CPU where oneDNN has
    /// none (`NumericPlatform.ownWinograd`), for 3x3 pad-1 f32 convolutions between blocked
    /// activations with channels in whole blocks, and only where it pays: at least
    /// `ownWinogradMinimumChannels` in and out and images of at least `ownWinogradMinimumPixels`.
    /// A fixed rule of shape and CPU, never a timing, so a resumed run on the same CPU computes the
    /// same arithmetic. `override` true (tests) takes every structurally eligible layer, whatever its
    /// size and CPU; false never does.
    static func ownWinogradApplies(_ s: ConvShape, src: Tensor, dst: Tensor, override: Bool?) -> Bool {
        guard useWinograd, override ?? Engine.shared.platform.ownWinograd else { return false }
        let block = src.block
        let eligible = s.isDense && s.kernelHeight == 3 && s.kernelWidth == 3 && s.padTop == 1 && s.padLeft == 1 && s.padBottom == 1 && s.padRight == 1
            && src.layout == .blocked && dst.layout == .blocked && src.elementType == .f32 && dst.elementType == .f32
            && block % 4 == 0 && dst.block == block && s.inChannels % block == 0 && s.outChannels % block == 0
        let pays = min(s.inChannels, s.outChannels) >= ownWinogradMinimumChannels && src.h * src.w >= ownWinogradMinimumPixels
        return eligible && (override == true || pays)
    }

    /// Below this many channels (in or out) the transforms, whose cost grows with the channels, outweigh
    /// the multiplies saved, which grow with their square: measured under the AVX2 cap
    /// (`jdrl-bench conv-layers`, docs/performance.md), 32->32 at 256x256 ran 0.8-1.0x of oneDNN's direct convolution,
    /// 64->64 1.0-1.4x, 128 channels and more 1.5-2.2x (forward + backward).
    public static let ownWinogradMinimumChannels = 64
    /// Below 32x32 a few hundred 4x4 tiles cannot keep both cores' matrix products busy (the
    /// paper UNet's 16x16 level stays direct, as with oneDNN's own Winograd on AVX-512).
    public static let ownWinogradMinimumPixels = 32 * 32

    /// The first algorithm oneDNN implements for this convolution (cached per key and algorithm).
    private static func primitive(kind: String, key: String, algorithms: [dnnl_alg_kind_t],
                                  _ make: (dnnl_alg_kind_t) -> dnnl_primitive_desc_t?) -> Primitive {
        for algorithm in algorithms {
            let name = algorithm == dnnl_convolution_winograd ? "wino" : "direct"
            if let made = Engine.shared.primitiveIfSupported("\(kind) \(name) \(key)", { make(algorithm) }) { return made }
        }
        fatalError("oneDNN: no implementation for \(kind) \(key) on this CPU (\(Engine.shared.platform))")
    }

    /// Drops the references to the last planned tensors (a network replacing its buffers calls it, so
    /// the old ones are freed now, not when each layer next plans). The plan itself is kept.
    public func forgetPlannedTensors() {
        plannedSource = nil; plannedDestination = nil
    }

    private static func scratch(_ md: dnnl_memory_desc_t, unless plain: dnnl_memory_desc_t, reuse: Tensor?) -> Tensor? {
        var a = md, b = plain
        if dnnl_memory_desc_equal(&a, &b) != 0 { return nil }
        if let reuse, dnnl_memory_desc_equal(&a, withUnsafePointer(to: reuse.desc) { $0 }) != 0 { return reuse }
        return Tensor(desc: md)
    }

    private func planBackward(src: Tensor, dst: Tensor, needData: Bool) {
        let (key, padL, padR) = descriptors(src: src, dst: dst)
        let hint = forwardPrimitive.descriptor
        let shape = self.shape, algorithms = self.algorithms(height: src.h, width: src.w)
        let anyWeights = Conv2D.anyWeightsDescriptor(shape, src.elementType), strides = [Int64(shape.stride), Int64(shape.stride)]
        if backwardWeightsPrimitive == nil {
            var biasMD = dnnl_memory_desc_t()
            dnnlCheck(dnnl_memory_desc_init_by_tag(&biasMD, 1, [Int64(shape.outChannels)], dnnl_f32, dnnl_x), "bias md")
            let primitive = Conv2D.primitive(kind: "bwdw", key: key, algorithms: algorithms) { algorithm in
                var desc = dnnl_convolution_desc_t()
                var s = src.desc, d = dst.desc, wmd = anyWeights, b = biasMD
                guard dnnl_convolution_backward_weights_desc_init(&desc, algorithm, &s, &wmd, &b, &d,
                                                                  strides, padL, padR) == dnnl_success else { return nil }
                return Engine.shared.descriptorIfSupported(&desc, hint: hint)
            }
            backwardWeightsPrimitive = primitive
            let diffMD = primitive.memoryDescriptor(dnnl_query_diff_weights_md)
            if weightGradScratch == nil || dnnl_memory_desc_equal(withUnsafePointer(to: weightGradScratch!.desc) { $0 },
                                                                  withUnsafePointer(to: diffMD) { $0 }) == 0 {
                weightGradScratch = Tensor(desc: diffMD)
            }
            if biasGradScratch == nil { biasGradScratch = Tensor(desc: biasMD) }
        }
        if needData && backwardDataPrimitive == nil {
            let primitive = Conv2D.primitive(kind: "bwdd", key: key, algorithms: algorithms) { algorithm in
                var desc = dnnl_convolution_desc_t()
                var s = src.desc, d = dst.desc, wmd = anyWeights
                guard dnnl_convolution_backward_data_desc_init(&desc, algorithm, &s, &wmd, &d,
                                                               strides, padL, padR) == dnnl_success else { return nil }
                return Engine.shared.descriptorIfSupported(&desc, hint: hint)
            }
            backwardDataPrimitive = primitive
            // Backward-data may want yet another weight layout: then it gets its own reordered copy.
            let wmd = primitive.memoryDescriptor(dnnl_query_weights_md)
            var a = wmd, f = forwardWeights?.desc ?? oihw, o = oihw
            if dnnl_memory_desc_equal(&a, &f) != 0 {
                backwardDataWeights = nil; backwardDataWeightsMemory = forwardWeights?.memory ?? arenaWeights
            } else if dnnl_memory_desc_equal(&a, &o) != 0 {
                backwardDataWeights = nil; backwardDataWeightsMemory = arenaWeights
            } else {
                backwardDataWeights = Conv2D.scratch(wmd, unless: oihw, reuse: backwardDataWeights)
                backwardDataWeightsMemory = backwardDataWeights!.memory
            }
        }
    }

    /// dst = conv(src) + bias (then ReLU if fused). Plans on first use and when shapes/layouts change.
    /// `reuseWeights`: the arena's weights have not changed since the previous forward, so the copy
    /// in oneDNN's layout made then is still right (tiled inference: every tile after the first).
    public func forward(src: Tensor, dst: Tensor, reuseWeights: Bool = false) {
        plan(src: src, dst: dst)
        if planUsesOwnWinograd { return ownWinograd!.forward(src: src, dst: dst, reuseWeights: reuseWeights) }
        let weightsMemory: dnnl_memory_t
        if let forwardWeights {
            if !(reuseWeights && forwardWeightsCurrent) {
                Reorder.primitive(from: oihw, to: forwardWeights.desc, accumulate: false)
                    .execute([(DNNL_ARG_FROM, arenaWeights), (DNNL_ARG_TO, forwardWeights.memory)])
                forwardWeightsCurrent = true
            }
            weightsMemory = forwardWeights.memory
        } else {
            weightsMemory = arenaWeights
        }
        forwardPrimitive.execute([(DNNL_ARG_SRC, src.memory), (DNNL_ARG_WEIGHTS, weightsMemory),
                                  (DNNL_ARG_BIAS, arenaBias), (DNNL_ARG_DST, dst.memory)])
    }

    /// Accumulates weight and bias gradients; writes (overwrites) gradSrc when given.
    /// `dst` is the forward output (needed for the fused ReLU); `gradDst` is overwritten with the
    /// pre-activation gradient when the ReLU is fused. Must follow a forward with the same tensors'
    /// shapes (the weights in the forward layout are still those of that forward).
    public func backward(src: Tensor, dst: Tensor, gradDst: Tensor, gradSrc: Tensor?) {
        require(src === plannedSource && dst === plannedDestination || planKey == descriptors(src: src, dst: dst).0,
                     "Conv2D.backward without a matching forward")
        if fusedReLU { Eltwise.backward(.relu, dst: dst, gradDst: gradDst, gradSrc: gradDst) }
        if planUsesOwnWinograd {
            if let gradSrc { precondition(gradSrc.hasSameShape(src) && gradSrc.layout == src.layout && gradSrc.block == src.block) }
            return ownWinograd!.backward(src: src, gradDst: gradDst, gradSrc: gradSrc)
        }
        planBackward(src: src, dst: dst, needData: gradSrc != nil)
        if let gradSrc, let backwardDataPrimitive {
            require(gradSrc.hasSameShape(src) && gradSrc.layout == src.layout)
            if let backwardDataWeights {
                Reorder.primitive(from: oihw, to: backwardDataWeights.desc, accumulate: false)
                    .execute([(DNNL_ARG_FROM, arenaWeights), (DNNL_ARG_TO, backwardDataWeights.memory)])
            }
            backwardDataPrimitive.execute([(DNNL_ARG_DIFF_DST, gradDst.memory), (DNNL_ARG_WEIGHTS, backwardDataWeightsMemory!),
                                           (DNNL_ARG_DIFF_SRC, gradSrc.memory)])
        }
        let weightGrad = weightGradScratch!, biasGrad = biasGradScratch!
        backwardWeightsPrimitive!.execute([(DNNL_ARG_SRC, src.memory), (DNNL_ARG_DIFF_DST, gradDst.memory),
                                           (DNNL_ARG_DIFF_WEIGHTS, weightGrad.memory), (DNNL_ARG_DIFF_BIAS, biasGrad.memory)])
        Reorder.primitive(from: weightGrad.desc, to: oihw, accumulate: true)
            .execute([(DNNL_ARG_FROM, weightGrad.memory), (DNNL_ARG_TO, arenaWeightGrad)])
        let biasTarget = gradients + shape.weightCount
        for o in 0..<shape.outChannels { biasTarget[o] += biasGrad.pointer[o] }
    }
}
