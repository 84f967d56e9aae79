import Foundation
import Imaging
import Manifest
import StageSupport
import Synthesis

/// Builds a synthetic dataset in the SDD layout from a folder of photos:
///   <pairs>/<name>/            every output of the synthesiser (GT, aligned sharp, flows, blur map, synth.json)
///   <root>/train_patches/{blur,gt}/<name>.png   train captures (full size, tiled later; `train_variants`
///                                               per train photo: <photo>, <photo>-v2, ...)
///   <root>/test/{blur,gt}/<name>.png            test captures
/// With `synthesis.aligned_gt` the layout's GT is the pair's aligned sharp image (a pretraining set).
/// A pair whose folder is complete and whose layout files exist is skipped, so a second run does nothing.
public struct EmbeddedDataset {
    public let config: DatasetConfig
    public let threads: Int
    public let compression: Int

    public init(config: DatasetConfig, threads: Int, compression: Int = 1) {
        self.config = config
        self.threads = threads
        self.compression = compression
    }

    static let photoExtensions: Set<String> = ["jpg", "jpeg", "png", "tif", "tiff"]

    public func build() throws {
        guard let synthesis = config.synthesis else {
            throw DatasetConfigError(path: config.name, reason: "no `synthesis` section: this dataset is not synthesised")
        }
        let photosFolder = URL(fileURLWithPath: synthesis.photos)
        let photos = try FileManager.default.contentsOfDirectory(at: photosFolder, includingPropertiesForKeys: nil)
            .filter { Self.photoExtensions.contains($0.pathExtension.lowercased()) }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !photos.isEmpty else { throw DatasetConfigError(path: photosFolder.path, reason: "no photos found") }
        let unknownTest = Set(synthesis.test).subtracting(photos.map { $0.deletingPathExtension().lastPathComponent })
        if !unknownTest.isEmpty {
            throw DatasetConfigError(path: config.name, reason: "synthesis.test names photos that do not exist: \(unknownTest.sorted().joined(separator: ", "))")
        }

        let root = URL(fileURLWithPath: config.root)
        // Test photos give one pair each; train photos `train_variants` pairs (`NAME`, `NAME-v2`, ...).
        let jobs: [(photo: URL, name: String, isTest: Bool)] = photos.flatMap { photo -> [(photo: URL, name: String, isTest: Bool)] in
            let base = photo.deletingPathExtension().lastPathComponent
            let isTest = synthesis.test.contains(base)
            let count = isTest ? 1 : max(synthesis.trainVariants, 1)
            return (1...count).map { (photo, $0 == 1 ? base : "\(base)-v\($0)", isTest) }
        }
        let progress = Progress(label: "synth", total: jobs.count)
        var made = 0
        var kept: [(name: String, fraction: Double)] = []
        var prepared: (url: URL, image: PlanarImage)?
        for (photo, name, isTest) in jobs {
            let splitFolder = root.appendingPathComponent(isTest ? "test" : "train_patches")
            let blurTarget = splitFolder.appendingPathComponent("blur/\(name).png")
            let gtTarget = splitFolder.appendingPathComponent("gt/\(name).png")
            let pairFolder = URL(fileURLWithPath: synthesis.pairs).appendingPathComponent(name)
            let complete = Self.isCurrent(pairFolder: pairFolder)
                && FileManager.default.fileExists(atPath: blurTarget.path) && FileManager.default.fileExists(atPath: gtTarget.path)
            if !complete {
                // Seed per pair from its name: adding a photo or a variant does not change the others' pairs.
                let seed = synthesis.seed ^ Shard.fnv1a(name)
                if prepared?.url != photo { prepared = (photo, try PairSynthesizer.prepareSharp(photo: photo, width: synthesis.width).image) }
                let pair = PairSynthesizer.synthesize(sharp: prepared!.image, seed: seed, threads: threads)
                // `write` puts the metadata file last; removing it first means a killed run is redone.
                try? FileManager.default.removeItem(at: pairFolder.appendingPathComponent(SyntheticPair.FileName.metadata))
                try pair.write(to: pairFolder, compression: compression)
                try AtomicFile.write(to: blurTarget) { try copy(pairFolder.appendingPathComponent(SyntheticPair.FileName.blurry), to: $0) }
                let gtFile = synthesis.writesAlignedGT ? SyntheticPair.FileName.alignedSharp : SyntheticPair.FileName.gt
                try AtomicFile.write(to: gtTarget) { try copy(pairFolder.appendingPathComponent(gtFile), to: $0) }
                made += 1
            }
            if let fraction = DetailSummary.recorded(in: pairFolder) { kept.append((name, fraction)) }
            progress.advance()
        }
        progress.finish()
        DetailSummary.lines(kept).forEach { print($0) }
        if made == 0 {
            print("synth: nothing to do (\(jobs.count) pairs already in \(root.path))")
        } else {
            print("synth: made \(made) pairs, \(jobs.count - made) already present; dataset in \(root.path)")
        }
    }

    /// The folder is complete (its metadata file is written last) and was made by this synthesiser's format.
    static func isCurrent(pairFolder: URL) -> Bool {
        guard let data = FileManager.default.contents(atPath: pairFolder.appendingPathComponent(SyntheticPair.FileName.metadata).path),
              let metadata = try? JSONDecoder().decode(SynthesisMetadata.self, from: data) else { return false }
        return metadata.format == SynthesisMetadata.currentFormat
    }

    private func copy(_ source: URL, to destination: URL) throws {
        try? FileManager.default.removeItem(at: destination)
        try FileManager.default.copyItem(at: source, to: destination)
    }
}
