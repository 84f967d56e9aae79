// jdrl-deblur: deblurs full-resolution images with a trained network (tiled, bounded memory).
// Thin: parse, validate, hand over to Evaluation.FullImageDeblurrer, map errors to exit codes.
import ArgumentParser
import Evaluation
import Foundation
import Imaging
import StageSupport
import Tensors

struct JDRLDeblur: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jdrl-deblur",
        abstract: "Deblur images of any size with a trained checkpoint (UNet, NAFNet, either with the blur-map prior), by overlapping tiles blended without seams.",
        discussion: """
            CKPT: a jdrl-train checkpoint folder (runs/NAME/checkpoints/step_N), a run folder (its newest checkpoint), \
            or a safetensors file with PyTorch names. The network (UNet or NAFNet, with or without the blur-map \
            prior) and its widths are read from the weights. \
            Outputs are PNG in the input's bit depth (8 or 16). Prints time and peak memory (VmHWM).
            Exit status (shared by every stage, docs/commands.md): 0 all done; 3 some inputs failed (each named); \
            64 bad call, or a precision this CPU does not have; 65 a missing or unusable checkpoint.
            """)

    @Option(help: "The checkpoint (folder or safetensors file).")
    var checkpoint: String

    @Argument(help: "Blurry images (PNG/TIFF/JPEG, 8 or 16 bit).")
    var inputs: [String]

    @Option(help: "Output file (one input).")
    var out: String?

    @Option(help: "Output folder (any number of inputs; each keeps its name, as .png).")
    var outDir: String?

    @OptionGroup var tiling: TileOptions

    @OptionGroup var threading: ThreadOptions

    func validate() throws {
        if (out == nil) == (outDir == nil) { throw ValidationError("Give --out FILE (one input) or --out-dir DIR, not both.") }
        if out != nil && inputs.count != 1 { throw ValidationError("--out takes one input; use --out-dir for \(inputs.count) inputs.") }
    }

    func run() throws {
        let started = Date()
        let decision: PrecisionDecision
        do { decision = try tiling.precision.decision() } catch {
            FileHandle.standardError.write(Data("jdrl-deblur: \(error)\n".utf8))
            throw ExitCode(.badCall)
        }
        let deblurrer: FullImageDeblurrer
        let source: DeblurCheckpoint
        do {
            source = try DeblurCheckpoint(path: checkpoint)
            deblurrer = try FullImageDeblurrer(checkpoint: source, tile: tiling.tile, overlap: tiling.overlap,
                                               precision: decision.precision, bf16OrF32: tiling.precision == .auto)
        } catch {
            FileHandle.standardError.write(Data("jdrl-deblur: \(error)\n".utf8))
            throw ExitCode(.badData)
        }
        print("jdrl-deblur: \(source.summary) from \(source.weightsURL.path); tiles \(deblurrer.tiling.tile) px, overlap \(deblurrer.tiling.overlap) px, \(deblurrer.precision)\(tiling.precision == .auto ? " (auto)" : "")")
        if tiling.precision == .auto {
            let fellBack = decision.precision != deblurrer.precision ? "; this network runs f32 only" : ""
            print("jdrl-deblur: \(decision.precision), \(decision.reason)\(fellBack)")
        }
        print("jdrl-deblur: \(Engine.shared.platform); oneDNN threads \(Engine.shared.threads)")
        var failures = 0
        for input in inputs {
            let destination = out.map { URL(fileURLWithPath: $0) }
                ?? URL(fileURLWithPath: outDir!).appendingPathComponent(URL(fileURLWithPath: input).deletingPathExtension().lastPathComponent + ".png")
            let itemStarted = Date()
            do {
                let image = try ImageFile.loadPlanar(URL(fileURLWithPath: input)).image
                let result = deblurrer.deblur(image)
                try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                try AtomicFile.write(to: destination) { try result.savePNG(to: $0) }
                print(String(format: "jdrl-deblur: %@ (%dx%d, %d-bit) -> %@ (%d-bit) in %.1f s", input, image.width, image.height,
                             image.bitDepth, destination.path, result.bitDepth, Date().timeIntervalSince(itemStarted)))
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("jdrl-deblur: \(error is ImagingError ? "" : input + ": ")\(error)\n".utf8))
            }
        }
        print(String(format: "jdrl-deblur: %d of %d images in %.1f s; %@", inputs.count - failures, inputs.count,
                     Date().timeIntervalSince(started), PeakMemory.describe()))
        for line in Engine.shared.implementationReport() { FileHandle.standardError.write(Data("jdrl-deblur: \(line)\n".utf8)) }
        if failures > 0 { throw ExitCode(.someItemsFailed) }
    }
}

JDRLDeblur.main()
