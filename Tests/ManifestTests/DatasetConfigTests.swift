import Foundation
import Manifest
import StageSupport
import Testing

/// configs/datasets/*.yaml: the layout is an enum; a typo is refused, never read as auto-detect.

let datasetConfigs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("configs/datasets")

@Test func shippedDatasetConfigsDecodeTheirLayouts() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: datasetConfigs.path).filter { $0.hasSuffix(".yaml") }.sorted()
    #expect(!names.isEmpty)
    for name in names {
        let config = try DatasetConfig.load(from: datasetConfigs.appendingPathComponent(name))
        #expect(DatasetLayout.allCases.contains(config.layout), "\(name)")
    }
    #expect(DatasetLayout.auto.fixed == nil && DatasetLayout.dpdd.fixed == .dpdd)
}

@Test func aMisspeltLayoutIsRefusedNamingTheChoices() throws {
    let source = datasetConfigs.appendingPathComponent("embedded.yaml")
    let text = try String(contentsOf: source, encoding: .utf8)
    let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("layout:") }.map(String.init))
    let bad = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-layout-\(UUID().uuidString).yaml")
    defer { try? FileManager.default.removeItem(at: bad) }
    try text.replacingOccurrences(of: line, with: "layout: sdd2").write(to: bad, atomically: true, encoding: .utf8)
    do {
        _ = try DatasetConfig.load(from: bad)
        Issue.record("accepted layout: sdd2")
    } catch {
        #expect("\(error)".contains("unknown layout 'sdd2'; choices: auto, sdd, dpdd, realdof, generic"), "\(error)")
    }
}
