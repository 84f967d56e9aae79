import Foundation
import Manifest
import StageSupport

/// The cron history: every score row a re-evaluation added, appended to `history.csv` and
/// `history.md` in one folder (each file rewritten whole through AtomicFile, so a reader never sees
/// half a line; the caller's lock keeps two writers apart).
public struct History: Sendable {
    public let folder: URL

    public init(folder: URL) { self.folder = folder }

    public var csvURL: URL { folder.appendingPathComponent("history.csv") }
    public var markdownURL: URL { folder.appendingPathComponent("history.md") }

    static let csvHeader = "evaluated_at,capture_id,image,split,method,checkpoint,target,aligner,bit_depth,psnr,ssim,mae,lpips\n"
    static let markdownHeader = """
        # Re-evaluation history

        One line per image, method and target, appended by `make reevaluate`. Target `gt`: the output vs the GT;
        `deformed_gt`: vs the GT warped onto the output by the aligner named in the row (our classical aligner, not PWC-Net).
        Metrics on the image's own bit depth (column), RGB in [0,1], PSNR data range 1, SSIM 7x7 uniform window.

        | evaluated at (UTC) | image | method | target | aligner | bit depth | PSNR | SSIM | MAE | LPIPS |
        |---|---|---|---|---|---:|---:|---:|---:|---:|

        """

    /// A row's CSV line after its time stamp: capture, image, method, checkpoint, target and scores.
    static func entry(_ row: Evaluation, label: String) -> String {
        let lpips = row.lpips.map { String(format: "%.4f", $0) }
        return ["\(row.captureId ?? 0)", CSV.field(row.imageName), row.split, CSV.field(label),
                CSV.field(row.checkpointPath ?? ""), row.target.rawValue, CSV.field(row.aligner ?? ""), "\(row.bitDepth)",
                String(format: "%.4f", row.psnr), String(format: "%.5f", row.ssim), String(format: "%.5f", row.mae), lpips ?? ""]
            .joined(separator: ",")
    }

    /// The rows of `rows` the history does not hold yet. A run killed after storing its scores but before
    /// appending them leaves such rows; the next run (which finds them already scored) appends them here.
    /// Compared without the time stamp, which the manifest stores to the millisecond.
    public func notYetRecorded(_ rows: [Evaluation], labels: [String?: String]) -> [Evaluation] {
        let text = (try? String(contentsOf: csvURL, encoding: .utf8)) ?? ""
        let recorded = Set(text.split(separator: "\n").dropFirst().compactMap { line in line.firstIndex(of: ",").map { String(line[line.index(after: $0)...]) } })
        return rows.filter { !recorded.contains(Self.entry($0, label: labels[$0.checkpointPath] ?? $0.method)) }
    }

    /// Appends `rows` (labels from `labels`, keyed by checkpoint path; nil key: the blurry input).
    public func append(_ rows: [Evaluation], labels: [String?: String]) throws {
        guard !rows.isEmpty else { return }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter()
        var csv = (try? String(contentsOf: csvURL, encoding: .utf8)) ?? Self.csvHeader
        var markdown = (try? String(contentsOf: markdownURL, encoding: .utf8)) ?? Self.markdownHeader
        for row in rows {
            let label = labels[row.checkpointPath] ?? row.method
            let lpips = row.lpips.map { String(format: "%.4f", $0) }
            csv += stamp.string(from: row.createdAt) + "," + Self.entry(row, label: label) + "\n"
            markdown += "| \(stamp.string(from: row.createdAt)) | \(row.imageName) | \(label) | \(row.target.rawValue) | \(row.aligner ?? "") | "
                + "\(row.bitDepth) | " + String(format: "%.2f | %.4f | %.4f", row.psnr, row.ssim, row.mae) + " | \(lpips ?? "n/a") |\n"
        }
        try AtomicFile.write(Data(csv.utf8), to: csvURL)
        try AtomicFile.write(Data(markdown.utf8), to: markdownURL)
    }
}
