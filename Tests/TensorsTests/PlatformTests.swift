// The numeric core follows the CPU: what the engine detected must agree with what oneDNN does on
// this machine, whatever the machine (run again under ONEDNN_MAX_CPU_ISA=AVX2 by `make test`).
import CDNNL
import Tensors
import Testing

@Suite("Numeric platform")
struct PlatformTests {
    let platform = Engine.shared.platform

    @Test("The activation block is the one oneDNN's ISA uses: 16 on AVX-512, 8 on AVX2/AVX/SSE4.1")
    func blockFollowsISA() {
        #expect([1, 4, 8, 16].contains(platform.channelBlock))
        #if arch(x86_64)
        if platform.isa.hasPrefix("avx512") { #expect(platform.channelBlock == 16, "\(platform)") }
        if ["avx2", "avx2_vnni", "avx", "sse41"].contains(platform.isa) { #expect(platform.channelBlock == 8, "\(platform)") }
        #endif
        #expect(platform.layout == (platform.channelBlock > 1 ? "nChw\(platform.channelBlock)c" : "nchw"))
        #expect(!platform.cpuModel.isEmpty)
    }

    @Test("Blocked tensors use the engine's block: offsets, padding and a reorder round trip")
    func blockedTensorUsesTheEngineBlock() {
        let b = platform.channelBlock
        let t = Tensor(n: 2, c: 2 * b + 3, h: 3, w: 5, layout: .blocked)
        #expect(t.block == b && t.paddedChannels == (b > 1 ? 3 * b : 2 * b + 3))
        #expect(t.storageCount == 2 * t.paddedChannels * 15)
        #expect(t.offset(0, 1, 0, 0) == (b > 1 ? 1 : 15))
        #expect(t.offset(1, b, 2, 4) == ((1 * (t.paddedChannels / b) + 1) * 3 + 2) * 5 * b + 4 * b)
        let values = (0..<t.count).map { Float($0) }
        t.load(plain: values)
        #expect(t.plainValues() == values)
        // The Swift-side offset agrees with oneDNN's reorder for every element.
        for (i, v) in values.enumerated() {
            let x = i % 5, y = i / 5 % 3, c = i / 15 % t.c, n = i / (15 * t.c)
            if t.pointer[t.offset(n, c, y, x)] != v { Issue.record("offset(\(n),\(c),\(y),\(x)) holds \(t.pointer[t.offset(n, c, y, x)]), not \(v)"); return }
        }
    }

    @Test("Winograd and bf16 are claimed only where oneDNN has them")
    func capabilitiesMatchTheISA() {
        if platform.winograd { #expect(platform.isa.hasPrefix("avx512") && platform.channelBlock == 16) }
        if platform.bf16 != .unavailable { #expect(platform.isa.hasPrefix("avx512")) }
        if platform.bf16 == .amx { #expect(platform.isa.contains("amx")) }
        if platform.bf16 == .vector { #expect(platform.isa.contains("bf16")) }
    }

    @Test("A 3x3 convolution in the engine's layout runs a JIT kernel, forward and backward, never ref")
    func convolutionIsNotReference() {
        let fixture = ConvFixture(.conv3x3(32, 32), relu: true, seed: 41)
        let src = tensor(randomValues(32 * 40 * 40, seed: 42), n: 1, c: 32, h: 40, w: 40, layout: .blocked)
        let dst = Tensor(n: 1, c: 32, h: 40, w: 40, layout: .blocked)
        let gDst = tensor(randomValues(32 * 40 * 40, seed: 43), n: 1, c: 32, h: 40, w: 40, layout: .blocked)
        let gSrc = Tensor(n: 1, c: 32, h: 40, w: 40, layout: .blocked)
        let executed = Engine.shared.executedImplementations {
            fixture.conv.forward(src: src, dst: dst)
            fixture.conv.backward(src: src, dst: dst, gradDst: gDst, gradSrc: gSrc)
        }
        #expect(fixture.conv.implementations.count == 3)
        #expect(!executed.isEmpty && executed.allSatisfy { !$0.hasSuffix(": ref:any") && !$0.contains(": ref:") }, "\(executed)")
    }
}
