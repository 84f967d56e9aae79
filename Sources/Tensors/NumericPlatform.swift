// What the running CPU gives the numeric core, asked once from oneDNN when the engine starts.
//
// The machines this project runs on change (AVX-512 + AMX one day, AVX2 the next; users' laptops and
// clusters vary more), so nothing here is assumed: the activation layout is the one oneDNN's own
// convolution picks with `format_tag_any` (nChw16c on AVX-512, nChw8c on AVX2/AVX/SSE4.1, plain NCHW
// where nothing is blocked), Winograd and bf16 are used where oneDNN can create them. Every choice is
// a fixed function of the detected CPU (no timing), so a resumed run on the same CPU stays bitwise
// reproducible. ONEDNN_MAX_CPU_ISA caps what oneDNN dispatches to, and everything here follows it.
import CDNNL
import Foundation

/// How bf16 convolutions run on this CPU.
public enum BF16Support: String, Sendable, Codable {
    /// oneDNN has no bf16 convolution here (before AVX-512): bf16 is refused.
    case unavailable
    /// AVX-512 without bf16 instructions: oneDNN emulates bf16 arithmetic, which gains nothing over f32.
    case emulated
    /// AVX512-BF16 dot products without AMX: faster or
    /// slower than f32 depending on the CPU, which is why `--precision auto` measures.
    case vector
    /// AMX tiles: bf16 inference is 1.6-1.8x faster than f32 end to end (docs/performance.md).
    case amx
}

public struct NumericPlatform: Sendable, CustomStringConvertible {
    /// The CPU's model name (/proc/cpuinfo), or the architecture where there is none.
    public let cpuModel: String
    /// The instruction set oneDNN dispatches to (after ONEDNN_MAX_CPU_ISA), e.g. `avx2`, `avx512_core_amx`.
    public let isa: String
    /// Channels per block of the activation layout: 16, 8 or 4; 1 means plain NCHW.
    public let channelBlock: Int
    /// oneDNN's Winograd F(4x4, 3x3) f32 convolution exists here (AVX-512 only in oneDNN 2.6).
    public let winograd: Bool
    public let bf16: BF16Support
    /// The kernel set Debian's OpenBLAS chose when it loaded (its own detection or OPENBLAS_CORETYPE).
    public let openBLASCore: String

    /// oneDNN's name of the activation layout: `nChw16c`, `nChw8c`, `nChw4c` or `nchw`.
    public var layout: String { channelBlock > 1 ? "nChw\(channelBlock)c" : "nchw" }

    /// The project's own Winograd F(4x4, 3x3) (WinogradConvolution) replaces oneDNN's missing one:
    /// wherever oneDNN has no Winograd and activations come in blocks of 4, 8 or 16 channels.
    public var ownWinograd: Bool { !winograd && channelBlock % 4 == 0 }

    /// The convolution algorithms, in one string a checkpoint records (resume compares it). The
    /// up-path's upsample + 2x2 convolution runs in sub-pixel form on every CPU (UpsampleConv2x); it is
    /// named so that a checkpoint written before it says so on resume.
    public var algorithms: String {
        (winograd ? "winograd(3x3)+direct" : ownWinograd ? "jdrl-winograd-f4x3(3x3)+direct" : "direct") + "+subpixel(up2x2)"
    }

    public var description: String {
        "CPU \(cpuModel); oneDNN ISA \(isa); activations \(layout); convolutions \(algorithms); bf16 \(bf16.rawValue); OpenBLAS core \(openBLASCore)"
    }

    /// Probes oneDNN on `engine`: a representative 3x3 64->64 convolution with `format_tag_any`.
    static func detect(engine: dnnl_engine_t) -> NumericPlatform {
        let isaValue = dnnl_get_effective_cpu_isa()
        let block = probeChannelBlock(engine: engine)
        let winograd = block == 16 && probeConvolution(engine: engine, type: dnnl_f32, algorithm: dnnl_convolution_winograd, tag: dnnl_nChw16c)
        let bf16Exists = probeConvolution(engine: engine, type: dnnl_bf16, algorithm: dnnl_convolution_direct, tag: dnnl_nhwc)
        func has(_ level: dnnl_cpu_isa_t) -> Bool { isaValue.rawValue & level.rawValue == level.rawValue }
        let bf16: BF16Support = !bf16Exists ? .unavailable
            : has(dnnl_cpu_isa_avx512_core_amx) ? .amx : has(dnnl_cpu_isa_avx512_core_bf16) ? .vector : .emulated
        return NumericPlatform(cpuModel: cpuModelName(), isa: isaName(isaValue), channelBlock: block, winograd: winograd,
                               bf16: bf16, openBLASCore: loadedOpenBLASCore())
    }

    /// A 3x3 convolution descriptor over 1x64x32x32 (f32 or bf16) in `tag` (any for source and destination when nil).
    private static func convolutionDescriptor(type: dnnl_data_type_t, algorithm: dnnl_alg_kind_t, tag: dnnl_format_tag_t,
                                              engine: dnnl_engine_t) -> dnnl_primitive_desc_t? {
        let dims: [Int64] = [1, 64, 32, 32]
        var src = dnnl_memory_desc_t(), dst = dnnl_memory_desc_t(), weights = dnnl_memory_desc_t(), bias = dnnl_memory_desc_t()
        guard dnnl_memory_desc_init_by_tag(&src, 4, dims, type, tag) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&dst, 4, dims, type, tag) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&weights, 4, [64, 64, 3, 3], type, dnnl_format_tag_any) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&bias, 1, [64], dnnl_f32, dnnl_x) == dnnl_success else { return nil }
        var desc = dnnl_convolution_desc_t()
        let kind = type == dnnl_bf16 ? dnnl_forward_inference : dnnl_forward_training
        guard dnnl_convolution_forward_desc_init(&desc, kind, algorithm, &src, &weights, &bias, &dst,
                                                 [1, 1], [1, 1], [1, 1]) == dnnl_success else { return nil }
        var pd: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&pd, &desc, nil, engine, nil) == dnnl_success else { return nil }
        return pd
    }

    private static func probeConvolution(engine: dnnl_engine_t, type: dnnl_data_type_t, algorithm: dnnl_alg_kind_t,
                                         tag: dnnl_format_tag_t) -> Bool {
        guard let pd = convolutionDescriptor(type: type, algorithm: algorithm, tag: tag, engine: engine) else { return false }
        defer { dnnl_primitive_desc_destroy(pd) }
        return !implementation(of: pd).hasPrefix("ref")
    }

    /// The channel block of the source layout oneDNN's convolution picks for itself; 1 when it picks
    /// an unblocked layout (or nothing: then plain NCHW, which every implementation accepts).
    private static func probeChannelBlock(engine: dnnl_engine_t) -> Int {
        guard let pd = convolutionDescriptor(type: dnnl_f32, algorithm: dnnl_convolution_direct, tag: dnnl_format_tag_any,
                                             engine: engine) else { return 1 }
        defer { dnnl_primitive_desc_destroy(pd) }
        let md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)!.pointee
        guard md.format_kind == dnnl_blocked else { return 1 }
        let blocking = md.format_desc.blocking
        // One inner block, over the channel dimension (index 1), of a size with a format tag.
        guard blocking.inner_nblks == 1, blocking.inner_idxs.0 == 1, [4, 8, 16].contains(blocking.inner_blks.0) else { return 1 }
        return Int(blocking.inner_blks.0)
    }

    static func implementation(of pd: dnnl_primitive_desc_t) -> String {
        var info: UnsafePointer<CChar>?
        _ = withUnsafeMutablePointer(to: &info) { pointer in
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, UnsafeMutableRawPointer(pointer))
        }
        return info.map { String(cString: $0) } ?? "?"
    }

    static func isaName(_ isa: dnnl_cpu_isa_t) -> String {
        switch isa {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_mic: return "avx512_mic"
        case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        default: return "isa_0x\(String(isa.rawValue, radix: 16))"
        }
    }

    static func cpuModelName() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        for line in info.split(separator: "\n") where line.hasPrefix("model name") {
            if let value = line.split(separator: ":", maxSplits: 1).last { return value.trimmingCharacters(in: .whitespaces) }
        }
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: &names.machine) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }

    /// OpenBLAS's own name for its kernels, read through the symbol it exports (nil-safe: a process
    /// that does not load OpenBLAS says so).
    static func loadedOpenBLASCore() -> String {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "openblas_get_corename") else { return "not loaded" }
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        let name = unsafeBitCast(symbol, to: CoreName.self)()
        return name.map { String(cString: $0) } ?? "unknown"
    }
}
