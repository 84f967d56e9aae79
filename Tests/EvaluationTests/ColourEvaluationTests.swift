import Evaluation
import Foundation
import GRDB
import Imaging
import Manifest
import Testing

/// jdrl-eval reports each image's mean colour error and a colour-corrected PSNR beside the plain scores.
@Suite struct ColourEvaluationTests {
    @Test func aTintedBlurryInputShowsItsColourErrorInRowsTableAndReport() throws {
        let root = try TinyData.folder("colour")
        defer { try? FileManager.default.removeItem(at: root) }
        // Given a test pair whose blurry shot is tinted (R +0.04, B -0.03) besides shifted and blurred,
        let captures = root.appendingPathComponent("captures")
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
        let sharp = TinyData.scene(width: 96, height: 80)
        var blurry = TinyData.scene(width: 96, height: 80, dx: 1.5, dy: -1, blurPasses: 2)
        let plane = blurry.planeSize
        for i in 0..<plane { blurry.pixels[i] += 0.04; blurry.pixels[2 * plane + i] -= 0.03 }
        blurry.quantizeToBitDepth()
        let blurryURL = captures.appendingPathComponent("tint_blur.png"), sharpURL = captures.appendingPathComponent("tint_sharp.png")
        try blurry.savePNG(to: blurryURL)
        try sharp.savePNG(to: sharpURL)
        let manifest = try Manifest.open(path: root.appendingPathComponent("m.sqlite").path)
        _ = try manifest.register(Capture(root: captures.path, name: "tint", split: .test, layout: .generic,
                                          blurryPath: blurryURL.path, sharpPath: sharpURL.path, width: 96, height: 80, bitDepth: 8,
                                          blurryHash: try ContentHash.of(fileAt: blurryURL), sharpHash: try ContentHash.of(fileAt: sharpURL),
                                          status: .ok))
        // when the blurry input is scored,
        let settings = EvaluationSettings(split: .test)
        let report = ReportWriter(folder: root.appendingPathComponent("report"), cropSide: 32)
        let outcome = try ManifestEvaluator(manifest: manifest, settings: settings, report: report, log: { _ in }).run(methods: [.blurryInput])
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        // then each row holds the per-channel mean error, equal to a direct computation against the GT,
        let rows = try manifest.reader.read { try Evaluation.fetchAll($0) }
        let gtRow = try #require(rows.first { $0.target == .gt })
        let loadedBlurry = try ImageFile.loadPlanar(blurryURL).image, loadedSharp = try ImageFile.loadPlanar(sharpURL).image
        for (c, stored) in [gtRow.colourErrorR, gtRow.colourErrorG, gtRow.colourErrorB].enumerated() {
            var sum = 0.0
            for i in (c * plane)..<((c + 1) * plane) { sum += Double(loadedBlurry.pixels[i]) - Double(loadedSharp.pixels[i]) }
            #expect(abs((stored ?? .nan) - sum / Double(plane)) < 1e-9)
        }
        #expect(abs((gtRow.largestColourError ?? 0) - 0.04) < 0.006)
        for row in rows {
            // the colour-corrected PSNR is a separate, higher number; the plain PSNR is untouched.
            let corrected = try #require(row.psnrColourCorrected)
            #expect(corrected > row.psnr + (row.target == .gt ? 0.1 : 1), "\(row.target): \(corrected) vs \(row.psnr)")
        }
        // and the table, the CSVs and the page say it.
        let table = try ResultsTable(manifest: manifest, captures: outcome.captures, methods: [.blurryInput], settings: settings)
        let means = try #require(table.lines.first?.deformedGT)
        let deformedRow = try #require(rows.first { $0.target == .deformedGt })
        #expect(means.colourError == deformedRow.largestColourError && means.psnrColourCorrected == deformedRow.psnrColourCorrected)
        let markdown = table.markdown(title: "t")
        #expect(markdown.contains("colour error (GT)") && markdown.contains("PSNR colour-corrected (deformed GT)"))
        #expect(markdown.contains("| tint | blurry input | gt | "), "\(markdown)")
        try report.write(table: table, methods: [.blurryInput], captures: outcome.captures, title: "t")
        let csv = try String(contentsOf: report.folder.appendingPathComponent("results.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("method,") && csv.contains(",colour_error_gt,psnr_colour_corrected_gt,"))
        let header = csv.split(separator: "\n")[0].split(separator: ",", omittingEmptySubsequences: false)
        let values = csv.split(separator: "\n")[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(header.count == values.count)
        let perImage = try String(contentsOf: report.folder.appendingPathComponent("per_image.csv"), encoding: .utf8)
        #expect(perImage.split(separator: "\n").count == 3 && perImage.contains("tint,blurry input,,test,gt,"))
        let html = try String(contentsOf: report.folder.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("PSNR colour-corrected (GT)") && html.contains("colour error (R / G / B)"))
    }
}
