import ArgumentParser
import Foundation
import Imaging
import Metrics

/// jdrl-eval, direct mode: scores one output image against one target and prints one JSON line
/// (see `ScoreCard.jsonLine`). Files keep their bit depth: a 16-bit PNG is scaled by 65535.
/// (The manifest mode, scoring checkpoints on a test split, comes with the model and training.)
@main
struct JDRLEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-eval",
        abstract: "Score a deblurred image against its target: PSNR, SSIM, MAE (and LPIPS with weights).")

    enum Window: String, ExpressibleByArgument, CaseIterable {
        case uniform, gaussian
    }

    @Option(help: "The image to score (PNG/TIFF/JPEG, 8 or 16 bit).")
    var output: String

    @Option(help: "The reference image (ground truth or deformed ground truth), same size as --output.")
    var target: String

    @Option(help: "LPIPS AlexNet weights as safetensors with the lpips package's names; without it LPIPS is reported as unavailable.")
    var lpipsWeights: String?

    @Option(help: "Pixels cropped from each side before scoring.")
    var border: Int = 0

    @Option(help: "SSIM window: uniform (7x7, skimage default, the reference convention) or gaussian (11x11, sigma 1.5).")
    var ssimWindow: Window = .uniform

    func validate() throws {
        guard border >= 0 else { throw ValidationError("--border must be 0 or more pixels.") }
    }

    func run() throws {
        do {
            let scored = try DirectEvaluation(outputPath: output, targetPath: target, border: border)
            let network = try lpipsWeights.map { try LPIPSNetwork(weightsAt: URL(fileURLWithPath: $0)) }
            let card = try ScoreCard(scored.pair, window: ssimWindow == .uniform ? .uniform : .gaussian, lpips: network)
            print(card.jsonLine(target: target))
        } catch let error as CustomStringConvertible where error is ImagingError || error is MetricsError
                    || error is SafetensorsError || error is DirectEvaluation.Failure {
            FileHandle.standardError.write(Data("jdrl-eval: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
