import Foundation
import Manifest
import Metrics

/// The band table as Markdown, HTML and CSV fields: two tables (pooled by band; against the targets),
/// built from one list of header and body cells each, so every format shows the same numbers.
extension BlurBandTable {
    public static let caption = "Synthesised captures only, against the exactly aligned sharp image, by the blur radius of the "
        + "synthesiser's map. PSNR: one PSNR per band over all images (squared errors summed over every pixel and channel of the band "
        + "across the images, data range 1), so the regions with the most error count most; ΔPSNR: minus the blurry input's pooled "
        + "PSNR on the same images. Detail: mean squared 4-neighbour Laplacian of the luminance (\(HighFrequencyEnergy.lumaName)) of "
        + "the scored image divided by the aligned sharp image's over the same band pixels (a \(BandScores.laplacianBorder) px "
        + "border left out), median over the images whose band holds at least \(minimumDetailPixels) such pixels (in brackets: the "
        + "input's median over the same images); 1 = as much fine detail as the sharp image, below = smoother, above = noisier."

    public static let targetsCaption = "Helps / worse: images where the model is better (worse) than its input on every "
        + "(some) measure of the gain table (PSNR and SSIM, whole and defocused), beyond rounding. Scarce detail: the image/band "
        + "cells where the input holds less than \(String(format: "%.1f", scarceDetail)) of the sharp image's detail; the medians "
        + "of the input's and the model's ratios there (a deblurrer moves the output towards 1, at least doubling the input's "
        + "median without passing 1). In focus: the model's in-focus detail median over the input's (a deblurrer leaves it "
        + "within 10 %). Colour: images where the model's per-channel |mean colour error| exceeds the input's own by more than "
        + "\(String(format: "%.3f", colourTolerance)) on some channel, and the largest excess."

    /// A detail ratio: three decimals, and two significant digits below 0.01 (a strongly blurred band keeps
    /// a few thousandths of the detail, which three decimals would round to zero).
    static func ratio(_ value: Double?) -> String {
        guard let value else { return "n/a" }
        return String(format: value >= 0.01 || value == 0 ? "%.3f" : "%.2g", value)
    }

    var bandHeaders: [String] {
        ["Method", "images"] + BlurBand.allCases.flatMap { ["PSNR \($0.title)", "ΔPSNR \($0.title)", "detail \($0.title)"] }
    }

    func bandCells(_ row: Row) -> [String] {
        [row.label, "\(row.images)"] + row.bands.flatMap { band -> [String] in
            let psnr = band.psnr.map { String(format: "%.2f", $0) } ?? "n/a"
            let gain = row.checkpointPath == nil ? "(reference)" : InputGainTable.signed(band.gain, "%.2f")
            var detail = Self.ratio(band.detail)
            if band.inputDetail != nil { detail += " (\(Self.ratio(band.inputDetail)))" }
            return [psnr, gain, detail]
        }
    }

    var targetHeaders: [String] {
        ["Method", "helps on", "worse on", "scarce-detail cells", "input detail there", "output detail there", "output / input",
         "in-focus detail output / input", "colour: images over input + \(String(format: "%.3f", Self.colourTolerance))", "worst colour excess"]
    }

    func targetCells(_ row: Row) -> [String] {
        func ratio(_ v: Double?) -> String { Self.ratio(v) }
        let compared = row.compared.map { "\($0)" } ?? "0"
        let worst = row.worstColour.map { String(format: "%+.4f", $0.value) + " (\($0.image), \($0.channel))" } ?? "n/a"
        return [row.label, "\(row.helps ?? 0) of \(compared)", "\(row.worse ?? 0) of \(compared)", "\(row.scarce?.cells ?? 0)",
                ratio(row.scarce?.inputMedian), ratio(row.scarce?.outputMedian), row.scarce?.factor.map { String(format: "%.2fx", $0) } ?? "n/a",
                ratio(row.inFocusDetailChange), row.colourViolations.map { "\($0) of \(row.colourCompared ?? 0)" } ?? "n/a", worst]
    }

    var modelRows: [Row] { rows.filter { $0.checkpointPath != nil } }

    public var markdown: String {
        func table(_ headers: [String], _ body: [[String]]) -> String {
            var text = "| " + headers.joined(separator: " | ") + " |\n|---" + String(repeating: "|---:", count: headers.count - 1) + "|\n"
            for cells in body { text += "| " + cells.joined(separator: " | ") + " |\n" }
            return text
        }
        var text = "### By blur radius\n\n\(Self.caption)\n\n" + table(bandHeaders, rows.map(bandCells))
        if !modelRows.isEmpty {
            text += "\n#### Against the targets (vs the \(wholeTarget))\n\n\(Self.targetsCaption)\n\n" + table(targetHeaders, modelRows.map(targetCells))
        }
        return text
    }

    public var html: String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        func table(_ headers: [String], _ body: [[String]]) -> String {
            var h = "<table>\n<tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for cells in body { h += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
            return h + "</table>\n"
        }
        var h = "<h2>By blur radius</h2>\n<p>\(escape(Self.caption))</p>\n" + table(bandHeaders, rows.map(bandCells))
        if !modelRows.isEmpty {
            h += "<h3>Against the targets (vs the \(escape(wholeTarget)))</h3>\n<p>\(escape(Self.targetsCaption))</p>\n" + table(targetHeaders, modelRows.map(targetCells))
        }
        return h
    }

    // MARK: CSV

    static var csvHeader: String {
        (BlurBand.allCases.flatMap { b in ["pixels", "pooled_psnr", "delta_pooled_psnr", "detail_median", "detail_median_input"].map { "\($0)_\(b.rawValue)" } }
         + ["helps_images", "worse_images", "compared_images", "scarce_detail_cells", "scarce_detail_input_median", "scarce_detail_output_median",
            "colour_violations", "colour_images", "colour_worst_excess", "colour_worst_image"]).joined(separator: ",")
    }

    /// The fields of a results.csv line (empty where not available).
    func csvFields(_ line: ResultsTable.Line) -> [String] {
        func f(_ v: Double?, _ format: String = "%.5f") -> String { v.map { String(format: format, $0) } ?? "" }
        guard let row = rows.first(where: { $0.label == line.label && $0.checkpointPath == line.checkpointPath }) else {
            return [String](repeating: "", count: Self.csvHeader.split(separator: ",").count)
        }
        var fields = row.bands.flatMap { [row.images > 0 ? "\($0.pixels)" : "", f($0.psnr, "%.4f"), f($0.gain, "%.4f"), f($0.detail), f($0.inputDetail)] }
        fields += [row.helps.map(String.init) ?? "", row.worse.map(String.init) ?? "", row.compared.map(String.init) ?? "",
                   row.scarce.map { "\($0.cells)" } ?? "", f(row.scarce?.inputMedian), f(row.scarce?.outputMedian),
                   row.colourViolations.map(String.init) ?? "", row.colourCompared.map(String.init) ?? "",
                   f(row.worstColour?.value), CSV.field(row.worstColour?.image ?? "")]
        return fields
    }

    /// One line per (image, method, band): the per-image numbers behind the pooled values and medians.
    public func perImageCSV() -> String {
        var text = "image,method,checkpoint,band,pixels,psnr,detail_pixels,detail_ratio,input_detail_ratio\n"
        let input = inputScores
        for (label, scores) in perImage {
            for score in scores.sorted(by: { ($0.imageName, $0.band.index) < ($1.imageName, $1.band.index) }) {
                let ratio = score.detailRatio(minimumPixels: Self.minimumDetailPixels)
                let inputRatio = input.first { $0.captureId == score.captureId && $0.band == score.band }?.detailRatio(minimumPixels: Self.minimumDetailPixels)
                let psnr = PooledPSNR.value(squaredError: score.squaredError, samples: score.pixels * score.channels)
                text += [CSV.field(score.imageName), CSV.field(label), CSV.field(score.checkpointPath ?? ""), score.band.rawValue, "\(score.pixels)",
                         psnr.map { String(format: "%.4f", $0) } ?? "", "\(score.hfPixels)", ratio.map { String(format: "%.5f", $0) } ?? "",
                         inputRatio.map { String(format: "%.5f", $0) } ?? ""].joined(separator: ",") + "\n"
            }
        }
        return text
    }
}
