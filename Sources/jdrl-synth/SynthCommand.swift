import ArgumentParser
import DatasetSynthesis
import Foundation
import Imaging
import Manifest
import StageSupport
import Synthesis

/// jdrl-synth: SDD-like misaligned defocus pairs from sharp photos.
/// Direct mode writes one pair folder; config mode builds a whole dataset in the SDD layout.
@main
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-synth",
        abstract: "Synthesise misaligned defocus pairs (blurry, misaligned GT, aligned sharp, true flows, blur map).",
        discussion: """
            Direct mode:  jdrl-synth --photo P --out DIR --seed N [--width W]
            Dataset mode: jdrl-synth --config configs/datasets/embedded.yaml  (skips pairs already made)
            Exit status (shared by every stage, docs/commands.md): 0 done; 64 bad call or config; \
            65 a missing or unreadable photo.
            """)

    @Option(help: "A sharp photo (direct mode).")
    var photo: String?

    @Option(help: "Output folder for the pair (direct mode).")
    var out: String?

    @Option(help: "Seed: the same seed and photo give the same bytes.")
    var seed: UInt64 = 1

    @Option(help: "Resize the photo to this width first (height follows SDD's 4096:2160 frame).")
    var width: Int?

    @Option(help: "Dataset config with a `synthesis` section (dataset mode).")
    var config: String?

    @OptionGroup var threading: ThreadOptions

    @Option(help: "PNG zlib level (0-9).")
    var compression: Int = 1

    func validate() throws {
        if config == nil && (photo == nil || out == nil) {
            throw ValidationError("Give --photo and --out (direct mode) or --config (dataset mode).")
        }
        if config != nil && (photo != nil || out != nil) {
            throw ValidationError("--config cannot be combined with --photo/--out.")
        }
        if let width, width < 64 { throw ValidationError("--width must be at least 64.") }
    }

    func run() throws {
        if let config {
            try EmbeddedDataset(config: try DatasetConfig.load(from: URL(fileURLWithPath: config)), threads: threading.threads,
                                compression: compression).build()
        } else if let photo, let out {
            let started = Date()
            let (sharp, notes) = try PairSynthesizer.prepareSharp(photo: URL(fileURLWithPath: photo), width: width)
            let pair = PairSynthesizer.synthesize(sharp: sharp, seed: seed, threads: threading.threads)
            try pair.write(to: URL(fileURLWithPath: out), compression: compression)
            let m = pair.metadata
            print(String(format: "synth: %@ -> %@ (%dx%d, zoom %.4f, shift %.2f,%.2f px, rotation %.3f deg, max blur radius %.1f px) in %.1f s",
                         photo, out, m.width, m.height, m.transform.zoom, m.transform.shiftX, m.transform.shiftY,
                         m.transform.rotationDegrees, m.maxBlurRadius, Date().timeIntervalSince(started)))
            if !notes.isEmpty { print("synth: notes: \(notes.joined(separator: "; "))") }
            if let fraction = m.gtDetailRetained {
                DetailSummary.lines([(URL(fileURLWithPath: out).lastPathComponent, fraction)]).forEach { print($0) }
            }
        }
    }

    /// Bad input exits with one readable line instead of a Swift dump: 65 for an unreadable photo, 64 for a bad config.
    static func main() { mainReportingInputErrors([ImagingError.self, DatasetConfigError.self, ConfigError.self]) }
}
