// Nearest-neighbour x2 upsampling on oneDNN's resampling primitive (backward sums each 2x2 block).
import Checks
import CDNNL

public enum Upsample2x {
    private static func descriptors(_ src: Tensor, _ dst: Tensor) -> String {
        require(dst.h == 2 * src.h && dst.w == 2 * src.w && dst.c == src.c && dst.n == src.n,
                     "Upsample2x needs a double-size dst")
        return "nearest2x \(descriptorKey(src.desc)) -> \(descriptorKey(dst.desc))"
    }

    private static func forwardPrimitive(_ src: Tensor, _ dst: Tensor) -> Primitive {
        Engine.shared.primitive("fwd " + descriptors(src, dst)) {
            var desc = dnnl_resampling_desc_t()
            var s = src.desc, d = dst.desc
            var factors: [Float] = [2, 2]
            dnnlCheck(dnnl_resampling_forward_desc_init(&desc, dnnl_forward_training, dnnl_resampling_nearest,
                                                        &factors, &s, &d), "resampling fwd desc")
            return Engine.shared.makeDescriptor(&desc, what: "upsample fwd")
        }
    }

    public static func forward(src: Tensor, dst: Tensor) {
        forwardPrimitive(src, dst).execute([(DNNL_ARG_SRC, src.memory), (DNNL_ARG_DST, dst.memory)])
    }

    /// Overwrites gradSrc with the 2x2 block sums of gradDst.
    public static func backward(gradDst: Tensor, gradSrc: Tensor) {
        let hint = forwardPrimitive(gradSrc, gradDst).descriptor
        Engine.shared.primitive("bwd " + descriptors(gradSrc, gradDst)) {
            var desc = dnnl_resampling_desc_t()
            var s = gradSrc.desc, d = gradDst.desc
            var factors: [Float] = [2, 2]
            dnnlCheck(dnnl_resampling_backward_desc_init(&desc, dnnl_resampling_nearest, &factors, &s, &d),
                      "resampling bwd desc")
            return Engine.shared.makeDescriptor(&desc, hint: hint, what: "upsample bwd")
        }.execute([(DNNL_ARG_DIFF_DST, gradDst.memory), (DNNL_ARG_DIFF_SRC, gradSrc.memory)])
    }
}
