// Inverted dropout (PyTorch semantics: kept values scaled by 1/(1-p)) with a seeded generator.
// Forward stores the per-element scale (0 or 1/(1-p)) in a named slot; backward multiplies by it.
// The mask is drawn over the logical elements, so it does not depend on the memory layout.
import Checks
public final class Dropout {
    public let probability: Float
    private var generator: SeededGenerator
    /// Per-storage-element scale of the last training forward.
    public private(set) var mask: Tensor?

    public init(probability: Float, seed: UInt64) {
        require(probability >= 0 && probability < 1)
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    /// Training: dst = src * mask with a fresh mask. Inference (`training == false`): dst = src.
    public func forward(src: Tensor, dst: Tensor, training: Bool) {
        require(src.storageCount == dst.storageCount && src.layout == dst.layout)
        if !training || probability == 0 {
            if src !== dst { Elementwise.copy(src, into: dst) }
            return
        }
        // The mask is applied storage element by storage element: it must share the source's layout, not
        // only its shape (16 channels take as many floats plain as blocked).
        if mask == nil || !mask!.hasSameShape(src) || mask!.layout != src.layout {
            mask = Tensor(n: src.n, c: src.c, h: src.h, w: src.w, layout: src.layout)
        }
        let m = mask!
        let keep = 1 / (1 - probability), p = probability
        // Drawn in logical order, one value per element (padding stays zero).
        for ni in 0..<src.n {
            for ci in 0..<src.c {
                for y in 0..<src.h {
                    for x in 0..<src.w {
                        m.pointer[m.offset(ni, ci, y, x)] = generator.nextUniform() < p ? 0 : keep
                    }
                }
            }
        }
        let ps = src.pointer, pd = dst.pointer, pm = m.pointer
        Parallel.chunks(src.storageCount) { range in for i in range { pd[i] = ps[i] * pm[i] } }
    }

    /// Leaves the generator where `forwards` training forwards over `elements` logical elements each
    /// would (one draw per element), without drawing: replaying a resumed run's earlier steps.
    public func skipTrainingForwards(_ forwards: Int, elements: Int) {
        guard probability > 0 else { return }   // such a forward draws nothing
        generator.skip(UInt64(forwards) * UInt64(elements))
    }

    /// gradSrc = gradDst * mask (overwrites; gradSrc may alias gradDst).
    public func backward(gradDst: Tensor, gradSrc: Tensor) {
        guard let m = mask else { fatalError("Dropout.backward before a training forward") }
        let pg = gradDst.pointer, ps = gradSrc.pointer, pm = m.pointer
        Parallel.chunks(gradDst.storageCount) { range in for i in range { ps[i] = pg[i] * pm[i] } }
    }
}
