import ArgumentParser
import Foundation
import Imaging
import Ingest
import Manifest
import StageSupport

/// jdrl-ingest: registers blurry / sharp pairs in the manifest, validating each one.
/// Exit status (the shared table, StageSupport.ExitStatus): 0 all pairs ok, 3 some pairs rejected (each named
/// with its reason), 64 bad call or config, 65 a missing folder or a damaged manifest.
@main
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-ingest",
        abstract: "Register blurry / all-in-focus pairs in the manifest (validated, hashed, idempotent).",
        discussion: """
            Layouts: sdd (train_patches/{blur,gt}, test/{blur,gt}), dpdd ({train,val,test}_c/{source,target}),
            realdof (source/, target/), generic (a folder of NAME_blur.EXT / NAME_sharp.EXT pairs).
            Examples:
              jdrl-ingest my-captures/ --manifest data-manifests/mine.sqlite
              jdrl-ingest --config configs/datasets/embedded.yaml
            Exit status (shared by every stage, docs/commands.md): 0 every pair ok; 3 some pairs rejected \
            (listed with reasons); 64 bad call or config; 65 a missing folder or a damaged manifest.
            """)

    @Argument(help: "The dataset folder (or give --config).")
    var folder: String?

    @OptionGroup var stage: StageOptions

    @Option(help: "Dataset config (root, layout, manifest and size tolerance come from it).")
    var config: String?

    @Option(help: "Layout of the folder: auto, sdd, dpdd, realdof, generic.")
    var layout: DatasetLayout = .auto

    @Option(help: "Split for pairs of a generic folder: train, val or test.")
    var split: SplitChoice = .train

    @Option(help: "Largest blurry/sharp size difference accepted, in pixels per axis.")
    var sizeTolerance: Int = 4

    @Option(help: "Largest image accepted, in megapixels: a bigger header (e.g. a decompression bomb) is refused before decoding. Default: the dataset config's max_megapixels, else 200.")
    var maxMegapixels: Double?

    func validate() throws {
        if (folder == nil) == (config == nil) { throw ValidationError("Give a FOLDER or --config, not both.") }
        if sizeTolerance < 0 { throw ValidationError("--size-tolerance must be 0 or more.") }
        if let maxMegapixels, !(maxMegapixels > 0) { throw ValidationError("--max-megapixels must be more than 0.") }
    }

    func run() throws {
        var root = folder.map { URL(fileURLWithPath: $0) }
        var manifestPath = stage.manifest
        var tolerance = sizeTolerance
        var layoutChoice = layout
        var megapixels = maxMegapixels
        if let config {
            let dataset = try DatasetConfig.load(from: URL(fileURLWithPath: config))
            root = URL(fileURLWithPath: dataset.root)
            manifestPath = dataset.manifest
            tolerance = dataset.sizeTolerance
            layoutChoice = dataset.layout
            megapixels = megapixels ?? dataset.maxMegapixels
        }
        let pixelLimit = megapixels.map { Int($0 * 1e6) } ?? PairValidator.defaultPixelLimit
        guard let root = root?.standardizedFileURL else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StageFailure("\(root.path): no such folder")
        }
        let resolvedLayout = layoutChoice.fixed ?? LayoutScanner.detect(root)
        let lock = try StageLock(StageLock.url(stage: "ingest", manifest: manifestPath, shard: stage.shard), mode: .wait)
        defer { withExtendedLifetime(lock) {} }
        let manifest = try Manifest.open(path: manifestPath)
        let report = try Ingestion(manifest: manifest, root: root, layout: resolvedLayout, genericSplit: split.split,
                                   sizeTolerance: tolerance, shard: stage.shard, threads: stage.threads, pixelLimit: pixelLimit).run()
        print(report.summary(root: root.path, layout: resolvedLayout, manifest: manifestPath))
        if !report.rejected.isEmpty { throw ExitCode(.someItemsFailed) }
    }

    static func main() { mainReportingInputErrors([StageFailure.self, DatasetConfigError.self, ConfigError.self]) }
}

struct StageFailure: InputError {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension DatasetLayout: ExpressibleByArgument {}

enum SplitChoice: String, ExpressibleByArgument, CaseIterable {
    case train, val, test
    var split: Split { Split(rawValue: rawValue)! }
}
