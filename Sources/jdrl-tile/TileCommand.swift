import ArgumentParser
import Foundation
import Imaging
import Manifest
import StageSupport
import Tiling

/// jdrl-tile: 512x512 patches from the manifest's captures (or from one pair in direct mode).
@main
struct TileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-tile",
        abstract: "Cut blurry / sharp captures into patches (SDD or DPDD protocol), bit depth kept, idempotent.",
        discussion: """
            Manifest mode: jdrl-tile --config configs/datasets/embedded.yaml
                           jdrl-tile --manifest M --out DIR [--protocol sdd --scale 0.5 --stride 256]
            Direct mode:   jdrl-tile --blurry B --sharp S --out DIR [--protocol sdd --scale 0.5 --stride 256]
            Options given on the command line override the config's tiling section.
            Exit status (shared by every stage, docs/commands.md): 0 done; 3 some captures could not be tiled \
            (each named); 64 bad call or config; 65 bad data (an unreadable image, a damaged manifest, or \
            --verify found rows and files that disagree).
            """)

    @OptionGroup var stage: StageOptions

    @Option(help: "Dataset config (manifest, patch folder and tiling section come from it).")
    var config: String?

    @Option(help: "Folder for patch files (manifest mode: default from --config).")
    var out: String?

    @Option(help: "Blurry image (direct mode).")
    var blurry: String?

    @Option(help: "Sharp image (direct mode).")
    var sharp: String?

    @Option(help: "sdd (resize, then grid) or dpdd (grid at full size plus right/bottom edge patches). Default: sdd.")
    var `protocol`: ProtocolChoice?

    @Option(help: "Patch side in pixels. Default 512.")
    var size: Int?

    @Option(help: "Resize factor before cutting (sdd protocol). Default 0.5.")
    var scale: Double?

    @Option(help: "Step between patches in pixels. Default: 256 (sdd) or 204 (dpdd).")
    var stride: Int?

    @Option(help: "Fraction of each capture's least sharp patches to drop. Default: 0 (sdd) or 0.3 (dpdd).")
    var dropLeastSharp: Double?

    @Option(help: "PNG zlib level 0-9. Default 1.")
    var compression: Int?

    @Flag(help: "Check instead of tiling: every kept patch row's files exist and every patch file on disk has a row (exit 65 if not).")
    var verify = false

    func validate() throws {
        let direct = blurry != nil || sharp != nil
        if direct && (blurry == nil || sharp == nil || out == nil) {
            throw ValidationError("Direct mode needs --blurry, --sharp and --out.")
        }
        if direct && config != nil { throw ValidationError("--config is for manifest mode; drop it or --blurry/--sharp.") }
        if !direct && config == nil && out == nil { throw ValidationError("Manifest mode needs --out (or --config).") }
        if let size, size < 8 { throw ValidationError("--size must be at least 8.") }
        if let scale, !(scale > 0 && scale <= 4) { throw ValidationError("--scale must be in (0, 4].") }
        if let stride, stride < 1 { throw ValidationError("--stride must be at least 1.") }
        if let dropLeastSharp, !(0..<1).contains(dropLeastSharp) { throw ValidationError("--drop-least-sharp must be in [0, 1).") }
        if let compression, !(0...9).contains(compression) { throw ValidationError("--compression must be 0-9.") }
    }

    func plan(from dataset: DatasetConfig?) -> TilingPlan {
        TilingPlan.defaults(for: `protocol`?.value ?? dataset?.tilingProtocol ?? .sdd, size: size ?? dataset?.tiling.size,
                            scale: scale ?? dataset?.tiling.scale, stride: stride ?? dataset?.tiling.stride,
                            dropLeastSharp: dropLeastSharp ?? dataset?.tiling.dropLeastSharp,
                            compression: compression ?? dataset?.tiling.compression)
    }

    func run() throws {
        if let blurry, let sharp, let out {
            try runDirect(blurry: URL(fileURLWithPath: blurry), sharp: URL(fileURLWithPath: sharp), out: URL(fileURLWithPath: out))
            return
        }
        let dataset = try config.map { try DatasetConfig.load(from: URL(fileURLWithPath: $0)) }
        let manifestPath = dataset?.manifest ?? stage.manifest
        let outFolder = URL(fileURLWithPath: out ?? dataset!.patches).standardizedFileURL
        if verify {
            let report = try PatchVerifier(manifest: try Manifest.open(path: manifestPath), out: outFolder).run()
            print(report.text)
            if !report.consistent { throw ExitCode(.badData) }
            return
        }
        let lock = try StageLock(StageLock.url(stage: "tile", manifest: manifestPath, shard: stage.shard), mode: .wait)
        defer { withExtendedLifetime(lock) {} }
        let stageRun = ManifestTiling(manifest: try Manifest.open(path: manifestPath), plan: plan(from: dataset), out: outFolder,
                                      shard: stage.shard, threads: stage.threads)
        if !(try stageRun.run()).isEmpty { throw ExitCode(.someItemsFailed) }
    }

    func runDirect(blurry: URL, sharp: URL, out: URL) throws {
        let plan = plan(from: nil)
        let started = Date()
        let tiler = CaptureTiler(plan: plan, threads: stage.threads)
        let (cuts, notes) = try tiler.tile(blurry: blurry, sharp: sharp) { origin, role in
            out.appendingPathComponent(role).appendingPathComponent("x\(origin.x)_y\(origin.y).png")
        }
        let kept = cuts.filter(\.kept).count
        print(String(format: "tile: %d patches written to %@ (%d dropped; %@) in %.2f s", kept, out.path, cuts.count - kept,
                     plan.description, Date().timeIntervalSince(started)))
        for note in notes { print("tile: note: \(note)") }
    }

    static func main() { mainReportingInputErrors([ImagingError.self, DatasetConfigError.self, ConfigError.self]) }
}

enum ProtocolChoice: String, ExpressibleByArgument, CaseIterable {
    case sdd, dpdd
    var value: TilingProtocol { TilingProtocol(rawValue: rawValue)! }
}
