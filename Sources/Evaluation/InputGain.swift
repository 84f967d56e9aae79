import Foundation

/// Does a model help? Each line's scores minus the blurry input's (the table's first line), on the
/// whole image and on the defocused region. The whole-image gain is measured against the aligned sharp
/// image when every scored capture has one (synthesised data: no aligner error in the difference),
/// otherwise against the deformed GT; the region exists only for synthesised captures (else n/a).
public struct InputGainTable: Sendable {
    public struct Gain: Sendable, Equatable {
        public var label: String
        public var psnr: Double?, ssim: Double?
        public var regionPSNR: Double?, regionSSIM: Double?
        /// A gain that is negative at the table's precision (0.01 dB, 0.0001 SSIM): the model makes
        /// images worse than leaving them blurry. Differences below it are rounding, not a verdict.
        public var isWorse: Bool {
            [psnr, regionPSNR].contains { ($0 ?? 0) <= -0.005 } || [ssim, regionSSIM].contains { ($0 ?? 0) <= -0.00005 }
        }
        /// Better on every available measure, beyond rounding.
        public var helps: Bool {
            psnr != nil && !isWorse && [psnr, regionPSNR].allSatisfy { $0 == nil || $0! >= 0.005 }
                && [ssim, regionSSIM].allSatisfy { $0 == nil || $0! >= 0.00005 }
        }

        public init(label: String, psnr: Double?, ssim: Double?, regionPSNR: Double?, regionSSIM: Double?) {
            self.label = label; self.psnr = psnr; self.ssim = ssim; self.regionPSNR = regionPSNR; self.regionSSIM = regionSSIM
        }
    }

    /// What the whole-image column was measured against.
    public let wholeTarget: String
    /// The blurry input's own scores, the reference of every gain.
    public let input: ResultsTable.Line?
    /// One per model (every line after the input's), and those lines.
    public let gains: [Gain]
    let modelLines: [ResultsTable.Line]

    public init(lines: [ResultsTable.Line]) {
        // The input's line is the one without a checkpoint (ManifestMode puts it first).
        input = lines.first { $0.checkpointPath == nil }
        modelLines = lines.filter { $0.checkpointPath != nil }
        // The aligned sharp image only when it covers every capture each line was scored on.
        let useAligned = lines.contains { $0.alignedSharp != nil } && lines.allSatisfy { $0.gt == nil || $0.alignedSharp?.images == $0.gt?.images }
        wholeTarget = useAligned ? "aligned sharp image" : "deformed GT"
        func whole(_ line: ResultsTable.Line) -> ResultsTable.Means? { useAligned ? line.alignedSharp : line.deformedGT }
        let base = input.flatMap(whole), baseRegion = input?.defocused
        gains = modelLines.map { line in
            let mine = whole(line), region = line.defocused
            func delta(_ a: Double?, _ b: Double?) -> Double? { if let a, let b { return a - b }; return nil }
            return Gain(label: line.label, psnr: delta(mine?.psnr, base?.psnr), ssim: delta(mine?.ssim, base?.ssim),
                        regionPSNR: delta(region?.psnr, baseRegion?.psnr), regionSSIM: delta(region?.ssim, baseRegion?.ssim))
        }
    }

    static func signed(_ value: Double?, _ format: String) -> String {
        guard let value else { return "n/a" }
        let text = String(format: format, abs(value))
        // A difference that rounds to zero is shown as 0, without a sign that suggests a verdict.
        if Double(text) == 0 { return text }
        return (value > 0 ? "+" : "-") + text
    }

    /// A plain-words sentence per model that is worse than its input, for the terminal and results.md.
    public var warnings: [String] {
        gains.filter(\.isWorse).map { g in
            var parts: [String] = []
            if let v = g.psnr, v <= -0.005 { parts.append(String(format: "PSNR %.2f dB lower on the whole image", -v)) }
            if let v = g.ssim, v <= -0.00005 { parts.append(String(format: "SSIM %.4f lower on the whole image", -v)) }
            if let v = g.regionPSNR, v <= -0.005 { parts.append(String(format: "PSNR %.2f dB lower on the defocused region", -v)) }
            if let v = g.regionSSIM, v <= -0.00005 { parts.append(String(format: "SSIM %.4f lower on the defocused region", -v)) }
            return "WARNING: \(g.label) makes the images worse than the blurry input it was given (\(parts.joined(separator: "; ")), "
                + "vs the \(wholeTarget)): leaving the images as they are would score better."
        }
    }

    public var markdown: String {
        var text = "### Gain over the blurry input\n\n"
        text += "Each model minus the blurry input: whole image vs the \(wholeTarget); defocused region (\(SynthesisedReference.regionName) "
            + "in the synthesiser's blur map) vs the aligned sharp image, n/a for captures without a blur map. Positive = the model helps. "
            + "Shift: mean displacement (px) of the global map from the model's output to its blurry input (a model that learnt to warp "
            + "shows it here).\n\n"
        text += "| Method | PSNR (whole) | ΔPSNR (whole) | SSIM (whole) | ΔSSIM (whole) | PSNR (defocused) | ΔPSNR (defocused) | SSIM (defocused) | ΔSSIM (defocused) | shift to input (px) | verdict |\n"
        text += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
        let useAligned = wholeTarget == "aligned sharp image"
        func value(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "n/a" }
        if let input {
            let whole = useAligned ? input.alignedSharp : input.deformedGT
            text += "| \(input.label) | \(value(whole?.psnr, "%.2f")) | (reference) | \(value(whole?.ssim, "%.4f")) | (reference) | "
                + "\(value(input.defocused?.psnr, "%.2f")) | (reference) | \(value(input.defocused?.ssim, "%.4f")) | (reference) | 0 | - |\n"
        }
        for (g, line) in zip(gains, modelLines) {
            let whole = useAligned ? line.alignedSharp : line.deformedGT
            let verdict = g.isWorse ? "**worse than the input**" : g.helps ? "helps" : g.psnr == nil ? "n/a" : "no clear gain"
            text += "| \(g.label) | \(value(whole?.psnr, "%.2f")) | \(Self.signed(g.psnr, "%.2f")) | \(value(whole?.ssim, "%.4f")) | "
                + "\(Self.signed(g.ssim, "%.4f")) | \(value(line.defocused?.psnr, "%.2f")) | \(Self.signed(g.regionPSNR, "%.2f")) | "
                + "\(value(line.defocused?.ssim, "%.4f")) | \(Self.signed(g.regionSSIM, "%.4f")) | \(value((line.gt ?? whole)?.shiftToInput, "%.3f")) | \(verdict) |\n"
        }
        if !warnings.isEmpty { text += "\n" + warnings.map { "**\($0)**" }.joined(separator: "\n\n") + "\n" }
        return text
    }

    static let csvHeader = "psnr_aligned_sharp,ssim_aligned_sharp,psnr_defocused,ssim_defocused,gain_target,delta_psnr,delta_ssim,delta_psnr_defocused,delta_ssim_defocused"

    /// The CSV fields of a table line (the input's gains are empty).
    func csvFields(_ line: ResultsTable.Line) -> [String] {
        let index = modelLines.firstIndex { $0.checkpointPath == line.checkpointPath && $0.label == line.label }
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "" }
        var fields = [f(line.alignedSharp?.psnr, "%.4f"), f(line.alignedSharp?.ssim, "%.5f"),
                      f(line.defocused?.psnr, "%.4f"), f(line.defocused?.ssim, "%.5f"), wholeTarget]
        let g = index.map { gains[$0] }
        fields += [f(g?.psnr, "%.4f"), f(g?.ssim, "%.5f"), f(g?.regionPSNR, "%.4f"), f(g?.regionSSIM, "%.5f")]
        return fields
    }
}
