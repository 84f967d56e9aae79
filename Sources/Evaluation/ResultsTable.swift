import Foundation
import Manifest

/// The paper's results table: one row per method (the blurry input, then each checkpoint),
/// PSNR/SSIM/MAE/LPIPS means over the captures in scope, against the GT and the deformed GT.
/// Built from the stored rows, so a run that scored nothing new still prints the whole table.
public struct ResultsTable: Sendable {
    public struct Means: Sendable, Equatable {
        public var psnr: Double
        public var ssim: Double
        public var mae: Double
        /// nil unless every image had an LPIPS value (no weights: unavailable, never a guess).
        public var lpips: Double?
        public var images: Int
        /// Mean over the images of the largest |per-channel mean of (scored - target)|; nil unless every row has it.
        public var colourError: Double? = nil
        /// Mean of the colour-corrected PSNR (each channel's mean error removed); nil unless every row has it.
        public var psnrColourCorrected: Double? = nil
        /// Mean displacement (px) of the scored images' global map to their blurry inputs; nil unless every row has it.
        public var shiftToInput: Double? = nil

        public init(psnr: Double, ssim: Double, mae: Double, lpips: Double?, images: Int) {
            self.psnr = psnr; self.ssim = ssim; self.mae = mae; self.lpips = lpips; self.images = images
        }
    }

    public struct Line: Sendable {
        public var label: String
        public var checkpointPath: String?
        public var gt: Means?
        public var deformedGT: Means?
        /// Synthesised captures: vs the aligned sharp image, whole and on the defocused region.
        public var alignedSharp: Means?
        public var defocused: Means?

        public init(label: String, checkpointPath: String?, gt: Means?, deformedGT: Means?, alignedSharp: Means? = nil, defocused: Means? = nil) {
            self.label = label; self.checkpointPath = checkpointPath; self.gt = gt; self.deformedGT = deformedGT
            self.alignedSharp = alignedSharp; self.defocused = defocused
        }
    }

    public let lines: [Line]
    public let captureCount: Int
    public let split: String
    public let bitDepths: [Int]
    public let aligner: String
    /// The per-image rows behind the means, per method (same order as `lines`): the per-image colour table.
    public let imageRows: [[Evaluation]]
    /// Synthesised captures by blur-radius band, and each model against the targets (BlurBandTable.swift).
    public let bands: BlurBandTable

    public init(manifest: Manifest, captures: [Capture], methods: [EvaluatedMethod], settings: EvaluationSettings) throws {
        let ids = captures.compactMap(\.id)
        let rows = try manifest.evaluations(captureIDs: ids, aligner: settings.alignerName)
        var depths = Set<Int>()
        imageRows = methods.map { method in
            rows.filter { $0.method == method.methodColumn && $0.checkpointPath == method.checkpointPath }
                .sorted { ($0.imageName, $0.target.rawValue) < ($1.imageName, $1.target.rawValue) }
        }
        lines = methods.map { method in
            let mine = rows.filter { $0.method == method.methodColumn && $0.checkpointPath == method.checkpointPath }
            mine.forEach { depths.insert($0.bitDepth) }
            return Line(label: method.label, checkpointPath: method.checkpointPath,
                        gt: Self.means(mine.filter { $0.target == .gt }),
                        deformedGT: Self.means(mine.filter { $0.target == .deformedGt }),
                        alignedSharp: Self.means(mine.filter { $0.target == .alignedSharp }),
                        defocused: Self.means(mine.filter { $0.target == .alignedSharpDefocused }))
        }
        let bandScores = try manifest.evaluationBands(captureIDs: ids)
        bands = BlurBandTable(lines: lines, bandRows: methods.map { method in
            bandScores.filter { $0.method == method.methodColumn && $0.checkpointPath == method.checkpointPath }
        }, imageRows: imageRows, wholeTarget: InputGainTable(lines: lines).wholeTarget)
        captureCount = captures.count
        split = settings.split.rawValue
        bitDepths = depths.sorted()
        aligner = settings.alignerName
    }

    static func means(_ rows: [Evaluation]) -> Means? {
        guard !rows.isEmpty else { return nil }
        let n = Double(rows.count)
        let lpips = rows.allSatisfy { $0.lpips != nil } ? rows.reduce(0) { $0 + $1.lpips! } / n : nil
        var means = Means(psnr: rows.reduce(0) { $0 + $1.psnr } / n, ssim: rows.reduce(0) { $0 + $1.ssim } / n,
                          mae: rows.reduce(0) { $0 + $1.mae } / n, lpips: lpips, images: rows.count)
        let colour = rows.compactMap(\.largestColourError), corrected = rows.compactMap(\.psnrColourCorrected)
        if colour.count == rows.count { means.colourError = colour.reduce(0, +) / n }
        if corrected.count == rows.count { means.psnrColourCorrected = corrected.reduce(0, +) / n }
        let shifts = rows.compactMap(\.shiftToInputPx)
        if shifts.count == rows.count { means.shiftToInput = shifts.reduce(0, +) / n }
        return means
    }

    /// What every number in the table was measured against.
    public var caption: String {
        let depth = bitDepths.isEmpty ? "no images scored" : bitDepths.map { "\($0)-bit" }.joined(separator: " and ")
        return "Means over \(captureCount) \(split) captures at full resolution; each method's image (on its file's bit depth grid: "
            + "\(depth)) vs the GT and vs the deformed GT. RGB in [0,1], PSNR with data range 1, SSIM with a 7x7 uniform window "
            + "(skimage convention), MAE mean absolute error, LPIPS AlexNet (n/a: no weights given). "
            + EvaluationSettings.alignerSentence + " Aligner id: \(aligner)."
    }

    /// `includingBands`: false leaves the band section out (jdrl-eval prints it last, on its own).
    public func markdown(title: String, includingBands: Bool = true) -> String {
        var text = "## \(title)\n\n\(caption)\n\n"
        text += "| Method | PSNR (GT) | SSIM (GT) | MAE (GT) | LPIPS (GT) | PSNR (deformed GT) | SSIM (deformed GT) | MAE (deformed GT) | LPIPS (deformed GT) | images |\n"
        text += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for line in lines {
            let cells = Self.cells(line.gt) + Self.cells(line.deformedGT)
            text += "| \(line.label) | " + cells.joined(separator: " | ") + " | \(line.gt?.images ?? 0) |\n"
        }
        let bandSection = includingBands && !bands.isEmpty ? "\n" + bands.markdown : ""
        return text + "\n" + gains.markdown + bandSection + "\n" + colourMarkdown()
    }

    /// Each model against the blurry input (the line without a checkpoint): see InputGain.swift.
    public var gains: InputGainTable { InputGainTable(lines: lines) }

    // MARK: Colour

    /// What the colour columns mean.
    public static let colourCaption = "Colour error: per-channel mean of (scored image - target) over the image, the largest "
        + "|value| over R, G, B (0.01 = 1 % of full scale; a model that learnt the GT shot's exposure or white balance shows it here). "
        + "PSNR colour-corrected: PSNR after removing each channel's mean error (the score of the structure alone), "
        + "a separate column: the plain PSNR above is the score. n/a: rows scored before these columns existed."

    /// Means per method: PSNR next to the colour error and the colour-corrected PSNR, against the GT and the deformed GT.
    public func colourMarkdown() -> String {
        var text = "### Colour\n\n\(Self.colourCaption)\n\n"
        text += "| Method | PSNR (GT) | colour error (GT) | PSNR colour-corrected (GT) | PSNR (deformed GT) | colour error (deformed GT) | PSNR colour-corrected (deformed GT) |\n"
        text += "|---|---:|---:|---:|---:|---:|---:|\n"
        for line in lines {
            text += "| \(line.label) | " + (Self.colourCells(line.gt) + Self.colourCells(line.deformedGT)).joined(separator: " | ") + " |\n"
        }
        text += "\n### Per image\n\n| Image | Method | target | PSNR | colour error (R / G / B) | colour error (largest) | PSNR colour-corrected |\n"
        text += "|---|---|---|---:|---:|---:|---:|\n"
        for (line, rows) in zip(lines, imageRows) {
            for row in rows {
                text += "| \(row.imageName) | \(line.label) | \(row.target.rawValue) | " + Self.imageCells(row).joined(separator: " | ") + " |\n"
            }
        }
        return text
    }

    /// One line per (image, method, target): the per-image numbers behind the means (`per_image.csv`).
    public func perImageCSV() -> String {
        var text = "image,method,checkpoint,split,target,aligner,bit_depth,psnr,ssim,mae,lpips,colour_error_r,colour_error_g,colour_error_b,colour_error_max,psnr_colour_corrected\n"
        for (line, rows) in zip(lines, imageRows) {
            for row in rows {
                let colour = [row.colourErrorR, row.colourErrorG, row.colourErrorB, row.largestColourError].map { $0.map { String(format: "%.5f", $0) } ?? "" }
                text += ([CSV.field(row.imageName), CSV.field(line.label), CSV.field(row.checkpointPath ?? ""), row.split, row.target.rawValue,
                          CSV.field(row.aligner ?? ""), "\(row.bitDepth)", String(format: "%.4f", row.psnr), String(format: "%.5f", row.ssim),
                          String(format: "%.5f", row.mae), row.lpips.map { String(format: "%.4f", $0) } ?? ""]
                         + colour + [row.psnrColourCorrected.map { String(format: "%.4f", $0) } ?? ""]).joined(separator: ",") + "\n"
            }
        }
        return text
    }

    static func colourCells(_ means: Means?, missing: String = "n/a") -> [String] {
        guard let means else { return [missing, missing, missing] }
        return [String(format: "%.2f", means.psnr), means.colourError.map { String(format: "%.4f", $0) } ?? missing,
                means.psnrColourCorrected.map { String(format: "%.2f", $0) } ?? missing]
    }

    static func imageCells(_ row: Evaluation) -> [String] {
        let perChannel = [row.colourErrorR, row.colourErrorG, row.colourErrorB].compactMap { $0 }
        return [String(format: "%.2f", row.psnr),
                perChannel.count == 3 ? perChannel.map { String(format: "%+.4f", $0) }.joined(separator: " / ") : "n/a",
                row.largestColourError.map { String(format: "%.4f", $0) } ?? "n/a",
                row.psnrColourCorrected.map { String(format: "%.2f", $0) } ?? "n/a"]
    }

    public func csv() -> String {
        var text = "method,checkpoint,split,images,bit_depths,aligner,psnr_gt,ssim_gt,mae_gt,lpips_gt,psnr_deformed_gt,ssim_deformed_gt,mae_deformed_gt,lpips_deformed_gt"
            + ",colour_error_gt,psnr_colour_corrected_gt,colour_error_deformed_gt,psnr_colour_corrected_deformed_gt,"
            + InputGainTable.csvHeader + "," + BlurBandTable.csvHeader + "\n"
        let gainTable = gains
        for line in lines {
            let fields = [CSV.field(line.label), CSV.field(line.checkpointPath ?? ""), split, "\(line.gt?.images ?? 0)",
                          bitDepths.map(String.init).joined(separator: "/"), CSV.field(aligner)]
                + Self.cells(line.gt, missing: "") + Self.cells(line.deformedGT, missing: "")
                + Array(Self.colourCells(line.gt, missing: "").dropFirst()) + Array(Self.colourCells(line.deformedGT, missing: "").dropFirst())
                + gainTable.csvFields(line) + bands.csvFields(line)
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    static func cells(_ means: Means?, missing: String = "n/a") -> [String] {
        guard let means else { return [missing, missing, missing, missing] }
        return [String(format: "%.2f", means.psnr), String(format: "%.4f", means.ssim), String(format: "%.4f", means.mae),
                means.lpips.map { String(format: "%.4f", $0) } ?? missing]
    }
}

enum CSV {
    static func field(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
