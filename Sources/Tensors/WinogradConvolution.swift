// The project's own Winograd F(4x4, 3x3) convolution (3x3, padding 1, stride 1), for CPUs where
// oneDNN 2.6 has none (everything below AVX-512). There every direct convolution already runs near
// the FMA peak, so the only way to go faster is fewer multiplies: 36 products per 4x4 output tile
// and channel pair instead of 144 (4x fewer). The transforms are plain Swift (WinogradTransforms);
// the 36 per-position channel products are one batched oneDNN matmul per pass, which dispatches by
// ISA like the convolutions do.
//
// Per pass, over chunks of tile rows (so V and M stay cache-sized; a chunk's tiles are contiguous):
//   forward          V = B^T d B;  M = V U;  dst = A^T M A + bias (ReLU)
//   backward         dM = A dY A^T (+ bias gradient);  V again;  dU += V^T dM;
//                    dV = dM U^T;  gradSrc += B dV B^T (scattered);  then dg += G^T dU G
// U = G g G^T is made by each forward (from the weights reordered to HWIO) and kept for the backward
// that follows it (the weights do not change in between); dg goes back through HWIO the same way.
// V, M and dU live in one scratch shared by every layer; passes hold the engine's execution lock,
// which serialises them as it serialises oneDNN's primitives.
import CDNNL

final class WinogradConvolution {
    let shape: ConvShape
    let fusedReLU: Bool
    private let weights: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>
    /// U = G g G^T, [36][Cin][Cout], of the last forward's weights (64-byte aligned).
    private let transformedWeights: UnsafeMutablePointer<Float>
    /// The arena's weights (forward) or their gradient (backward) in HWIO, which the transforms stream.
    private let hwio: Tensor
    /// OIHW views of the arena's weights and gradients, for the reorders to and from `hwio`.
    private let arenaWeights: dnnl_memory_t, arenaGradients: dnnl_memory_t
    private let toHWIO: Primitive, fromHWIOAccumulating: Primitive
    private var transformedWeightsCurrent = false
    private var plan: Plan?

    /// Scratch budget of one chunk's V and M together (floats): 2M = 8 MB, a few tile rows of a big
    /// image. Big enough for efficient matrix products, small enough to stay in the last-level cache.
    /// At least this many tiles per chunk: fewer make the matrix products too thin (a 32x32 image
    /// with 512 channels would otherwise get chunks of 8 tiles).
    static let minimumChunkTiles = 256
    static let chunkFloats = 2 << 20

    /// The implementation name reports and tests see, with the matmul kernel oneDNN runs under it.
    var implementation: String { "jdrl_wino_4x3+" + (plan?.forward.primitive.implementation ?? "unplanned") }
    var implementations: [String] {
        guard let plan else { return [] }
        return [plan.forward, plan.weightGradient, plan.dataGradient].map { "jdrl_wino_4x3+" + $0.primitive.implementation }
    }

    init(_ shape: ConvShape, fusedReLU: Bool, weights: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        precondition(shape.kernelHeight == 3 && shape.kernelWidth == 3, "Winograd F(4x4, 3x3) needs a 3x3 kernel")
        self.shape = shape; self.fusedReLU = fusedReLU; self.weights = weights; self.gradients = gradients
        let count = WinogradF4x3.positions * shape.inChannels * shape.outChannels
        transformedWeights = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        transformedWeights.initialize(repeating: 0, count: count)
        let dims = Conv2D.weightDims(shape)
        var oihw = dnnl_memory_desc_t(), hwioDesc = dnnl_memory_desc_t()
        dnnlCheck(dnnl_memory_desc_init_by_tag(&oihw, 4, dims, dnnl_f32, dnnl_oihw), "oihw md")
        dnnlCheck(dnnl_memory_desc_init_by_tag(&hwioDesc, 4, dims, dnnl_f32, dnnl_hwio), "hwio md")
        hwio = Tensor(desc: hwioDesc)
        var m1: dnnl_memory_t?, m2: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&m1, &oihw, Engine.shared.engine, weights), "memory_create")
        dnnlCheck(dnnl_memory_create(&m2, &oihw, Engine.shared.engine, gradients), "memory_create")
        arenaWeights = m1!; arenaGradients = m2!
        toHWIO = Reorder.primitive(from: oihw, to: hwioDesc, accumulate: false)
        fromHWIOAccumulating = Reorder.primitive(from: hwioDesc, to: oihw, accumulate: true)
    }

    deinit {
        UnsafeMutableRawPointer(transformedWeights).deallocate()
        dnnl_memory_destroy(arenaWeights); dnnl_memory_destroy(arenaGradients)
    }

    /// The matmuls of one chunk size, full chunks first; the last chunk may be shorter.
    private struct Plan {
        let tiling: WinogradTiling
        let rowsPerChunk: Int
        let forward: BatchedMatmul, weightGradient: BatchedMatmul, weightGradientAccumulating: BatchedMatmul
        let dataGradient: BatchedMatmul
        let lastForward: BatchedMatmul, lastWeightGradient: BatchedMatmul, lastDataGradient: BatchedMatmul
        var chunkTiles: Int { rowsPerChunk * tiling.tilesX }
        /// The tile ranges of the chunks, in order.
        var chunks: [Range<Int>] {
            stride(from: 0, to: tiling.tileRows, by: rowsPerChunk).map {
                ($0 * tiling.tilesX)..<(min($0 + rowsPerChunk, tiling.tileRows) * tiling.tilesX)
            }
        }
    }

    private func planned(for src: Tensor) -> Plan {
        let tiling = WinogradTiling(n: src.n, h: src.h, w: src.w)
        if let plan, plan.tiling == tiling { return plan }
        let cin = shape.inChannels, cout = shape.outChannels, p = WinogradF4x3.positions
        // Rows within the budget, but at least `minimumChunkTiles` tiles (small images with many channels).
        let withinBudget = Self.chunkFloats / (p * tiling.tilesX * (cin + cout))
        let rows = max(1, min(tiling.tileRows, max(withinBudget, (Self.minimumChunkTiles + tiling.tilesX - 1) / tiling.tilesX)))
        let full = rows * tiling.tilesX
        let lastRows = tiling.tileRows - (tiling.tileRows - 1) / rows * rows
        let last = lastRows * tiling.tilesX
        // Strides of the [36][rows][columns] views: V, M (and dV, dM) are tile-major, U and dU position-major.
        func tileMajor(_ c: Int) -> [Int] { [c, p * c, 1] }                   // [ξ][tile][channel]
        func tileMajorTransposed(_ c: Int) -> [Int] { [c, 1, p * c] }         // [ξ][channel][tile]
        let u = [cin * cout, cout, 1], uTransposed = [cin * cout, 1, cout]
        func forward(_ t: Int) -> BatchedMatmul {
            BatchedMatmul(rows: t, inner: cin, columns: cout, left: tileMajor(cin), right: u, result: tileMajor(cout))
        }
        func weightGradient(_ t: Int, accumulate: Bool) -> BatchedMatmul {
            BatchedMatmul(rows: cin, inner: t, columns: cout, left: tileMajorTransposed(cin), right: tileMajor(cout), result: u,
                          accumulate: accumulate)
        }
        func dataGradient(_ t: Int) -> BatchedMatmul {
            BatchedMatmul(rows: t, inner: cout, columns: cin, left: tileMajor(cout), right: uTransposed, result: tileMajor(cin))
        }
        let made = Plan(tiling: tiling, rowsPerChunk: rows, forward: forward(full),
                        weightGradient: weightGradient(full, accumulate: false),
                        weightGradientAccumulating: weightGradient(full, accumulate: true), dataGradient: dataGradient(full),
                        lastForward: forward(last), lastWeightGradient: weightGradient(last, accumulate: true),
                        lastDataGradient: dataGradient(last))
        plan = made
        return made
    }

    /// dst = conv(src) + bias (then ReLU). `reuseWeights`: the arena's weights did not change since
    /// the previous forward, so U is still right.
    func forward(src: Tensor, dst: Tensor, reuseWeights: Bool) {
        let plan = planned(for: src)
        let cin = shape.inChannels, cout = shape.outChannels
        let engine = Engine.shared
        engine.executionLock.lock(); defer { engine.executionLock.unlock() }
        if !(reuseWeights && transformedWeightsCurrent) {
            toHWIO.execute([(DNNL_ARG_FROM, arenaWeights), (DNNL_ARG_TO, hwio.memory)])
            profiled("wino weights \(shape)") {
                WinogradF4x3.transformWeights(hwio: hwio.pointer, pairs: cin * cout, into: transformedWeights)
            }
            transformedWeightsCurrent = true
        }
        let scratch = WinogradScratch.shared.buffers(chunk: plan.chunkTiles, inChannels: cin, outChannels: cout)
        let bias = weights + shape.weightCount
        for chunk in plan.chunks {
            profiled("wino input \(shape)") { WinogradF4x3.transformInput(src.planes, tiles: chunk, tiling: plan.tiling, into: scratch.v) }
            let product = chunk.count == plan.chunkTiles ? plan.forward : plan.lastForward
            product.run(left: scratch.v, right: transformedWeights, into: scratch.m)
            profiled("wino output \(shape)") {
                WinogradF4x3.transformOutput(scratch.m, tiles: chunk, tiling: plan.tiling, bias: bias, relu: fusedReLU, into: dst.planes)
            }
        }
    }

    /// Accumulates weight and bias gradients; overwrites gradSrc when given. gradDst is the gradient
    /// before the fused ReLU (Conv2D masks it first).
    func backward(src: Tensor, gradDst: Tensor, gradSrc: Tensor?) {
        let plan = planned(for: src)
        let cin = shape.inChannels, cout = shape.outChannels
        let engine = Engine.shared
        engine.executionLock.lock(); defer { engine.executionLock.unlock() }
        let scratch = WinogradScratch.shared.buffers(chunk: plan.chunkTiles, inChannels: cin, outChannels: cout)
        gradSrc?.zero()
        let biasGradient = gradients + shape.weightCount
        for (index, chunk) in plan.chunks.enumerated() {
            let isFull = chunk.count == plan.chunkTiles
            profiled("wino output-grad \(shape)") {
                WinogradF4x3.transformOutputGradient(gradDst.planes, tiles: chunk, tiling: plan.tiling, into: scratch.m, biasGradient: biasGradient)
            }
            profiled("wino input \(shape)") { WinogradF4x3.transformInput(src.planes, tiles: chunk, tiling: plan.tiling, into: scratch.v) }
            // The first chunk is always a full one (a chunk is at most all tile rows): it overwrites dU.
            let weightProduct = index == 0 ? plan.weightGradient : isFull ? plan.weightGradientAccumulating : plan.lastWeightGradient
            weightProduct.run(left: scratch.v, right: scratch.m, into: scratch.du)
            if let gradSrc {
                // dV overwrites V, which the weight gradient has consumed.
                (isFull ? plan.dataGradient : plan.lastDataGradient).run(left: scratch.m, right: transformedWeights, into: scratch.v)
                profiled("wino input-grad \(shape)") {
                    WinogradF4x3.transformInputGradient(scratch.v, tiles: chunk, tiling: plan.tiling, accumulateInto: gradSrc.planes)
                }
            }
        }
        profiled("wino weight-grad \(shape)") { WinogradF4x3.transformWeightGradient(scratch.du, pairs: cin * cout, into: hwio.pointer) }
        fromHWIOAccumulating.execute([(DNNL_ARG_FROM, hwio.memory), (DNNL_ARG_TO, arenaGradients)])
    }

    /// Runs a transform under the engine's profile (the matmuls are recorded by Primitive.execute).
    @inline(__always)
    private func profiled(_ label: @autoclosure () -> String, _ body: () -> Void) { Engine.shared.profiled(label(), body) }
}

extension Tensor {
    /// The buffer as the Winograd transforms index it (blocked f32 with channels in whole blocks).
    var planes: BlockedPlanes {
        precondition(layout == .blocked && elementType == .f32 && c % block == 0)
        return BlockedPlanes(pointer: pointer, channels: c, block: block, h: h, w: w)
    }
}

/// V, M and dU of the running pass: grown to the largest layer and chunk seen, never shrunk.
final class WinogradScratch {
    nonisolated(unsafe) static let shared = WinogradScratch()
    private var storage: UnsafeMutablePointer<Float>?
    private var capacity = 0

    /// Pointers into the scratch for one chunk (call with the engine's execution lock held).
    func buffers(chunk tiles: Int, inChannels: Int, outChannels: Int)
        -> (v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, du: UnsafeMutablePointer<Float>) {
        let p = WinogradF4x3.positions
        // Each part starts on a 64-byte boundary (whole multiples of 16 floats).
        func rounded(_ x: Int) -> Int { (x + 15) / 16 * 16 }
        let v = rounded(p * tiles * inChannels), m = rounded(p * tiles * outChannels), du = rounded(p * inChannels * outChannels)
        if v + m + du > capacity {
            storage?.deallocate()
            capacity = v + m + du
            let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
            storage = raw.bindMemory(to: Float.self, capacity: capacity)
            storage!.initialize(repeating: 0, count: capacity)
        }
        return (storage!, storage! + v, storage! + v + m)
    }
}

/// C[ξ] = A[ξ] B[ξ] for the 36 positions ξ on oneDNN's matmul (C += with `accumulate`). Each operand
/// is a [36][rows][columns] view given by its strides (floats), so transposed or tile-major operands
/// are the same buffers read in another order, not copies.
final class BatchedMatmul {
    let primitive: Primitive
    private let memories: (left: dnnl_memory_t, right: dnnl_memory_t, result: dnnl_memory_t)

    /// rows x inner times inner x columns, each operand with its (position, row, column) strides.
    init(rows: Int, inner: Int, columns: Int, left leftStrides: [Int], right rightStrides: [Int], result resultStrides: [Int],
         accumulate: Bool = false) {
        let batch = Int64(WinogradF4x3.positions), r = Int64(rows), k = Int64(inner), c = Int64(columns)
        func md(_ dims: [Int64], _ strides: [Int]) -> dnnl_memory_desc_t {
            var desc = dnnl_memory_desc_t()
            dnnlCheck(dnnl_memory_desc_init_by_strides(&desc, 3, dims, dnnl_f32, strides.map(Int64.init)), "matmul md")
            return desc
        }
        let left = md([batch, r, k], leftStrides), right = md([batch, k, c], rightStrides), result = md([batch, r, c], resultStrides)
        let key = "wino-matmul 36x\(rows)x\(inner)x\(columns) strides \(leftStrides) \(rightStrides) \(resultStrides) acc=\(accumulate)"
        primitive = Engine.shared.primitive(key) {
            var desc = dnnl_matmul_desc_t()
            var a = left, b = right, d = result
            dnnlCheck(dnnl_matmul_desc_init(&desc, &a, &b, nil, &d), "matmul desc")
            let attr = Reorder.attributes(accumulating: accumulate)
            defer { dnnl_primitive_attr_destroy(attr) }
            return Engine.shared.makeDescriptor(&desc, attr: attr, what: key)
        }
        func memory(_ desc: dnnl_memory_desc_t) -> dnnl_memory_t {
            var d = desc
            var made: dnnl_memory_t?
            dnnlCheck(dnnl_memory_create(&made, &d, Engine.shared.engine, nil), "matmul memory_create")
            return made!
        }
        memories = (memory(left), memory(right), memory(result))
    }

    deinit {
        dnnl_memory_destroy(memories.left); dnnl_memory_destroy(memories.right); dnnl_memory_destroy(memories.result)
    }

    func run(left: UnsafeMutablePointer<Float>, right: UnsafeMutablePointer<Float>, into result: UnsafeMutablePointer<Float>) {
        dnnlCheck(dnnl_memory_set_data_handle(memories.left, left), "set_data_handle")
        dnnlCheck(dnnl_memory_set_data_handle(memories.right, right), "set_data_handle")
        dnnlCheck(dnnl_memory_set_data_handle(memories.result, result), "set_data_handle")
        primitive.execute([(DNNL_ARG_SRC, memories.left), (DNNL_ARG_WEIGHTS, memories.right), (DNNL_ARG_DST, memories.result)])
    }
}
