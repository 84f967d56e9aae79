import Evaluation
import Foundation
import GRDB
import Imaging
import Manifest
import Testing

@Suite struct ManifestEvaluatorTests {
    /// Two misaligned test pairs registered in a real SQLite manifest file, and a tiny checkpoint.
    struct Setup {
        let root: URL, captures: URL, manifest: Manifest, checkpoint: DeblurCheckpoint
        init() throws {
            root = try TinyData.folder("evaluator")
            captures = root.appendingPathComponent("captures")
            try TinyData.pair("one", in: captures, dx: 1.5, dy: -1)
            try TinyData.pair("two", in: captures, width: 88, height: 72, dx: -2, dy: 1, bitDepth: 16)
            manifest = try Manifest.open(path: root.appendingPathComponent("m.sqlite").path)
            for (name, depth, w, h) in [("one", 8, 96, 80), ("two", 16, 88, 72)] {
                let blurry = captures.appendingPathComponent("\(name)_blur.png"), sharp = captures.appendingPathComponent("\(name)_sharp.png")
                _ = try manifest.register(Capture(root: captures.path, name: name, split: .test, layout: .generic,
                                                  blurryPath: blurry.path, sharpPath: sharp.path, width: w, height: h, bitDepth: depth,
                                                  blurryHash: try ContentHash.of(fileAt: blurry), sharpHash: try ContentHash.of(fileAt: sharp),
                                                  status: .ok))
            }
            checkpoint = try DeblurCheckpoint(path: try TinyData.checkpoint(in: root.appendingPathComponent("runs")).path)
        }
    }

    @Test func scoresEachCaptureOnceAgainstGTAndDeformedGT() throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.root) }
        var settings = EvaluationSettings(split: .test)
        settings.tile = 32
        settings.overlap = 8
        let methods: [EvaluatedMethod] = [.blurryInput, .checkpoint(setup.checkpoint)]
        let report = ReportWriter(folder: setup.root.appendingPathComponent("report"), cropSide: 48)
        let evaluator = ManifestEvaluator(manifest: setup.manifest, settings: settings, report: report, log: { _ in })

        // When two captures are scored with two methods
        let first = try evaluator.run(methods: methods)
        // Then each (capture, method, target) has one row, saying what it was measured against
        #expect(first.failures.isEmpty, "\(first.failures)")
        #expect(first.newRows.count == 8)
        let stored = try setup.manifest.reader.read { db in try Evaluation.fetchAll(db) }
        #expect(stored.count == 8)
        #expect(Set(stored.map(\.bitDepth)) == [8, 16])
        #expect(stored.allSatisfy { $0.aligner == settings.alignerName && $0.lpips == nil && $0.split == "test" })
        #expect(stored.filter { $0.method == "checkpoint" }.allSatisfy { $0.checkpointPath == setup.checkpoint.weightsURL.path })

        // The blurry input is misaligned by 1-2 px: aligning the GT onto it must raise its PSNR.
        for name in ["one", "two"] {
            let blurry = stored.filter { $0.imageName == name && $0.method == "blurry_input" }
            let gt = try #require(blurry.first { $0.target == .gt }), deformed = try #require(blurry.first { $0.target == .deformedGt })
            #expect(deformed.psnr > gt.psnr + 1, "\(name): deformed GT \(deformed.psnr) dB vs GT \(gt.psnr) dB")
        }

        // When run again: nothing is redone
        let second = try evaluator.run(methods: methods)
        #expect(second.newRows.isEmpty)
        #expect(second.skipped == 4)
        #expect(try setup.manifest.reader.read { db in try Evaluation.fetchCount(db) } == 8)

        // The table has the paper's shape and the report its files
        let table = try ResultsTable(manifest: setup.manifest, captures: second.captures, methods: methods, settings: settings)
        #expect(table.lines.map(\.label) == ["blurry input", "tiny step 2"])
        #expect(table.lines.allSatisfy { $0.gt?.images == 2 && $0.deformedGT?.images == 2 && $0.gt?.lpips == nil })
        let meanBlurryGT = stored.filter { $0.method == "blurry_input" && $0.target == .gt }.map(\.psnr).reduce(0, +) / 2
        #expect(abs(table.lines[0].gt!.psnr - meanBlurryGT) < 1e-9)
        let markdown = table.markdown(title: "t")
        #expect(markdown.contains("| blurry input | "))
        #expect(markdown.contains("PSNR (deformed GT)"))
        #expect(markdown.contains("classical aligner"))
        #expect(markdown.contains("8-bit and 16-bit"))
        try report.write(table: table, methods: methods, captures: second.captures, title: "t")
        let crops = try FileManager.default.contentsOfDirectory(atPath: report.folder.appendingPathComponent("crops").path)
        #expect(crops.count == 6)  // per capture: blurry, GT, the checkpoint's output
        let html = try String(contentsOf: report.folder.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("crops/1_one_blurry.png") && html.contains("no training curve"))
        let csv = try String(contentsOf: report.folder.appendingPathComponent("results.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 3)
    }

    @Test func aChangedCaptureIsScoredAgainAndHistoryAppends() throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.root) }
        var settings = EvaluationSettings(split: .test)
        settings.tile = 32
        settings.overlap = 8
        let evaluator = ManifestEvaluator(manifest: setup.manifest, settings: settings, report: nil, log: { _ in })
        let history = History(folder: setup.root.appendingPathComponent("history"))
        try history.append(try evaluator.run(methods: [.blurryInput]).newRows, labels: [nil: "blurry input"])
        #expect(try String(contentsOf: history.csvURL, encoding: .utf8).split(separator: "\n").count == 1 + 4)

        // When one capture's content changes (re-ingested with new hashes)
        var one = try #require(try setup.manifest.captures().first { $0.name == "one" })
        one.blurryHash = "0000000000000000"
        _ = try setup.manifest.register(one)
        let again = try evaluator.run(methods: [.blurryInput])
        // Then only it is re-scored, its old rows replaced, and the history grows by its rows
        #expect(again.newRows.count == 2 && again.newRows.allSatisfy { $0.imageName == "one" })
        #expect(try setup.manifest.reader.read { db in try Evaluation.fetchCount(db) } == 4)
        try history.append(again.newRows, labels: [nil: "blurry input"])
        #expect(try String(contentsOf: history.csvURL, encoding: .utf8).split(separator: "\n").count == 1 + 6)
        #expect(try String(contentsOf: history.markdownURL, encoding: .utf8).contains("| one | blurry input | deformed_gt |"))
    }
}
