import ArgumentParser
import Flow
import FlowStage
import Foundation
import Imaging
import StageSupport

/// `--mask-mode`, spelt as configs spell it (`colour_wheel`, ...).
struct MaskModeOption: ExpressibleByArgument {
    var mode: MaskMode

    init(_ mode: MaskMode) { self.mode = mode }

    init?(argument: String) {
        guard let mode = MaskMode.allCases.first(where: { $0.configName == argument }) else { return nil }
        self.mode = mode
    }

    var defaultValueDescription: String { mode.configName }
    static var allValueStrings: [String] { MaskMode.allCases.map(\.configName) }
}

/// jdrl-flow: misalignment between blurry and sharp images as dense flow, masks and statistics.
/// Direct mode: one pair (--from/--to/--out). Manifest mode (no --from): every patch (or, with
/// --captures, every full capture) of the manifest, both directions, idempotent and resumable.
/// Flow convention everywhere: A(p) matches B(p + flow(p)); backward-warping B by it gives A's frame.
@main
struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-flow",
        abstract: "Estimate the flow that backward-warps one image into another's frame (A(p) matches B(p + flow(p))).",
        discussion: """
            Exit status (shared by every stage, docs/commands.md): 0 done; 3 some manifest items failed \
            (each named, the others done); 64 bad call; 65 an input image missing, unreadable or unusable, \
            or a damaged manifest (named).
            """)

    @OptionGroup var stage: StageOptions

    @Option(help: "Direct mode: image A (e.g. the blurry image); the flow lives on A's pixels.")
    var from: String?
    @Option(help: "Direct mode: image B (e.g. the sharp image), sampled at p + flow(p).")
    var to: String?
    @Option(help: "Direct mode: the Middlebury .flo file to write.")
    var out: String?
    @Option(help: "Direct mode: also write the calibration mask (8-bit PNG, 255 = kept).")
    var mask: String?
    @Option(help: "Calibration mask: magnitude, colour_wheel or forward_backward.")
    var maskMode = MaskModeOption(.referenceColorWheel)
    @Option(help: "Direct mode: also write the Middlebury colour-wheel rendering of the flow (PNG).")
    var visualise: String?

    @Option(help: "Manifest mode: where flows and masks are written (default: work-data/flows/<manifest name>).")
    var outputDirectory: String?
    @Flag(help: "Manifest mode: flows of full captures instead of patches.")
    var captures = false

    func validate() throws {
        if from != nil || to != nil || out != nil {
            guard from != nil, to != nil, out != nil else {
                throw ValidationError("Direct mode needs all of --from, --to and --out.")
            }
        }
    }

    func run() throws {
        let workers = stage.threads
        if let from, let to, let out {
            try runDirect(from: from, to: to, out: out, workers: workers)
        } else {
            let lock = try StageLock(StageLock.url(stage: "flow", manifest: stage.manifest, shard: stage.shard), mode: .wait)
            defer { withExtendedLifetime(lock) {} }
            let folder = outputDirectory.map { URL(fileURLWithPath: $0) } ?? ManifestFlows.defaultOutputDirectory(forManifest: stage.manifest)
            let failures = try ManifestFlows(manifestPath: stage.manifest, shard: stage.shard, threads: stage.threads,
                                             outputDirectory: folder,
                                             maskMode: maskMode.mode, fullCaptures: captures).run()
            if failures > 0 { throw ExitCode(.someItemsFailed) }
        }
    }

    private func runDirect(from: String, to: String, out: String, workers: Int) throws {
        let a = try ImageFile.loadPlanar(URL(fileURLWithPath: from)).image
        let b = try ImageFile.loadPlanar(URL(fileURLWithPath: to)).image
        let alignment = PairAlignment(maskMode: maskMode.mode, workers: workers)
        let forward: FlowEstimate, backward: FlowEstimate?
        if maskMode.mode == .forwardBackward && mask != nil {
            let both = try alignment.flows(a, b)
            (forward, backward) = (both.forward, both.backward)
        } else {
            forward = try alignment.forwardFlow(a, b)
            backward = nil
        }
        try FlowFile.write(forward.flow, to: URL(fileURLWithPath: out))
        if let mask {
            let image = try alignment.mask(of: forward.flow, other: backward?.flow)
            try image.savePNG(to: URL(fileURLWithPath: mask))
        }
        if let visualise { try ColorWheel.render(forward.flow).savePNG(to: URL(fileURLWithPath: visualise)) }
        let m = forward.motion
        // Photometric alignment next to the geometry: a ~ gain * warp(b) + offset per channel (low-pass fit).
        let colour = a.channels == b.channels
            ? "\(try alignment.colourFit(a, b, forward: forward.flow, mask: nil).transform)"
            : "n/a (\(a.channels) vs \(b.channels) channels)"
        print(String(format: "%@ -> %@: zoom %.5f, shift (%.3f, %.3f) px, rotation %.4f deg, residual %.3f px, ECC %.4f; colour %@",
                     from, to, m.zoom, m.shiftX, m.shiftY, m.rotationDegrees, forward.residualMeanPixels, forward.correlation,
                     colour))
    }

    /// A missing or unreadable image, or a pair flow cannot use, exits 65 (bad data) with one line naming the problem.
    static func main() { mainReportingInputErrors([ImagingError.self, FlowError.self, ColourFitError.self]) }
}
