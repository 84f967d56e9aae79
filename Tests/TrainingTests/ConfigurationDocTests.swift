import Foundation
import Manifest
import Testing
import Training

/// docs/configuration.md documents every key the config loaders accept, and no key they refuse: the lists
/// come from the loaders themselves (each section's CodingKeys), so a key added to a config type fails
/// here until the doc has a row for it, and a row for a removed or misspelt key fails too.
@Suite struct ConfigurationDocTests {
    static let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")

    /// The first cells of the table rows between the heading that starts with `heading` and the next
    /// level-2 heading, without their backticks: `| \`train.optimizer.lr\` | ...` gives "train.optimizer.lr".
    static func documentedKeys(under heading: String) throws -> [String] {
        let lines = try String(contentsOf: doc, encoding: .utf8).components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix(heading) }) else { return [] }
        let section = lines[(start + 1)...].prefix { !$0.hasPrefix("## ") }
        return section.compactMap { line -> String? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
            guard line.hasPrefix("| `"), cells.count > 2 else { return nil }
            return cells[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`"))
        }
    }

    static func compare(documented: [String], accepted: [String], what: String) {
        let missing = Set(accepted).subtracting(documented).sorted()
        let unknown = Set(documented).subtracting(accepted).sorted()
        let twice = Dictionary(grouping: documented, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(!documented.isEmpty, "docs/configuration.md has no \(what) table")
        #expect(missing.isEmpty, "\(what) keys without a row in docs/configuration.md: \(missing)")
        #expect(unknown.isEmpty, "docs/configuration.md names \(what) keys the loader refuses: \(unknown)")
        #expect(twice.isEmpty, "docs/configuration.md documents these \(what) keys twice: \(twice)")
    }

    @Test func everyTrainingConfigKeyIsDocumentedAndNoOther() throws {
        #expect(TrainingConfigLoader.allKeys.contains("train.optimizer.lr") && TrainingConfigLoader.allKeys.contains("network_g.prior.weight"))
        Self.compare(documented: try Self.documentedKeys(under: "## Training config"), accepted: TrainingConfigLoader.allKeys,
                     what: "training config")
    }

    @Test func everyDatasetConfigKeyIsDocumentedAndNoOther() throws {
        #expect(DatasetConfig.allKeys.contains("tiling.stride") && DatasetConfig.allKeys.contains("synthesis.train_variants"))
        Self.compare(documented: try Self.documentedKeys(under: "## Dataset config"), accepted: DatasetConfig.allKeys,
                     what: "dataset config")
    }
}
