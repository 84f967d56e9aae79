import Checks
import CDNNL

// Concatenation along channels of two tensors with the same n, h, w (the UNet's [up, skip]).
//
// In the blocked layout, when the first part's channel count is a multiple of the block the parts are
// whole channel blocks and concat is two block copies per image; otherwise channels are copied one by
// one (strided by the block), which only the tiny test networks need. Backward is the matching split.
public enum ChannelConcat {
    public static func forward(_ first: Tensor, _ second: Tensor, into out: Tensor) {
        check(first, second, out)
        if out.layout == .channelsLast { return interleave(first, second, into: out) }
        Engine.shared.profiled("concat fwd \(first.c)+\(second.c)") { transfer(first, second, out, toOutput: true, accumulate: false) }
    }

    /// Channels-last parts interleave per pixel: oneDNN's concat primitive does it (any element type).
    private static func interleave(_ first: Tensor, _ second: Tensor, into out: Tensor) {
        let key = "concat \(descriptorKey(first.desc)) \(descriptorKey(second.desc)) -> \(descriptorKey(out.desc))"
        Engine.shared.primitive(key) {
            var pd: dnnl_primitive_desc_t?
            var d = out.desc
            let sources = [first.desc, second.desc]
            Engine.withAttributes(nil) { attr in
                dnnlCheck(dnnl_concat_primitive_desc_create(&pd, &d, 2, 1, sources, attr, Engine.shared.engine), "concat desc")
            }
            return pd!
        }.execute([(DNNL_ARG_MULTIPLE_SRC, first.memory), (DNNL_ARG_MULTIPLE_SRC + 1, second.memory), (DNNL_ARG_DST, out.memory)])
    }

    /// Splits gradOut into gradFirst and gradSecond; overwrites them, or adds with `accumulate`.
    public static func backward(gradOut: Tensor, gradFirst: Tensor, gradSecond: Tensor, accumulate: Bool = false) {
        check(gradFirst, gradSecond, gradOut)
        Engine.shared.profiled("concat bwd \(gradFirst.c)+\(gradSecond.c)") {
            transfer(gradFirst, gradSecond, gradOut, toOutput: false, accumulate: accumulate)
        }
    }

    private static func check(_ a: Tensor, _ b: Tensor, _ out: Tensor) {
        require(a.n == out.n && b.n == out.n && a.h == out.h && b.h == out.h && a.w == out.w && b.w == out.w
                     && a.c + b.c == out.c && a.layout == out.layout && b.layout == out.layout,
                     "ChannelConcat: shapes do not fit")
        require(a.elementType == out.elementType && b.elementType == out.elementType
                     && (out.elementType == .f32 || out.layout != .blocked || a.c % out.block == 0),
                     "ChannelConcat: bf16 only as whole channel blocks")
    }

    private static func transfer(_ a: Tensor, _ b: Tensor, _ out: Tensor, toOutput: Bool, accumulate: Bool) {
        let plane = out.h * out.w
        let block = out.block
        if out.layout == .plain || a.c % block == 0 {
            // Contiguous: per image, part a's storage then part b's.
            let aPer = a.storageCount / a.n, bPer = b.storageCount / b.n, outPer = out.storageCount / out.n
            require(aPer + bPer == outPer)
            if out.elementType != .f32 {
                require(toOutput, "ChannelConcat: backward is f32 only")
                let size = out.elementType.byteSize
                let pa = UnsafeRawPointer(a.pointer), pb = UnsafeRawPointer(b.pointer), po = UnsafeMutableRawPointer(out.pointer)
                for ni in 0..<out.n {
                    (po + ni * outPer * size).copyMemory(from: pa + ni * aPer * size, byteCount: aPer * size)
                    (po + (ni * outPer + aPer) * size).copyMemory(from: pb + ni * bPer * size, byteCount: bPer * size)
                }
                return
            }
            for ni in 0..<out.n {
                move(a.pointer + ni * aPer, out.pointer + ni * outPer, aPer, toOutput, accumulate)
                move(b.pointer + ni * bPer, out.pointer + ni * outPer + aPer, bPer, toOutput, accumulate)
            }
            return
        }
        for ni in 0..<out.n {
            for (part, base) in [(a, 0), (b, a.c)] {
                for ci in 0..<part.c {
                    let p = part.pointer + part.offset(ni, ci, 0, 0)
                    let o = out.pointer + out.offset(ni, base + ci, 0, 0)
                    for i in 0..<plane {
                        if toOutput { o[i * block] = p[i * block] } else if accumulate { p[i * block] += o[i * block] } else { p[i * block] = o[i * block] }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func move(_ part: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int,
                             _ toOutput: Bool, _ accumulate: Bool) {
        if toOutput { out.update(from: part, count: count); return }
        if !accumulate { part.update(from: out, count: count); return }
        Parallel.chunks(count) { range in for i in range { part[i] += out[i] } }
    }
}
