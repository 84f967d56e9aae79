// Activations and their gradients: an NCHW-shaped float buffer in one of three layouts.
//
// Inside a network every activation lives in the blocked layout oneDNN's own convolutions pick on
// the running CPU (`NumericPlatform.channelBlock`: nChw16c on AVX-512, nChw8c on AVX2, plain NCHW
// where nothing is blocked; channels padded with zeros to a whole block). Keeping it between layers
// costs no reorder, and the plain-Swift ops (concat, dropout, residual add) index it through
// `offset` and `block`, never through a fixed block size. A fixed nChw16c on an AVX2 CPU sends
// every convolution to oneDNN's reference kernels (1,500x slower), which is why the block is asked.
// Model edges (3-channel images, 35 seeds, 8 weights) use plain NCHW; one reorder converts.
import Checks
import CDNNL
import Foundation

public enum Layout: Sendable, Equatable {
    /// Plain row-major NCHW, what the rest of the project passes around.
    case plain
    /// oneDNN's nChw<B>c with B = the engine's channel block: [N][ceil(C/B)][H][W][B], padding channels zero.
    case blocked
    /// NHWC: what oneDNN 2.6's AMX (brgemm) convolutions take; bf16 inference runs in it.
    case channelsLast

    /// Channels per block of `.blocked` on this CPU (1: plain NCHW).
    public static var channelBlock: Int { Engine.shared.platform.channelBlock }

    var formatTag: dnnl_format_tag_t {
        switch self {
        case .plain: return dnnl_nchw
        case .blocked:
            switch Layout.channelBlock {
            case 16: return dnnl_nChw16c
            case 8: return dnnl_nChw8c
            case 4: return dnnl_nChw4c
            default: return dnnl_nchw
            }
        case .channelsLast: return dnnl_nhwc
        }
    }
}

/// What one element is. Training and every plain-Swift op work in f32; bf16 exists for inference
/// convolutions on AMX (oneDNN converts at reorders; see UNet's `precision`).
/// The project's one list of precisions: `InferencePrecision` (what a user asks for) refers to it.
public enum ElementType: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    case f32, bf16

    var dnnlType: dnnl_data_type_t { self == .f32 ? dnnl_f32 : dnnl_bf16 }
    public var byteSize: Int { self == .f32 ? 4 : 2 }
    public var description: String { rawValue }
}

/// Owns a 64-byte aligned, zero-initialised buffer and the oneDNN memory object over it.
public final class Tensor {
    public let n: Int, c: Int, h: Int, w: Int
    public let layout: Layout
    public let elementType: ElementType
    public let desc: dnnl_memory_desc_t
    /// Elements in the buffer, including blocked-layout channel padding.
    public let storageCount: Int
    /// The buffer as floats: meaningful for f32 tensors only (the plain-Swift ops check).
    public let pointer: UnsafeMutablePointer<Float>
    public let memory: dnnl_memory_t
    /// Channels per block: the engine's block for `.blocked`, 1 otherwise.
    public let block: Int

    /// Logical element count n*c*h*w.
    public var count: Int { n * c * h * w }
    /// Channels rounded up to the layout's block.
    public var paddedChannels: Int { (c + block - 1) / block * block }

    public init(n: Int, c: Int, h: Int, w: Int, layout: Layout, elementType: ElementType = .f32) {
        self.n = n; self.c = c; self.h = h; self.w = w; self.layout = layout; self.elementType = elementType
        block = layout == .blocked ? Layout.channelBlock : 1
        var md = dnnl_memory_desc_t()
        dnnlCheck(dnnl_memory_desc_init_by_tag(&md, 4, [Int64(n), Int64(c), Int64(h), Int64(w)], elementType.dnnlType,
                                               layout.formatTag), "memory_desc_init_by_tag")
        desc = md
        (storageCount, pointer, memory) = Tensor.allocate(md, elementType)
    }

    /// A buffer in whatever layout a primitive chose (weights in OIhw16i16o, ...).
    public init(desc md: dnnl_memory_desc_t) {
        desc = md
        n = 0; c = 0; h = 0; w = 0; layout = .plain; block = 1
        elementType = md.data_type == dnnl_bf16 ? .bf16 : .f32
        (storageCount, pointer, memory) = Tensor.allocate(md, elementType)
    }

    private static func allocate(_ md: dnnl_memory_desc_t, _ type: ElementType) -> (Int, UnsafeMutablePointer<Float>, dnnl_memory_t) {
        var md = md
        let bytes = dnnl_memory_desc_get_size(&md)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 64))
        let floats = raw.bindMemory(to: Float.self, capacity: max(bytes, 64) / 4)
        var memory: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&memory, &md, Engine.shared.engine, raw), "memory_create")
        return (bytes / type.byteSize, floats, memory!)
    }

    deinit {
        dnnl_memory_destroy(memory)
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    public func zero() { UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: storageCount * elementType.byteSize) }

    public func hasSameShape(_ other: Tensor) -> Bool {
        n == other.n && c == other.c && h == other.h && w == other.w
    }

    /// Offset of logical element (n, c, y, x) in the buffer (for plain-Swift ops and tests).
    @inline(__always)
    public func offset(_ ni: Int, _ ci: Int, _ y: Int, _ x: Int) -> Int {
        switch layout {
        case .plain: return ((ni * c + ci) * h + y) * w + x
        case .blocked:
            let blocks = (c + block - 1) / block
            return (((ni * blocks + ci / block) * h + y) * w + x) * block + ci % block
        case .channelsLast: return ((ni * h + y) * w + x) * c + ci
        }
    }

    /// Copies plain NCHW floats in (a reorder when the tensor is blocked).
    public func load(fromPlain source: UnsafePointer<Float>) {
        if layout == .plain && elementType == .f32 { pointer.update(from: source, count: count); return }
        PlainStaging.with(n: n, c: c, h: h, w: w, pointer: UnsafeMutablePointer(mutating: source)) { staging in
            Reorder.run(from: staging, to: self)
        }
    }

    /// Copies the tensor out as plain NCHW floats.
    public func store(toPlain destination: UnsafeMutablePointer<Float>) {
        if layout == .plain && elementType == .f32 { destination.update(from: pointer, count: count); return }
        PlainStaging.with(n: n, c: c, h: h, w: w, pointer: destination) { staging in
            Reorder.run(from: self, to: staging)
        }
    }

    /// Convenience for tests: the tensor's logical values in plain NCHW order.
    public func plainValues() -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { store(toPlain: $0.baseAddress!) }
        return out
    }

    public func load(plain values: [Float]) {
        require(values.count == count, "expected \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { load(fromPlain: $0.baseAddress!) }
    }
}

/// A oneDNN memory object over caller-owned plain NCHW floats (no copy), reused per shape.
final class PlainStaging {
    let desc: dnnl_memory_desc_t
    let memory: dnnl_memory_t

    init(n: Int, c: Int, h: Int, w: Int) {
        var md = dnnl_memory_desc_t()
        dnnlCheck(dnnl_memory_desc_init_by_tag(&md, 4, [Int64(n), Int64(c), Int64(h), Int64(w)], dnnl_f32, dnnl_nchw),
                  "memory_desc_init_by_tag")
        desc = md
        var memory: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&memory, &md, Engine.shared.engine, nil), "memory_create")
        self.memory = memory!
    }

    deinit { dnnl_memory_destroy(memory) }

    private static var pool: [String: PlainStaging] = [:]
    private static let lock = NSLock()

    static func with(n: Int, c: Int, h: Int, w: Int, pointer: UnsafeMutablePointer<Float>, _ body: (PlainStaging) -> Void) {
        let key = "\(n)x\(c)x\(h)x\(w)"
        lock.lock()
        let staging = pool[key] ?? PlainStaging(n: n, c: c, h: h, w: w)
        pool[key] = staging
        lock.unlock()
        Engine.shared.executionLock.lock(); defer { Engine.shared.executionLock.unlock() }
        dnnlCheck(dnnl_memory_set_data_handle(staging.memory, pointer), "set_data_handle")
        body(staging)
    }
}

/// Layout conversions through oneDNN's reorder primitive.
public enum Reorder {
    /// Primitive attributes, with a sum post-op (dst = result + dst) when `accumulating`. The caller destroys them.
    static func attributes(accumulating: Bool) -> dnnl_primitive_attr_t? {
        var attr: dnnl_primitive_attr_t?
        dnnlCheck(dnnl_primitive_attr_create(&attr), "attr_create")
        if accumulating {
            var postOps: dnnl_post_ops_t?
            dnnlCheck(dnnl_post_ops_create(&postOps), "post_ops_create")
            dnnlCheck(dnnl_post_ops_append_sum(postOps, 1.0), "post_ops_append_sum")
            dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, postOps), "attr_set_post_ops")
            dnnl_post_ops_destroy(postOps)
        }
        return attr
    }

    static func primitive(from src: dnnl_memory_desc_t, to dst: dnnl_memory_desc_t, accumulate: Bool) -> Primitive {
        let key = "reorder \(descriptorKey(src)) -> \(descriptorKey(dst)) acc=\(accumulate)"
        return Engine.shared.primitive(key) {
            // accumulate: dst = src + dst, gradient accumulation into a parameter arena.
            let attr = Reorder.attributes(accumulating: accumulate)
            defer { dnnl_primitive_attr_destroy(attr) }
            var pd: dnnl_primitive_desc_t?
            var s = src, d = dst
            let engine = Engine.shared.engine
            Engine.useCallerScratchpad(attr)
            dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &s, engine, &d, engine, attr), "reorder_primitive_desc_create")
            return pd!
        }
    }

    /// dst = src (or dst += src with `accumulate`), converting layouts.
    public static func run(from src: Tensor, to dst: Tensor, accumulate: Bool = false) {
        primitive(from: src.desc, to: dst.desc, accumulate: accumulate)
            .execute([(DNNL_ARG_FROM, src.memory), (DNNL_ARG_TO, dst.memory)])
    }

    static func run(from src: PlainStaging, to dst: Tensor) {
        primitive(from: src.desc, to: dst.desc, accumulate: false)
            .execute([(DNNL_ARG_FROM, src.memory), (DNNL_ARG_TO, dst.memory)])
    }

    static func run(from src: Tensor, to dst: PlainStaging) {
        primitive(from: src.desc, to: dst.desc, accumulate: false)
            .execute([(DNNL_ARG_FROM, src.memory), (DNNL_ARG_TO, dst.memory)])
    }
}
