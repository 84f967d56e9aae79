import ArgumentParser
import Evaluation
import Foundation
import Imaging
import Manifest
import Metrics
import StageSupport

/// jdrl-eval has two modes.
/// Direct: scores one output image against one target and prints one JSON line (see
/// `ScoreCard.jsonLine`). Files keep their bit depth: a 16-bit PNG is scaled by 65535.
/// Manifest: deblurs each capture of a split with each checkpoint (full resolution, tiled), scores it
/// and the blurry input against the GT and the deformed GT, stores rows in `evaluations` and writes
/// the results table (Markdown, CSV) and an HTML report (`Evaluation.ManifestEvaluationRun`).
@main
struct JDRLEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-eval",
        abstract: "Score deblurred images: PSNR, SSIM, MAE (and LPIPS with weights), one pair or a whole test split.",
        discussion: """
            Direct mode:   jdrl-eval --output O.png --target T.png
            Manifest mode: jdrl-eval --checkpoint CKPT [--checkpoint CKPT2 ...] --manifest M --split test [--report DIR]
                           (--latest-checkpoints adds each training run's newest checkpoint; the blurry input is always a row)
            Exit status (shared by every stage, docs/commands.md): 0 done (or nothing new); 3 some items failed \
            (each named, the others scored); 64 bad call, or a precision this CPU does not have; 65 bad data \
            (a missing or damaged manifest, an unreadable image or checkpoint); 1 another error.
            """)

    @Option(help: "Direct mode: the image to score (PNG/TIFF/JPEG, 8 or 16 bit).")
    var output: String?

    @Option(help: "Direct mode: the reference image (ground truth or deformed ground truth), same size as --output.")
    var target: String?

    @Option(help: "LPIPS AlexNet weights as safetensors with the lpips package's names; without it LPIPS is reported as unavailable.")
    var lpipsWeights: String?

    @Option(help: "Pixels cropped from each side before scoring.")
    var border: Int = 0

    @Option(help: "SSIM window: uniform (7x7, skimage default, the reference convention) or gaussian (11x11, sigma 1.5). Manifest mode uses uniform.")
    var ssimWindow: SSIMWindow = .uniform

    @OptionGroup var manifestMode: ManifestModeOptions

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        guard border >= 0 else { throw ValidationError("--border must be 0 or more pixels.") }
        if manifestMode.manifest != nil {
            guard output == nil && target == nil else { throw ValidationError("Give --manifest (manifest mode) or --output/--target (direct mode), not both.") }
            try manifestMode.check()
        } else {
            guard output != nil && target != nil else {
                throw ValidationError("Give --output O.png --target T.png (direct mode) or --manifest M --split test (manifest mode).")
            }
        }
    }

    func run() throws {
        if manifestMode.manifest != nil {
            throw ExitCode(ManifestEvaluationRun.run(manifestMode.request(lpipsWeights: lpipsWeights, border: border)))
        }
        guard let output, let target else { return }
        do {
            let scored = try DirectEvaluation(outputPath: output, targetPath: target, border: border)
            let network = try lpipsWeights.map { try LPIPSNetwork(weightsAt: URL(fileURLWithPath: $0)) }
            let card = try ScoreCard(scored.pair, window: ssimWindow, lpips: network)
            print(card.jsonLine(target: target))
        } catch let error as CustomStringConvertible where error is ImagingError || error is MetricsError
                    || error is SafetensorsError || error is DirectEvaluation.Failure {
            FileHandle.standardError.write(Data("jdrl-eval: \(error.description)\n".utf8))
            throw ExitCode(.badData)
        }
    }
}

extension SSIMWindow: ExpressibleByArgument {}
