import Flow
import Foundation
import Testing
import Training

/// Config values that are enums: decoded into the project's one enum, written back in the config's
/// spelling, and a misspelling refused with the choices named.
@Suite struct ConfigChoiceTests {
    @Test func maskModeIsFlowsEnumAndKeepsTheConfigSpelling() throws {
        let config = try TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml"))
        #expect(config.train.maskMode == MaskMode.referenceColorWheel)
        #expect(try TrainingConfigLoader.resolvedYAML(config).contains("mask_mode: colour_wheel"))
        #expect(MaskMode.allCases.map(\.configName) == ["magnitude", "colour_wheel", "forward_backward"])
    }

    @Test func misspeltChoicesAreRefusedNamingTheChoices() throws {
        let text = try String(contentsOf: configURL("jdrl-unet-cpu.yaml"), encoding: .utf8)
        let cases: [(key: String, bad: String, choices: String)] = [
            ("mask_mode", "color_wheel", "magnitude, colour_wheel, forward_backward"),
            ("loss_mode", "jdlr", "jdrl, baseline"),
            ("flow_source", "offline", "online, manifest"),
            ("augmentation", "flips", "none, dihedral"),
        ]
        for (key, bad, choices) in cases {
            let line = try #require(text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(key):") }.map(String.init))
            let indent = line.prefix { $0 == " " }
            do {
                _ = try TrainingConfigLoader.parse(text.replacingOccurrences(of: line, with: "\(indent)\(key): \(bad)"))
                Issue.record("accepted \(key): \(bad)")
            } catch {
                #expect("\(error)".contains("unknown \(key) '\(bad)'; choices: \(choices)"), "\(error)")
            }
        }
    }
}
