import Foundation
import Synthesis

/// The summary line of how much fine detail the synthesised GTs keep (`GTDetail`): per pair and overall.
public enum DetailSummary {
    /// `kept`: (pair name, fraction) for every pair that records it.
    public static func lines(_ kept: [(name: String, fraction: Double)]) -> [String] {
        guard !kept.isEmpty else { return [] }
        let fractions = kept.map(\.fraction)
        let mean = fractions.reduce(0, +) / Double(fractions.count)
        let perPair = kept.map { String(format: "%@ %.1f %%", $0.name, 100 * $0.fraction) }.joined(separator: ", ")
        return [
            "synth: GT detail kept (Laplacian energy of the GT mapped back by the true flow, relative to the aligned sharp image's): \(perPair)",
            String(format: "synth: GT detail kept overall: mean %.1f %%, lowest %.1f %% over %d pairs", 100 * mean, 100 * fractions.min()!, fractions.count),
        ]
    }

    /// The fraction a finished pair folder records (nil when its `synth.json` is missing or has none).
    public static func recorded(in pairFolder: URL) -> Double? {
        guard let data = FileManager.default.contents(atPath: pairFolder.appendingPathComponent(SyntheticPair.FileName.metadata).path),
              let metadata = try? JSONDecoder().decode(SynthesisMetadata.self, from: data) else { return nil }
        return metadata.gtDetailRetained
    }
}
