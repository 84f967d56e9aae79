import Foundation
import StageSupport

/// A dataset as `configs/datasets/*.yaml` describes it: where the pairs are, how they are laid out,
/// where the manifest and patches go, and how to tile. Paths are relative to the working directory
/// (the repository root when run from the Makefile). Unknown keys are rejected.
public struct DatasetConfig: Codable, Sendable, Equatable {
    public var name: String
    /// The dataset folder as the authors distribute it (e.g. the folder holding `train_patches/` and `test/`).
    public var root: String
    /// `sdd`, `dpdd`, `realdof`, `generic` or `auto` (detect from the folder); anything else is refused.
    public var layout: DatasetLayout
    public var manifest: String
    /// Where patch files are written.
    public var patches: String
    /// Largest blurry/sharp size difference (pixels per axis) accepted at ingest.
    public var sizeTolerance: Int
    public var tiling: Tiling
    /// Only for datasets this project makes itself (the embedded default).
    public var synthesis: Synthesis?
    /// Largest image header accepted at ingest, in megapixels (optional; jdrl-ingest's default when absent).
    public var maxMegapixels: Double?

    public struct Tiling: Codable, Sendable, Equatable {
        public var `protocol`: String
        public var size: Int
        /// Resize factor before cutting (SDD protocol; the DPDD protocol cuts at full size).
        public var scale: Double
        public var stride: Int
        /// Fraction of each capture's least sharp patches to drop (DPDD protocol: 0.3).
        public var dropLeastSharp: Double
        /// zlib level for patch PNGs (1: fast; files ~10% bigger than at 6).
        public var compression: Int

        enum CodingKeys: String, CodingKey {
            case `protocol`, size, scale, stride, dropLeastSharp = "drop_least_sharp", compression
        }
    }

    public struct Synthesis: Codable, Sendable, Equatable {
        /// Folder of sharp photos.
        public var photos: String
        /// Where each pair's full outputs (GT, aligned sharp, flows, blur map) go.
        public var pairs: String
        /// Capture width in pixels (height follows SDD's 4096:2160 frame).
        public var width: Int
        public var seed: UInt64
        /// Photo file names (without extension) that go to the test split; the rest are train.
        public var test: [String]
        /// Pairs synthesised from each train photo, each with its own seed (focus depth, blur,
        /// misalignment, illumination, noise); 1 = one pair per photo, named as the photo. More variants
        /// average the random illumination change out of what the network can learn (with 5 captures
        /// their mean brightness shift is a bias the network learns and the test captures do not share).
        public var trainVariants: Int
        /// The layout's GT is the exactly aligned sharp image instead of the misaligned second shot: a
        /// pretraining set, where the network learns deblurring alone, with nothing to warp (absent: false).
        public var alignedGT: Bool?

        /// Whether the GT in the layout is the aligned sharp image.
        public var writesAlignedGT: Bool { alignedGT ?? false }

        enum CodingKeys: String, CodingKey {
            case photos, pairs, width, seed, test
            case trainVariants = "train_variants"
            case alignedGT = "aligned_gt"
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, root, layout, manifest, patches, sizeTolerance = "size_tolerance", tiling, synthesis, maxMegapixels = "max_megapixels"
    }

    static let topKeys: Set<String> = ["name", "root", "layout", "manifest", "patches", "size_tolerance", "tiling", "synthesis", "max_megapixels"]
    static let tilingKeys: Set<String> = ["protocol", "size", "scale", "stride", "drop_least_sharp", "compression"]
    static let synthesisKeys: Set<String> = ["photos", "pairs", "width", "seed", "test", "train_variants", "aligned_gt"]

    public static func load(from url: URL) throws -> DatasetConfig {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DatasetConfigError(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        for (section, allowed) in [([String](), topKeys), (["tiling"], tilingKeys), (["synthesis"], synthesisKeys)] {
            let unknown = try YAMLConfig.unknownKeys(in: text, allowed: allowed, section: section, path: url.path)
            if !unknown.isEmpty {
                let place = section.isEmpty ? "top level" : "section '\(section[0])'"
                throw DatasetConfigError(path: url.path, reason: "unknown keys at \(place): \(unknown.joined(separator: ", "))")
            }
        }
        let config = try YAMLConfig.decode(DatasetConfig.self, from: text, path: url.path)
        if TilingProtocol(rawValue: config.tiling.protocol) == nil {
            throw DatasetConfigError(path: url.path, reason: "tiling.protocol '\(config.tiling.protocol)' is not sdd or dpdd")
        }
        return config
    }

    public var tilingProtocol: TilingProtocol { TilingProtocol(rawValue: tiling.protocol) ?? .sdd }
    public var fixedLayout: Layout? { layout.fixed }
}

/// How a dataset folder is laid out, as a config or `jdrl-ingest --layout` names it: one of the known
/// layouts, or `auto` (detected from the folder). A misspelt layout is refused, never read as auto.
public enum DatasetLayout: String, ConfigChoice {
    case auto, sdd, dpdd, realdof, generic

    /// The layout itself; nil for auto.
    public var fixed: Layout? { Layout(rawValue: rawValue) }
}

public struct DatasetConfigError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}
