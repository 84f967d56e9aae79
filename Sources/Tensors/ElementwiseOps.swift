// Plain-Swift element-wise ops over whole buffers: residual add, gradient accumulation, copies.
// They run over the storage (blocked padding included), which stays zero because zeros add to zero.
// f32 only: bf16 tensors exist for inference convolutions, which oneDNN runs.
import Checks

public enum Elementwise {
    /// out = a + b (the residual connection). out may alias a or b.
    public static func add(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        require(a.storageCount == b.storageCount && a.storageCount == out.storageCount && a.layout == b.layout)
        require(a.elementType == .f32 && b.elementType == .f32 && out.elementType == .f32, "Elementwise.add is f32 only")
        let pa = a.pointer, pb = b.pointer, po = out.pointer
        Parallel.chunks(a.storageCount) { range in
            for i in range { po[i] = pa[i] + pb[i] }
        }
    }

    /// target += source (a second gradient path meeting the first).
    public static func accumulate(_ source: Tensor, into target: Tensor) {
        require(source.storageCount == target.storageCount && source.layout == target.layout)
        require(source.elementType == .f32 && target.elementType == .f32, "Elementwise.accumulate is f32 only")
        let ps = source.pointer, pt = target.pointer
        Parallel.chunks(source.storageCount) { range in
            for i in range { pt[i] += ps[i] }
        }
    }

    /// target += a + b + c (the sub-pixel phases' input gradients meeting; one pass over target).
    public static func accumulate(_ a: Tensor, _ b: Tensor, _ c: Tensor, into target: Tensor) {
        require([a, b, c].allSatisfy { $0.storageCount == target.storageCount && $0.layout == target.layout && $0.elementType == .f32 }
                    && target.elementType == .f32, "Elementwise.accumulate: the sources must match the target")
        let pa = a.pointer, pb = b.pointer, pc = c.pointer, pt = target.pointer
        Parallel.chunks(target.storageCount) { range in
            for i in range { pt[i] += (pa[i] + pb[i]) + pc[i] }
        }
    }

    public static func copy(_ source: Tensor, into target: Tensor) {
        require(source.storageCount == target.storageCount && source.layout == target.layout
                     && source.elementType == target.elementType)
        UnsafeMutableRawPointer(target.pointer).copyMemory(from: source.pointer, byteCount: source.storageCount * source.elementType.byteSize)
    }
}
