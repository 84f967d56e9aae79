// A checkpoint records the CPU-dependent arithmetic that produced it; resuming elsewhere says so.
import Foundation
import Seeding
import Tensors
import Testing
import Training

@Suite struct CheckpointPlatformTests {
    func state() -> CheckpointState {
        CheckpointState(step: 4, epoch: 1, optimizerSteps: 4, rng: SplitMix64(state: 7), seed: 1, configHash: "h", lr: 1e-3, final: false)
    }

    @Test func aCheckpointRecordsTheISALayoutAndAlgorithmsAndRoundTrips() throws {
        let platform = Engine.shared.platform
        let written = state()
        #expect(written.isa == platform.isa && written.layout == platform.layout && written.convolutionAlgorithms == platform.algorithms)
        let json = try JSONEncoder().encode(written)
        #expect(String(decoding: json, as: UTF8.self).contains("\"conv_algorithms\""))
        let read = try JSONDecoder().decode(CheckpointState.self, from: json)
        #expect(read == written && read.platformChange(to: platform) == nil)
    }

    @Test func resumingOnAnotherCPUSaysSoInOneLine() throws {
        var moved = state()
        moved.isa = moved.isa == "avx2" ? "avx512_core_amx" : "avx2"
        let line = try #require(moved.platformChange(to: Engine.shared.platform))
        #expect(!line.contains("\n") && line.contains(moved.isa!) && line.contains(Engine.shared.platform.isa))
        // A checkpoint from before these fields existed decodes, and says it has none recorded.
        let old = #"{"step":1,"epoch":0,"optimizer_steps":1,"rng_state":"7","seed":"1","config_hash":"h","lr":0.001,"final":false}"#
        let decoded = try JSONDecoder().decode(CheckpointState.self, from: Data(old.utf8))
        #expect(decoded.isa == nil && decoded.platformChange(to: Engine.shared.platform)?.contains("unrecorded") == true)
    }
}
