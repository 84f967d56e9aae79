import Evaluation
import Foundation
import GRDB
import Imaging
import Manifest
import Metrics
import Synthesis
import Testing

/// make benchmark's question "does the model help?": a synthesised capture found in the pairs folder
/// is also scored against its aligned sharp image (whole and defocused region), the gain table puts
/// each model against the blurry input, and a model worse than its input is named in plain words.
@Suite struct InputGainTests {
    @Test func synthesisedCapturesGetAlignedSharpRowsAndAGainTable() throws {
        // Given one synthesised pair in jdrl-synth's layout, registered as a test capture
        let root = try TinyData.folder("gain")
        defer { try? FileManager.default.removeItem(at: root) }
        let pairs = root.appendingPathComponent("pairs"), captures = root.appendingPathComponent("captures")
        var parameters = SynthesisParameters()
        parameters.maxBlurRadiusFraction = 0.03
        let pair = PairSynthesizer.synthesize(sharp: TinyData.scene(width: 96, height: 80), seed: 5, parameters: parameters, threads: 2)
        try pair.write(to: pairs.appendingPathComponent("syn"))
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
        let blurry = captures.appendingPathComponent("syn.png"), sharp = captures.appendingPathComponent("syn_gt.png")
        try FileManager.default.copyItem(at: pairs.appendingPathComponent("syn/blurry.png"), to: blurry)
        try FileManager.default.copyItem(at: pairs.appendingPathComponent("syn/gt.png"), to: sharp)
        let manifest = try Manifest.open(path: root.appendingPathComponent("m.sqlite").path)
        _ = try manifest.register(Capture(root: captures.path, name: "syn.png", split: .test, layout: .sdd, blurryPath: blurry.path,
                                          sharpPath: sharp.path, width: 96, height: 80, bitDepth: 8,
                                          blurryHash: try ContentHash.of(fileAt: blurry), sharpHash: try ContentHash.of(fileAt: sharp), status: .ok))
        // and a random (untrained, sigmoid) checkpoint, which is certainly worse than the input
        let checkpoint = try DeblurCheckpoint(path: try TinyData.checkpoint(in: root.appendingPathComponent("runs")).path)
        var settings = EvaluationSettings(split: .test)
        settings.tile = 32
        settings.overlap = 8
        settings.pairs = pairs
        let methods: [EvaluatedMethod] = [.blurryInput, .checkpoint(checkpoint)]

        // When both are scored
        let outcome = try ManifestEvaluator(manifest: manifest, settings: settings, report: nil, log: { _ in }).run(methods: methods)
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")

        // Then each has rows against the aligned sharp image, whole and on the defocused region
        let rows = try manifest.reader.read { db in try Evaluation.fetchAll(db) }
        #expect(rows.count == 8)
        let input = try #require(rows.first { $0.method == "blurry_input" && $0.target == .alignedSharp })
        let loadedBlurry = try ImageFile.loadPlanar(blurry).image, loadedSharp = try ImageFile.loadPlanar(pairs.appendingPathComponent("syn/sharp_aligned.png")).image
        let direct = try ImagePair(output: loadedBlurry, target: loadedSharp)
        #expect(abs(input.psnr - direct.psnr().value) < 1e-9, "the whole-image row is the plain PSNR vs sharp_aligned.png")
        let region = PixelRegion(width: 96, height: 80, inside: pair.blurRadius.map { $0 > 1 }, name: "r")
        #expect(region.pixelCount > 0 && region.pixelCount < 96 * 80, "the scene must be partly defocused")
        let regional = try #require(rows.first { $0.method == "blurry_input" && $0.target == .alignedSharpDefocused })
        #expect(abs(regional.psnr - (try direct.scores(in: region))!.psnr) < 1e-3, "the region is blur radius > 1 px of blur_radius.png")
        // Every row says how far its image sits from the input: exactly 0 for the input, measured for the model.
        #expect(rows.filter { $0.method == "blurry_input" }.allSatisfy { $0.shiftToInputPx == 0 })
        #expect(rows.filter { $0.method != "blurry_input" }.allSatisfy { ($0.shiftToInputPx ?? -1) >= 0 })

        // and the gain table says the random model is worse, in plain words
        let table = try ResultsTable(manifest: manifest, captures: outcome.captures, methods: methods, settings: settings)
        let gains = table.gains
        #expect(gains.wholeTarget == "aligned sharp image")
        let gain = try #require(gains.gains.first)
        #expect(try #require(gain.psnr) < 0 && gain.regionPSNR != nil)
        #expect(gains.warnings.count == 1 && gains.warnings[0].contains("tiny step 2 makes the images worse than the blurry input"))
        let markdown = table.markdown(title: "t")
        #expect(markdown.contains("Gain over the blurry input") && markdown.contains("| blurry input | ") && markdown.contains("worse than the input"))
        #expect(table.csv().contains("delta_psnr_defocused"))

        // and each method has one row of sums per blur-radius band, which add up to the whole image
        let bands = try manifest.evaluationBands(captureIDs: outcome.captures.compactMap(\.id))
        #expect(bands.count == 2 * BlurBand.allCases.count)
        let inputBands = bands.filter { $0.method == "blurry_input" }
        #expect(inputBands.map(\.pixels).reduce(0, +) == 96 * 80 && Set(inputBands.map(\.band)) == Set(BlurBand.allCases))
        let radiusFile = try ImageFile.loadPlanar(pairs.appendingPathComponent("syn/blur_radius.png")).image
        let radii = radiusFile.pixels[0..<(96 * 80)].map { $0 * Float(65535 / pair.metadata.radiusScale) }
        let bandCounts = PixelLabels(width: 96, height: 80, classes: 3, labels: radii.map { Int8(BlurBand.of(radius: $0).index) }).pixelCounts
        #expect(BlurBand.allCases.map { band in inputBands.first { $0.band == band }!.pixels } == bandCounts, "the bands of blur_radius.png")
        let squared = inputBands.map(\.squaredError).reduce(0, +)
        #expect(abs(squared / Double(96 * 80 * 3) - direct.psnr().meanSquaredError) < 1e-12, "the bands' squared errors are the image's")
        // The defocused bands pooled are the defocused region's PSNR.
        let defocusedBands = inputBands.filter { $0.band != .inFocus }
        let pooled = try #require(PooledPSNR.value(squaredError: defocusedBands.map(\.squaredError).reduce(0, +),
                                                   samples: defocusedBands.map { $0.pixels * 3 }.reduce(0, +)))
        #expect(abs(pooled - regional.psnr) < 1e-3)
        // Detail sums: the aligned sharp image's, the same for every method; the input's own below it on the blurred bands.
        let sharpDetail = inputBands.map(\.hfSharp)
        #expect(bands.filter { $0.method == "checkpoint" }.sorted { $0.band.index < $1.band.index }.map(\.hfSharp)
                == BlurBand.allCases.map { band in inputBands.first { $0.band == band }!.hfSharp })
        #expect(sharpDetail.allSatisfy { $0 >= 0 } && inputBands.first { $0.band == .inFocus }!.hfSharp > 0)
        #expect(table.bands.rows.count == 2 && table.bands.rows[1].compared == 1 && table.bands.rows[1].worse == 1)
        #expect(markdown.contains("### By blur radius") && markdown.contains("| tiny step 2 | 1 | "), "\(markdown)")
        #expect(table.csv().split(separator: "\n")[0].hasSuffix("colour_worst_excess,colour_worst_image"))
        #expect(table.csv().split(separator: "\n").allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count
                    == table.csv().split(separator: "\n")[0].split(separator: ",").count })
    }

    @Test func withoutABlurMapTheRegionIsNotAvailable() throws {
        let lines = [ResultsTable.Line(label: "blurry input", checkpointPath: nil,
                                       gt: .init(psnr: 20, ssim: 0.5, mae: 0.1, lpips: nil, images: 1),
                                       deformedGT: .init(psnr: 25, ssim: 0.7, mae: 0.05, lpips: nil, images: 1)),
                     ResultsTable.Line(label: "model", checkpointPath: "/m",
                                       gt: .init(psnr: 21, ssim: 0.6, mae: 0.1, lpips: nil, images: 1),
                                       deformedGT: .init(psnr: 26.5, ssim: 0.75, mae: 0.04, lpips: nil, images: 1))]
        let gains = InputGainTable(lines: lines)
        #expect(gains.wholeTarget == "deformed GT")
        #expect(gains.gains == [.init(label: "model", psnr: 1.5, ssim: 0.75 - 0.7, regionPSNR: nil, regionSSIM: nil)])
        #expect(gains.warnings.isEmpty)
        #expect(gains.markdown.contains("| +1.50 | ") && gains.markdown.contains("| n/a |") && gains.markdown.contains("helps"))
    }
}
