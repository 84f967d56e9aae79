// ReLU and sigmoid through oneDNN's eltwise primitive, forward and backward.
//
// Both use the "use_dst_for_bwd" algorithms: backward needs only the forward output, so a network
// keeps one buffer per activation and the forward may run in place (src === dst).
import Checks
import CDNNL

public enum Activation: String, Sendable {
    case relu, sigmoid

    var algorithm: dnnl_alg_kind_t {
        switch self {
        case .relu: return dnnl_eltwise_relu_use_dst_for_bwd
        case .sigmoid: return dnnl_eltwise_logistic_use_dst_for_bwd
        }
    }
}

public enum Eltwise {
    static func forwardPrimitive(_ kind: Activation, _ md: dnnl_memory_desc_t) -> Primitive {
        Engine.shared.primitive("eltwise fwd \(kind) \(descriptorKey(md))") {
            var desc = dnnl_eltwise_desc_t()
            var data = md
            dnnlCheck(dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_training, kind.algorithm, &data, 0, 0),
                      "eltwise_forward_desc_init")
            return Engine.shared.makeDescriptor(&desc, what: "eltwise fwd")
        }
    }

    /// dst = f(src); src and dst may be the same tensor.
    public static func forward(_ kind: Activation, src: Tensor, dst: Tensor) {
        require(src.hasSameShape(dst) && src.layout == dst.layout)
        forwardPrimitive(kind, src.desc).execute([(DNNL_ARG_SRC, src.memory), (DNNL_ARG_DST, dst.memory)])
    }

    /// gradSrc = f'(.) * gradDst, computed from the forward output `dst`; gradSrc may be gradDst (in place).
    /// Overwrites gradSrc.
    public static func backward(_ kind: Activation, dst: Tensor, gradDst: Tensor, gradSrc: Tensor) {
        let hint = forwardPrimitive(kind, dst.desc)
        let primitive = Engine.shared.primitive("eltwise bwd \(kind) \(descriptorKey(dst.desc))") {
            var desc = dnnl_eltwise_desc_t()
            var diff = gradDst.desc, data = dst.desc
            dnnlCheck(dnnl_eltwise_backward_desc_init(&desc, kind.algorithm, &diff, &data, 0, 0),
                      "eltwise_backward_desc_init")
            return Engine.shared.makeDescriptor(&desc, hint: hint.descriptor, what: "eltwise bwd")
        }
        primitive.execute([(DNNL_ARG_DST, dst.memory), (DNNL_ARG_DIFF_DST, gradDst.memory),
                           (DNNL_ARG_DIFF_SRC, gradSrc.memory)])
    }
}
