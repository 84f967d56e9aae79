import Foundation
import Testing
import Training

/// `base:`: a config states what differs from another; it resolves to the complete config at load.
@Suite struct ConfigBaseTests {
    /// The hash of each shipped config, as its keys written out in full give it: runs started from them
    /// resume (the checkpoint's hash must match), so a change here is a new run for everyone.
    static let hashes = [
        "jdrl-unet-paper.yaml": "912baa1110ae3136", "jdrl-unet-cpu.yaml": "8f23399e6664a3f3",
        "baseline-unet-cpu.yaml": "0a46f9d0a5a6612d", "jdrl-unet-cpu-online.yaml": "0a0e5df34a6a22ad",
        "jdrl-nafnet-cpu.yaml": "076469e719bbfbc2", "baseline-nafnet-cpu.yaml": "84f4e5b996402008",
        "jdrl-prior-unet-paper.yaml": "7be63a7ffd986948", "jdrl-prior-unet-cpu.yaml": "4c796a9c26dfb994",
        "jdrl-prior-nafnet-cpu.yaml": "5c552610bf67fe66", "ablations/no_deformation.yaml": "559447b9605abfc8",
        "ablations/no_mask.yaml": "dfeea20d03028338", "ablations/no_cycle.yaml": "4a0929af7946deca",
        "ablations/no_reblur.yaml": "8f05da24498b071a",
    ]

    @Test func shippedConfigsKeepTheHashOfTheirFullForm() throws {
        for (name, hash) in Self.hashes {
            let config = try TrainingConfigLoader.load(configURL(name))
            #expect(try TrainingConfigLoader.hash(config) == hash, "\(name)")
            #expect(!(try TrainingConfigLoader.resolvedYAML(config)).contains("base:"), "\(name)")
        }
        let ablation = try String(contentsOf: configURL("ablations/no_mask.yaml"), encoding: .utf8)
        #expect(ablation.contains("base: ../jdrl-unet-cpu.yaml") && ablation.split(separator: "\n").count < 10)
    }

    @Test func eachFilesKeysAreCheckedAndABadBaseIsNamed() throws {
        let folder = Fixtures.temporaryDirectory("config-base")
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = try String(contentsOf: configURL("jdrl-unet-cpu.yaml"), encoding: .utf8)
        try base.write(to: folder.appendingPathComponent("base.yaml"), atomically: true, encoding: .utf8)
        func reason(_ text: String, _ name: String = "child.yaml") -> String {
            let url = folder.appendingPathComponent(name)
            do {
                try text.write(to: url, atomically: true, encoding: .utf8)
                _ = try TrainingConfigLoader.load(url)
                return "accepted"
            } catch { return "\(error)" }
        }
        // A child overrides one key deep in a section; every other key is the base's.
        #expect(reason("base: base.yaml\nname: child\ntrain:\n  ablation:\n    no_cycle: true\n") == "accepted")
        let child = try TrainingConfigLoader.load(folder.appendingPathComponent("child.yaml"))
        var expected = try TrainingConfigLoader.load(folder.appendingPathComponent("base.yaml"))
        expected.name = "child"
        expected.train.ablation.noCycle = true
        #expect(child == expected)

        let childPath = folder.appendingPathComponent("child.yaml").path
        let misspelt = reason("base: base.yaml\nname: child\ntrain:\n  ablation:\n    no_cylce: true\n")
        #expect(misspelt.hasPrefix(childPath) && misspelt.contains("'no_cylce' in section 'train.ablation'"), "\(misspelt)")
        try (base + "wrong_key: 1\n").write(to: folder.appendingPathComponent("bad-base.yaml"), atomically: true, encoding: .utf8)
        let inBase = reason("base: bad-base.yaml\nname: child\n")
        #expect(inBase.hasPrefix(folder.appendingPathComponent("bad-base.yaml").path) && inBase.contains("'wrong_key'"), "\(inBase)")
        let missing = reason("base: nowhere.yaml\nname: child\n")
        #expect(missing.contains("nowhere.yaml") && missing.contains("cannot read"), "\(missing)")
        #expect(reason("base: loop.yaml\nname: loop\n", "loop.yaml").contains("leads back to this file"))
        #expect(reason("base: base.yaml\nname: child\nnetwork_g:\n  base: base.yaml\n").contains("'base' in section 'network_g'"))
    }
}
