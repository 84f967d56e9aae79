import Foundation
import Imaging
import Manifest
import StageSupport

/// A self-contained report folder: `results.md`, `results.csv`, `per_image.csv`, `index.html`, `crops/*.png`
/// (the same centre crop of the blurry input, each method's output and the GT, in the file's bit
/// depth) and `curves/*.svg` (copies of the runs' training curves written by jdrl-train).
/// Every file appears whole (AtomicFile); crops of items scored by an earlier run stay in place.
public struct ReportWriter: Sendable {
    public let folder: URL
    public let cropSide: Int

    public init(folder: URL, cropSide: Int = 256) {
        self.folder = folder
        self.cropSide = cropSide
    }

    var crops: URL { folder.appendingPathComponent("crops", isDirectory: true) }

    func cropName(_ capture: Capture, _ kind: String) -> String { "\(capture.id ?? 0)_\(Slug.make(capture.name))_\(kind).png" }

    func saveInputCrops(_ loaded: LoadedCapture) throws {
        try saveCrop(loaded.blurry, name: cropName(loaded.capture, "blurry"))
        try saveCrop(loaded.gt, name: cropName(loaded.capture, "gt"))
    }

    func saveOutputCrop(_ image: PlanarImage, capture: Capture, method: EvaluatedMethod) throws {
        if case .blurryInput = method { return }  // the blurry crop is already there
        try saveCrop(image, name: cropName(capture, method.slug))
    }

    private func saveCrop(_ image: PlanarImage, name: String) throws {
        let side = min(cropSide, image.width, image.height)
        let crop = image.crop(x: (image.width - side) / 2, y: (image.height - side) / 2, width: side, height: side)
        try AtomicFile.write(to: crops.appendingPathComponent(name)) { try crop.savePNG(to: $0) }
    }

    /// Writes the table (Markdown, CSV) and the HTML page. Returns the page's URL.
    @discardableResult
    public func write(table: ResultsTable, methods: [EvaluatedMethod], captures: [Capture], title: String) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(Data(table.markdown(title: title).utf8), to: folder.appendingPathComponent("results.md"))
        try AtomicFile.write(Data(table.csv().utf8), to: folder.appendingPathComponent("results.csv"))
        try AtomicFile.write(Data(table.perImageCSV().utf8), to: folder.appendingPathComponent("per_image.csv"))
        if !table.bands.isEmpty {
            try AtomicFile.write(Data(table.bands.perImageCSV().utf8), to: folder.appendingPathComponent("bands_per_image.csv"))
        }
        let curves = try copyCurves(methods)
        let page = folder.appendingPathComponent("index.html")
        try AtomicFile.write(Data(html(table: table, methods: methods, captures: captures, curves: curves, title: title).utf8), to: page)
        return page
    }

    /// Copies each checkpoint's run curve (runs/<name>/curves.svg) into curves/; returns (label, file or why not).
    private func copyCurves(_ methods: [EvaluatedMethod]) throws -> [(label: String, file: String?, note: String)] {
        var out: [(String, String?, String)] = []
        for case let .checkpoint(checkpoint) in methods {
            guard let run = checkpoint.runFolder else {
                out.append((checkpoint.label, nil, "no training curve: \(checkpoint.weightsURL.path) is not inside a jdrl-train run folder"))
                continue
            }
            let svg = run.appendingPathComponent("curves.svg")
            guard let data = FileManager.default.contents(atPath: svg.path) else {
                out.append((checkpoint.label, nil, "no training curve: \(svg.path) does not exist"))
                continue
            }
            let name = "curves/\(Slug.make(run.lastPathComponent)).svg"
            try AtomicFile.write(data, to: folder.appendingPathComponent(name))
            out.append((checkpoint.label, name, "training curve of \(run.path) (copied from curves.svg)"))
        }
        return out
    }

    private func html(table: ResultsTable, methods: [EvaluatedMethod], captures: [Capture],
                      curves: [(label: String, file: String?, note: String)], title: String) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        /// The header cells "metric (GT)" and "metric (deformed GT)" after <th>Method</th>, then one row per method.
        func methodRows(_ table: ResultsTable, metrics: [String], last: (String, (ResultsTable.Line) -> String)? = nil,
                        cells: (ResultsTable.Line) -> [String]) -> String {
            var h = ""
            for target in ["GT", "deformed GT"] { for metric in metrics { h += "<th>\(metric) (\(target))</th>" } }
            h += (last.map { "<th>\($0.0)</th>" } ?? "") + "</tr>\n"
            for line in table.lines {
                h += "<tr><td>\(escape(line.label))</td>" + cells(line).map { "<td>\($0)</td>" }.joined()
                h += (last.map { "<td>\($0.1(line))</td>" } ?? "") + "</tr>\n"
            }
            return h
        }
        var h = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>\(escape(title))</title>\n"
        h += "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 8px;text-align:right}"
        h += "td:first-child{text-align:left}figure{display:inline-block;margin:4px}img{image-rendering:pixelated}</style></head><body>\n"
        h += "<h1>\(escape(title))</h1>\n<p>\(escape(table.caption))</p>\n<table>\n<tr><th>Method</th>"
        h += methodRows(table, metrics: ["PSNR", "SSIM", "MAE", "LPIPS"], last: ("images", { "\($0.gt?.images ?? 0)" })) {
            ResultsTable.cells($0.gt) + ResultsTable.cells($0.deformedGT)
        }
        h += "</table>\n" + (table.bands.isEmpty ? "" : table.bands.html)
        h += "<h2>Colour</h2>\n<p>\(escape(ResultsTable.colourCaption))</p>\n<table>\n<tr><th>Method</th>"
        h += methodRows(table, metrics: ["PSNR", "colour error", "PSNR colour-corrected"]) {
            ResultsTable.colourCells($0.gt) + ResultsTable.colourCells($0.deformedGT)
        }
        h += "</table>\n<h3>Per image</h3>\n<table>\n<tr><th>Image</th><th>Method</th><th>target</th><th>PSNR</th><th>colour error (R / G / B)</th>"
        h += "<th>colour error (largest)</th><th>PSNR colour-corrected</th></tr>\n"
        for (line, rows) in zip(table.lines, table.imageRows) {
            for row in rows {
                h += "<tr><td>\(escape(row.imageName))</td><td>\(escape(line.label))</td><td>\(row.target.rawValue)</td>"
                for cell in ResultsTable.imageCells(row) { h += "<td>\(cell)</td>" }
                h += "</tr>\n"
            }
        }
        h += "</table>\n<h2>Centre crops (\(cropSide)x\(cropSide), blurry input | outputs | GT)</h2>\n"
        for capture in captures {
            h += "<h3>\(escape(capture.name))</h3>\n<div>"
            var panels = [("blurry input", cropName(capture, "blurry"))]
            for method in methods { if case .checkpoint = method { panels.append((method.label, cropName(capture, method.slug))) } }
            panels.append(("GT", cropName(capture, "gt")))
            for (caption, file) in panels {
                if FileManager.default.fileExists(atPath: crops.appendingPathComponent(file).path) {
                    h += "<figure><img src=\"crops/\(file)\" alt=\"\(escape(caption))\"><figcaption>\(escape(caption))</figcaption></figure>"
                } else {
                    h += "<figure><figcaption>\(escape(caption)): crop not available (scored by an earlier run with another report folder)</figcaption></figure>"
                }
            }
            h += "</div>\n"
        }
        h += "<h2>Training curves</h2>\n"
        if curves.isEmpty { h += "<p>No checkpoint evaluated: no training curve.</p>\n" }
        for curve in curves {
            h += "<h3>\(escape(curve.label))</h3><p>\(escape(curve.note))</p>\n"
            if let file = curve.file { h += "<img src=\"\(file)\" alt=\"training curve\" style=\"max-width:100%\">\n" }
        }
        return h + "</body></html>\n"
    }
}
