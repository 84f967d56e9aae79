import Evaluation
import Foundation
import Manifest
import Testing

/// The band table from hand-built stored rows with known answers: pooled PSNR per band and its gain,
/// detail medians, the scarce-detail cells, helps on N of M and the colour criterion.
@Suite struct BlurBandTableTests {
    static func band(_ method: String, _ path: String?, image: Int64, _ band: BlurBand, pixels: Int, error: Double,
                     hfPixels: Int = 2000, scored: Double = 0, sharp: Double = 10) -> EvaluationBandScore {
        EvaluationBandScore(method: method, checkpointPath: path, captureId: image, imageName: "img\(image)", split: "test", band: band,
                            pixels: pixels, channels: 3, squaredError: error, hfPixels: hfPixels, hfScored: scored, hfSharp: sharp)
    }

    static func score(_ method: String, _ path: String?, image: Int64, psnr: Double, ssim: Double, colour: [Double]) -> Evaluation {
        Evaluation(method: method, checkpointPath: path, captureId: image, imageName: "img\(image)", split: "test", target: .alignedSharp,
                   bitDepth: 8, psnr: psnr, ssim: ssim, mae: 0.01, colourError: colour)
    }

    @Test func poolsPerBandAndJudgesEachModelAgainstItsInput() throws {
        let input = [
            Self.band("blurry_input", nil, image: 1, .inFocus, pixels: 100, error: 0.03, scored: 9.6),
            Self.band("blurry_input", nil, image: 2, .inFocus, pixels: 300, error: 0.9, scored: 3),
            Self.band("blurry_input", nil, image: 1, .moderate, pixels: 50, error: 0.1, hfPixels: 500, scored: 2),
            Self.band("blurry_input", nil, image: 1, .strong, pixels: 0, error: 0, hfPixels: 0, scored: 0, sharp: 0),
        ]
        let model = [
            Self.band("checkpoint", "/m", image: 1, .inFocus, pixels: 100, error: 0.06, scored: 8.8),
            Self.band("checkpoint", "/m", image: 2, .inFocus, pixels: 300, error: 0.45, scored: 7),
            Self.band("checkpoint", "/m", image: 1, .moderate, pixels: 50, error: 0.05, hfPixels: 500, scored: 4),
            Self.band("checkpoint", "/m", image: 1, .strong, pixels: 0, error: 0, hfPixels: 0, scored: 0, sharp: 0),
        ]
        let images = [
            [Self.score("blurry_input", nil, image: 1, psnr: 30, ssim: 0.8, colour: [0.002, -0.001, 0]),
             Self.score("blurry_input", nil, image: 2, psnr: 25, ssim: 0.7, colour: [0.01, 0, 0])],
            [Self.score("checkpoint", "/m", image: 1, psnr: 31, ssim: 0.81, colour: [0.0025, -0.001, 0.0004]),
             Self.score("checkpoint", "/m", image: 2, psnr: 24, ssim: 0.69, colour: [0, 0.003, 0])],
        ]
        let lines = [ResultsTable.Line(label: "blurry input", checkpointPath: nil, gt: nil, deformedGT: nil),
                     ResultsTable.Line(label: "model", checkpointPath: "/m", gt: nil, deformedGT: nil)]
        let table = BlurBandTable(lines: lines, bandRows: [input, model], imageRows: images, wholeTarget: "aligned sharp image")
        #expect(!table.isEmpty && table.rows.count == 2)
        let reference = table.rows[0], row = table.rows[1]

        // Pooled: squared errors over both images, divided once by all their samples (400 pixels x 3 channels).
        let inFocus = row.band(.inFocus), inputInFocus = reference.band(.inFocus)
        #expect(abs(try #require(inputInFocus.psnr) - 10 * log10(1200 / 0.93)) < 1e-9)
        #expect(abs(try #require(inFocus.psnr) - 10 * log10(1200 / 0.51)) < 1e-9)
        #expect(abs(try #require(inFocus.gain) - 10 * log10(0.93 / 0.51)) < 1e-9)
        #expect(inputInFocus.gain == nil && inFocus.pixels == 400)
        // Detail: the median of two images is their mean; the input's over the same images beside it.
        let detail = try #require(inFocus.detail), inputDetail = try #require(inFocus.inputDetail)
        #expect(abs(detail - 0.79) < 1e-12 && abs(inputDetail - 0.63) < 1e-12)
        let ownDetail = try #require(inputInFocus.detail)
        #expect(abs(ownDetail - 0.63) < 1e-12 && inFocus.detailImages == 2)
        #expect(abs(try #require(row.inFocusDetailChange) - 0.79 / 0.63) < 1e-12)
        // Too few Laplacian pixels: no ratio; no pixels: no PSNR.
        #expect(row.band(.moderate).detail == nil && row.band(.moderate).psnr != nil)
        #expect(row.band(.strong).psnr == nil && row.band(.strong).gain == nil)
        // Only image 2 in focus has less than half the sharp image's detail in the input.
        let scarce = try #require(row.scarce)
        #expect(scarce.cells == 1 && scarce.inputMedian == 0.3 && scarce.outputMedian == 0.7)
        #expect(abs(try #require(scarce.factor) - 0.7 / 0.3) < 1e-12)
        // Image 1 better on PSNR and SSIM, image 2 worse.
        #expect(row.helps == 1 && row.worse == 1 && row.compared == 2)
        #expect(reference.helps == nil && reference.scarce == nil)
        // Colour: image 2's G exceeds the input's |0| by 0.003 > 0.001; image 1's largest excess is 0.0005.
        #expect(row.colourViolations == 1 && row.colourCompared == 2)
        let worst = try #require(row.worstColour)
        #expect(abs(worst.value - 0.003) < 1e-12 && worst.image == "img2" && worst.channel == "G")

        let markdown = table.markdown
        #expect(markdown.contains("### By blur radius") && markdown.contains("| model | 2 | "), "\(markdown)")
        #expect(markdown.contains("| model | 1 of 2 | 1 of 2 | 1 | 0.300 | 0.700 | 2.33x |"), "\(markdown)")
        #expect(markdown.contains("1 of 2 | +0.0030 (img2, G) |"), "\(markdown)")
        #expect(table.html.contains("<th>PSNR r &gt; 3 px</th>"))
        let perImage = table.perImageCSV().split(separator: "\n")
        #expect(perImage.count == 1 + 8)
        #expect(perImage.contains("img2,model,/m,in_focus,300,\(String(format: "%.4f", 10 * log10(900 / 0.45))),2000,0.70000,0.30000"), "\(perImage)")
    }

    @Test func bandsSplitAtOneAndThreePixels() {
        #expect([0, 1, 1.001, 3, 3.001, 40].map { BlurBand.of(radius: $0) } == [.inFocus, .inFocus, .moderate, .moderate, .strong, .strong])
        #expect(BlurBand.allCases.map(\.index) == [0, 1, 2])
    }

    @Test func rowLabelsSayWhichModelARowIs() throws {
        let root = try TinyData.folder("labels")
        defer { try? FileManager.default.removeItem(at: root) }
        let step = try TinyData.checkpoint(in: root.appendingPathComponent("runs"), run: "pretrain-unet")
        let shipped = root.appendingPathComponent("pretrained")
        try FileManager.default.createDirectory(at: shipped, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: step.appendingPathComponent("net_g.safetensors"), to: shipped.appendingPathComponent("net_g.safetensors"))
        #expect(EvaluatedMethod.checkpoint(try DeblurCheckpoint(path: step.path)).label == "pretrain-unet step 2")
        #expect(EvaluatedMethod.checkpoint(try DeblurCheckpoint(path: shipped.appendingPathComponent("net_g.safetensors").path)).label
                == "pretrained/net_g.safetensors")
        #expect(EvaluatedMethod.blurryInput.label == "blurry input")
    }

    @Test func withoutBandRowsTheTableIsEmpty() {
        let lines = [ResultsTable.Line(label: "blurry input", checkpointPath: nil, gt: nil, deformedGT: nil)]
        let table = BlurBandTable(lines: lines, bandRows: [[]], imageRows: [[]], wholeTarget: "deformed GT")
        #expect(table.isEmpty)
    }
}
