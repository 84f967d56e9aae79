// 2x2 max pooling, stride 2, on oneDNN. Forward keeps oneDNN's workspace (the argmax of every
// window) in a named slot that backward reads, so backward never compares values again.
import Checks
import CDNNL

public final class MaxPool2x2 {
    private var planKey = ""
    private var plannedSource: Tensor?, plannedDestination: Tensor?
    private var forwardPrimitive: Primitive!
    private var backwardPrimitive: Primitive?
    /// Argmax indices written by forward, read by backward.
    public private(set) var workspace: Tensor?

    public init() {}

    private func plan(src: Tensor, dst: Tensor) {
        if src === plannedSource && dst === plannedDestination { return }
        plannedSource = src; plannedDestination = dst
        require(src.h % 2 == 0 && src.w % 2 == 0 && dst.h == src.h / 2 && dst.w == src.w / 2
                     && dst.c == src.c && dst.n == src.n, "MaxPool2x2 needs even sizes and a half-size dst")
        let key = "maxpool2 \(descriptorKey(src.desc)) -> \(descriptorKey(dst.desc))"
        if key == planKey { return }
        planKey = key
        forwardPrimitive = Engine.shared.primitive("fwd " + key) {
            var desc = dnnl_pooling_desc_t()
            var s = src.desc, d = dst.desc
            dnnlCheck(dnnl_pooling_forward_desc_init(&desc, dnnl_forward_training, dnnl_pooling_max, &s, &d,
                                                     [2, 2], [2, 2], [0, 0], [0, 0]), "pooling fwd desc")
            return Engine.shared.makeDescriptor(&desc, what: "maxpool fwd")
        }
        let hint = forwardPrimitive.descriptor
        backwardPrimitive = Engine.shared.primitive("bwd " + key) {
            var desc = dnnl_pooling_desc_t()
            var s = src.desc, d = dst.desc
            dnnlCheck(dnnl_pooling_backward_desc_init(&desc, dnnl_pooling_max, &s, &d,
                                                      [2, 2], [2, 2], [0, 0], [0, 0]), "pooling bwd desc")
            return Engine.shared.makeDescriptor(&desc, hint: hint, what: "maxpool bwd")
        }
        let workspaceMD = forwardPrimitive.memoryDescriptor(dnnl_query_workspace_md)
        workspace = Tensor(desc: workspaceMD)
    }

    public func forward(src: Tensor, dst: Tensor) {
        plan(src: src, dst: dst)
        forwardPrimitive.execute([(DNNL_ARG_SRC, src.memory), (DNNL_ARG_DST, dst.memory),
                                  (DNNL_ARG_WORKSPACE, workspace!.memory)])
    }

    /// Overwrites gradSrc (zeros except at each window's max).
    public func backward(gradDst: Tensor, gradSrc: Tensor) {
        require(workspace != nil, "MaxPool2x2.backward before forward")
        backwardPrimitive!.execute([(DNNL_ARG_DIFF_DST, gradDst.memory), (DNNL_ARG_WORKSPACE, workspace!.memory),
                                    (DNNL_ARG_DIFF_SRC, gradSrc.memory)])
    }
}
