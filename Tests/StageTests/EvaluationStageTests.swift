import Foundation
import Imaging
import Models
import Tensors
import Testing

/// End to end through the built jdrl-deblur, jdrl-eval, jdrl-ingest and pipelines/reevaluate.sh,
/// with a tiny UNet checkpoint (widths [4, 8, 16]) written in jdrl-train's layout.
@Suite(.serialized)
struct EvaluationStageTests {
    @Test func tiledDeblurMatchesASinglePassAndKeepsTheBitDepth() throws {
        let root = try temporaryFolder("deblur")
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try EvaluationStage.checkpoint(in: root.appendingPathComponent("runs"))
        for depth in [8, 16] {
            let input = root.appendingPathComponent("in\(depth).png")
            try writePNG(input, width: 200, height: 136, bitDepth: depth, seed: depth)
            let tiled = root.appendingPathComponent("tiled\(depth).png"), single = root.appendingPathComponent("single\(depth).png")
            // 2x2 tiles of 128 px (overlap 48) vs one tile covering the whole image (a single pass). The overlap
            // must exceed the network's reach (about 23 px for 3 levels): with 16 px this random-init UNet
            // differs by up to 87/255 near tile edges; with 48 px by at most 5/255 (mean 0.27/255).
            let a = try Executables.run("jdrl-deblur", ["--checkpoint", checkpoint.path, input.path, "--out", tiled.path, "--tile", "128", "--overlap", "48"])
            let b = try Executables.run("jdrl-deblur", ["--checkpoint", checkpoint.path, input.path, "--out", single.path, "--tile", "256",
                                                        "--threads", "1"])
            #expect(a.status == 0 && b.status == 0, "\(a.output)\n\(b.output)")
            // --threads reaches oneDNN's pool (the engine is created after parsing)
            #expect(b.output.contains("oneDNN threads 1\n"), "\(b.output)")
            #expect(a.output.contains("peak memory (VmHWM)") && a.output.contains("widths [4, 8, 16]"))
            #expect(try ImageFile.probe(tiled).bitDepth == depth)
            let t = try ImageFile.loadPlanar(tiled).image, s = try ImageFile.loadPlanar(single).image
            #expect(t.width == 200 && t.height == 136 && t.bitDepth == depth)
            // Away from the image border (where the single pass sees zero padding too), no seams.
            var largest: Float = 0, sum: Float = 0, count: Float = 0
            for c in 0..<3 { for y in 12..<(136 - 12) { for x in 12..<(200 - 12) {
                let difference = abs(t[c, y, x] - s[c, y, x])
                largest = max(largest, difference); sum += difference; count += 1
            } } }
            #expect(largest <= 6.0 / 255 && sum / count <= 0.3 / 255,
                    "\(depth)-bit: tiled vs single pass differ by up to \(largest * 255)/255 (mean \(sum / count * 255)/255) inside")
            print("seam check, \(depth)-bit 200x136, tile 128 overlap 48 vs single pass: max |diff| \(largest * 255)/255, mean \(sum / count * 255)/255")
        }
    }

    @Test(.enabled(if: Engine.shared.platform.bf16 != .unavailable, "no bf16 convolutions on this CPU: the refusal is tested instead"))
    func bf16DeblurStaysCloseToF32AndNeedsWholeChannelBlocks() throws {
        let root = try temporaryFolder("deblur-bf16")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in.png")
        try writePNG(input, width: 160, height: 96, bitDepth: 16, seed: 5)
        let narrow = try EvaluationStage.checkpoint(in: root.appendingPathComponent("narrow"))
        let refused = try Executables.run("jdrl-deblur", ["--checkpoint", narrow.path, input.path, "--out", root.appendingPathComponent("r.png").path,
                                                          "--precision", "bf16"])
        #expect(refused.status == 65 && refused.output.contains("net_g.safetensors") && refused.output.contains("multiples of 16"), "\(refused.output)")
        let checkpoint = try EvaluationStage.checkpoint(in: root.appendingPathComponent("runs"), widths: [16, 32, 48])
        var images: [PlanarImage] = []
        for precision in ["f32", "bf16"] {
            let out = root.appendingPathComponent("\(precision).png")
            let result = try Executables.run("jdrl-deblur", ["--checkpoint", checkpoint.path, input.path, "--out", out.path,
                                                             "--tile", "64", "--overlap", "16", "--precision", precision])
            #expect(result.status == 0 && result.output.contains(", \(precision)"), "\(result.output)")
            images.append(try ImageFile.loadPlanar(out).image)
        }
        let differences = zip(images[0].pixels, images[1].pixels).map { abs($0 - $1) }
        let mean = differences.reduce(0, +) / Float(differences.count)
        #expect(mean > 0 && mean < 5e-3 && differences.max()! < 0.05, "bf16 vs f32: mean \(mean), max \(differences.max()!)")
    }

    @Test(.enabled(if: Engine.shared.platform.bf16 == .unavailable, "this CPU has bf16 convolutions"))
    func bf16IsRefusedInOneSentenceWhereTheCPUHasNone() throws {
        let root = try temporaryFolder("deblur-no-bf16")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in.png")
        try writePNG(input, width: 64, height: 64, bitDepth: 8, seed: 6)
        let checkpoint = try EvaluationStage.checkpoint(in: root.appendingPathComponent("runs"), widths: [16, 32, 48])
        let out = root.appendingPathComponent("o.png")
        let refused = try Executables.run("jdrl-deblur", ["--checkpoint", checkpoint.path, input.path, "--out", out.path, "--precision", "bf16"])
        let lines = refused.output.split(separator: "\n")
        #expect(refused.status == 64 && lines.count == 1 && refused.output.contains("AVX-512"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        // auto falls back to f32 here and says so.
        let automatic = try Executables.run("jdrl-deblur", ["--checkpoint", checkpoint.path, input.path, "--out", out.path, "--precision", "auto"])
        #expect(automatic.status == 0 && automatic.output.contains("f32 (auto)"), "\(automatic.output)")
    }

    @Test func autoPrecisionSaysWhichAndWhyAndCachesItsProbe() throws {
        let root = try temporaryFolder("deblur-auto")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in.png")
        try writePNG(input, width: 96, height: 64, bitDepth: 8, seed: 7)
        let checkpoint = try EvaluationStage.checkpoint(in: root.appendingPathComponent("runs"), widths: [16, 32, 48])
        let cacheHome = root.appendingPathComponent("cache")
        let cacheFile = cacheHome.appendingPathComponent("jdrl/precision.json")
        var outputs: [String] = []
        for run in 0..<2 {
            let out = root.appendingPathComponent("auto\(run).png")
            let result = try Executables.run(executable: URL(fileURLWithPath: "/usr/bin/env"),
                                             ["XDG_CACHE_HOME=\(cacheHome.path)", try Executables.url("jdrl-deblur").path,
                                              "--checkpoint", checkpoint.path, input.path, "--out", out.path, "--tile", "64", "--overlap", "16",
                                              "--precision", "auto"])
            #expect(result.status == 0 && result.output.contains("(auto)") && result.output.contains("auto: "), "\(result.output)")
            #expect(FileManager.default.fileExists(atPath: out.path))
            outputs.append(result.output)
        }
        if Engine.shared.platform.bf16 == .unavailable {
            #expect(outputs.allSatisfy { $0.contains("f32 (auto)") && $0.contains("no bf16 convolution") })
            #expect(!FileManager.default.fileExists(atPath: cacheFile.path))
        } else {
            // On a loaded machine (tests run in parallel) the probe is used once and not cached.
            if outputs[0].contains("not cached: the machine is busy") {
                #expect(!FileManager.default.fileExists(atPath: cacheFile.path))
            } else {
                #expect(outputs[0].contains("measured now, cached in \(cacheFile.path)"), "\(outputs[0])")
                #expect(outputs[1].contains("cached in \(cacheFile.path)") && !outputs[1].contains("measured now"), "\(outputs[1])")
                let cached = try String(contentsOf: cacheFile, encoding: .utf8)
                #expect(cached.contains(Engine.shared.platform.cpuModel) && cached.contains("f32Seconds"), "\(cached)")
            }
        }
    }

    @Test func aBadCheckpointIsNamed() throws {
        let root = try temporaryFolder("deblur-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let bad = root.appendingPathComponent("broken.safetensors")
        try Data("garbage".utf8).write(to: bad)
        let input = root.appendingPathComponent("in.png")
        try writePNG(input, width: 64, height: 64)
        let result = try Executables.run("jdrl-deblur", ["--checkpoint", bad.path, input.path, "--out", root.appendingPathComponent("o.png").path])
        #expect(result.status == 65)
        #expect(result.output.contains(bad.path) && result.output.contains("not a UNet checkpoint"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("o.png").path))
    }

    @Test func manifestModeWritesRowsTableAndReport() throws {
        let root = try temporaryFolder("eval")
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try EvaluationStage.checkpoint(in: root.appendingPathComponent("runs"))
        let captures = root.appendingPathComponent("captures"), manifest = root.appendingPathComponent("m.sqlite").path
        try EvaluationStage.pair("alpha", in: captures, seed: 1)
        try EvaluationStage.pair("beta", in: captures, seed: 2)
        let ingest = try Executables.run("jdrl-ingest", [captures.path, "--manifest", manifest, "--layout", "generic", "--split", "test"])
        #expect(ingest.status == 0, "\(ingest.output)")
        let report = root.appendingPathComponent("report")
        let arguments = ["--checkpoint", checkpoint.path, "--manifest", manifest, "--split", "test", "--report", report.path, "--tile", "64", "--overlap", "16"]
        let first = try Executables.run("jdrl-eval", arguments)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("| blurry input | "))
        #expect(first.output.contains("| tiny step 2 | "))
        #expect(first.output.contains("4 items scored"))
        let rows = try EvaluationStage.sqlite(manifest, "SELECT count(*) FROM evaluations")
        #expect(rows == "8")
        let markdown = try String(contentsOf: report.appendingPathComponent("results.md"), encoding: .utf8)
        #expect(markdown.contains("PSNR (deformed GT)") && markdown.contains("classical aligner"))
        #expect(FileManager.default.fileExists(atPath: report.appendingPathComponent("index.html").path))
        #expect(FileManager.default.fileExists(atPath: report.appendingPathComponent("curves/tiny.svg").path))
        // Idempotent: a second run scores nothing and prints the same table.
        let second = try Executables.run("jdrl-eval", arguments)
        #expect(second.status == 0 && second.output.contains("0 items scored, 4 already scored"), "\(second.output)")
        #expect(try EvaluationStage.sqlite(manifest, "SELECT count(*) FROM evaluations") == "8")
    }

    /// A pair made by jdrl-synth, ingested and scored with its pairs folder: the report and the end of
    /// the output carry the blur-band tables, results.csv keeps its columns and appends the new ones,
    /// and the manifest holds one row of band sums per (method, band).
    @Test func synthesisedPairsGetTheBlurBandTables() throws {
        let root = try temporaryFolder("eval-bands")
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try EvaluationStage.checkpoint(in: root.appendingPathComponent("runs"))
        let photo = root.appendingPathComponent("photo.png"), pairs = root.appendingPathComponent("pairs")
        try writePNG(photo, width: 640, height: 400, seed: 4)
        // 640 px wide: blur radii up to about 5 px, so all three bands hold pixels.
        let synth = try Executables.run("jdrl-synth", ["--photo", photo.path, "--out", pairs.appendingPathComponent("syn").path,
                                                      "--seed", "3", "--width", "640"])
        #expect(synth.status == 0, "\(synth.output)")
        let captures = root.appendingPathComponent("captures"), manifest = root.appendingPathComponent("m.sqlite").path
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: pairs.appendingPathComponent("syn/blurry.png"), to: captures.appendingPathComponent("syn_blur.png"))
        try FileManager.default.copyItem(at: pairs.appendingPathComponent("syn/gt.png"), to: captures.appendingPathComponent("syn_sharp.png"))
        let ingest = try Executables.run("jdrl-ingest", [captures.path, "--manifest", manifest, "--layout", "generic", "--split", "test"])
        #expect(ingest.status == 0, "\(ingest.output)")
        let report = root.appendingPathComponent("report")
        let run = try Executables.run("jdrl-eval", ["--checkpoint", checkpoint.path, "--manifest", manifest, "--split", "test", "--pairs", pairs.path,
                                                    "--report", report.path, "--tile", "128", "--overlap", "32"])
        #expect(run.status == 0, "\(run.output)")
        #expect(try EvaluationStage.sqlite(manifest, "SELECT count(*) FROM evaluation_bands") == "6")
        #expect(try EvaluationStage.sqlite(manifest, "SELECT count(*) FROM evaluation_bands WHERE pixels > 0 AND hf_sharp > 0") == "6",
                "every band holds pixels with detail")

        // The band tables close the output, and the report holds them.
        let output = run.output
        let tail = try #require(output.range(of: "### By blur radius", options: .backwards)).lowerBound
        #expect(output[tail...].contains("| blurry input | 1 | ") && output[tail...].contains("| tiny step 2 | 1 | "), "\(output)")
        #expect(output[tail...].contains("#### Against the targets (vs the aligned sharp image)"))
        #expect(output[tail...].contains("| tiny step 2 | ") && output[tail...].contains(" of 1 | "))
        let markdown = try String(contentsOf: report.appendingPathComponent("results.md"), encoding: .utf8)
        for band in ["in focus (r <= 1 px)", "1 < r <= 3 px", "r > 3 px"] {
            #expect(markdown.contains("PSNR \(band)") && markdown.contains("detail \(band)"), "\(markdown)")
        }
        #expect(markdown.contains("| blurry input | 1 | ") && markdown.contains("Rec. 709"))
        let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("<h2>By blur radius</h2>") && html.contains("<td>tiny step 2</td>"))
        let csv = try String(contentsOf: report.appendingPathComponent("results.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv[0].hasPrefix("method,checkpoint,split,images,bit_depths,aligner,psnr_gt,ssim_gt,mae_gt,lpips_gt,psnr_deformed_gt"))
        #expect(csv[0].contains("delta_ssim_defocused,pixels_in_focus,pooled_psnr_in_focus,delta_pooled_psnr_in_focus"))
        #expect(csv.count == 3 && csv.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == csv[0].split(separator: ",").count })
        let perImage = try String(contentsOf: report.appendingPathComponent("bands_per_image.csv"), encoding: .utf8).split(separator: "\n")
        #expect(perImage.count == 1 + 6 && perImage[1].hasPrefix("syn,blurry input,,in_focus,"), "\(perImage)")
    }

    /// Shard K of N scores exactly the captures whose key (root|split|name, as in ingest and tile)
    /// FNV-1a hashes to K mod N; together the shards score every capture once.
    @Test func manifestModeShardsSplitTheCapturesAsTheOtherStagesDo() throws {
        let root = try temporaryFolder("eval-shard")
        defer { try? FileManager.default.removeItem(at: root) }
        let captures = root.appendingPathComponent("captures"), manifest = root.appendingPathComponent("m.sqlite").path
        let names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
        for (i, name) in names.enumerated() { try EvaluationStage.pair(name, in: captures, seed: 10 + i) }
        let ingest = try Executables.run("jdrl-ingest", [captures.path, "--manifest", manifest, "--layout", "generic", "--split", "test"])
        #expect(ingest.status == 0, "\(ingest.output)")
        let capturesRoot = try EvaluationStage.sqlite(manifest, "SELECT DISTINCT root FROM captures")

        var scoredByAnyShard: [String] = []
        for k in 0..<2 {
            let run = try Executables.run("jdrl-eval", ["--manifest", manifest, "--split", "test", "--shard", "\(k)/2"])
            #expect(run.status == 0, "\(run.output)")
            let mine = names.filter { EvaluationStage.fnv1a("\(capturesRoot)|test|\($0)") % 2 == UInt64(k) }
            // Per-item log lines: "eval: [i/n] NAME | METHOD | ..."
            let scored = run.output.split(separator: "\n").filter { $0.hasPrefix("eval: [") }
                .compactMap { $0.split(separator: "]").dropFirst().first?.split(separator: "|").first }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(scored.sorted() == mine.sorted(), "shard \(k)/2: \(run.output)")
            #expect(run.output.contains("test split in shard \(k)/2") && run.output.contains("\(mine.count) items scored"), "\(run.output)")
            scoredByAnyShard += scored
        }
        #expect(scoredByAnyShard.sorted() == names.sorted())
        #expect(try EvaluationStage.sqlite(manifest, "SELECT count(*) FROM evaluations") == "\(2 * names.count)")
        let whole = try Executables.run("jdrl-eval", ["--manifest", manifest, "--split", "test"])
        #expect(whole.status == 0 && whole.output.contains("0 items scored, \(names.count) already scored"), "\(whole.output)")
        let outOfRange = try Executables.run("jdrl-eval", ["--manifest", manifest, "--split", "test", "--shard", "2/2"])
        #expect(outOfRange.status == 64 && outOfRange.output.contains("'2/2' is invalid for '--shard <shard>'"), "\(outOfRange.output)")
    }

    @Test func reevaluateRunsOnceAtATimeAndPicksUpNewCaptures() throws {
        let root = try temporaryFolder("reevaluate")
        defer { try? FileManager.default.removeItem(at: root) }
        try EvaluationStage.checkpoint(in: root.appendingPathComponent("runs"))
        let inbox = root.appendingPathComponent("inbox")
        try EvaluationStage.pair("first", in: inbox, seed: 3)
        try Data("not an image".utf8).write(to: inbox.appendingPathComponent("junk_blur.png"))
        try writePNG(inbox.appendingPathComponent("junk_sharp.png"), width: 96, height: 80)

        // When two runs start together: one evaluates, the other says the lock is held and exits 0
        let a = try EvaluationStage.reevaluate(inbox: inbox, root: root), b = try EvaluationStage.reevaluate(inbox: inbox, root: root)
        let outputs = [try a.wait(), try b.wait()]
        #expect(outputs.allSatisfy { $0.status == 0 }, "\(outputs.map(\.output))")
        #expect(outputs.filter { $0.output.contains("another run holds the lock") }.count == 1, "\(outputs.map(\.output))")
        let winner = try #require(outputs.first { !$0.output.contains("another run holds the lock") })
        #expect(winner.output.contains("junk_blur.png") && winner.output.contains("rejected"), "\(winner.output)")
        let history = root.appendingPathComponent("reports/history/history.csv")
        #expect(try String(contentsOf: history, encoding: .utf8).split(separator: "\n").count == 1 + 4)  // first x (blurry, tiny) x (GT, deformed)

        // When nothing is new: it says so and the history stays
        let idle = try EvaluationStage.reevaluate(inbox: inbox, root: root).wait()
        #expect(idle.status == 0 && idle.output.contains("nothing new"), "\(idle.output)")
        #expect(try String(contentsOf: history, encoding: .utf8).split(separator: "\n").count == 1 + 4)

        // When a new pair is dropped in: it appears in the history after the next run
        try EvaluationStage.pair("second", in: inbox, seed: 4)
        let next = try EvaluationStage.reevaluate(inbox: inbox, root: root).wait()
        #expect(next.status == 0, "\(next.output)")
        let lines = try String(contentsOf: history, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1 + 8)
        #expect(lines.filter { $0.contains(",second,") }.count == 4)
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("reports/history/latest/index.html").path))
    }
}

enum EvaluationStage {
    /// runs/tiny/checkpoints/step_00000002/ (net_g.safetensors) + latest.json, and a curves.svg in the run folder.
    @discardableResult
    static func checkpoint(in runs: URL, widths: [Int] = [4, 8, 16]) throws -> URL {
        let run = runs.appendingPathComponent("tiny"), step = run.appendingPathComponent("checkpoints/step_00000002")
        try FileManager.default.createDirectory(at: step, withIntermediateDirectories: true)
        let unet = try UNet(config: UNetConfig(widths: widths, dropout: 0), seed: 11)
        try unet.save(safetensors: step.appendingPathComponent("net_g.safetensors"))
        try Data(#"{"folder": "step_00000002", "step": 2}"#.utf8).write(to: run.appendingPathComponent("checkpoints/latest.json"))
        try Data("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>".utf8).write(to: run.appendingPathComponent("curves.svg"))
        return step
    }

    /// NAME_blur.png / NAME_sharp.png: the same pattern, the blurry one shifted by a few pixels.
    static func pair(_ name: String, in folder: URL, seed: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try writePNG(folder.appendingPathComponent("\(name)_sharp.png"), width: 96, height: 80, seed: seed)
        try writePNG(folder.appendingPathComponent("\(name)_blur.png"), width: 96, height: 80, seed: seed + 100)
    }

    /// FNV-1a, the stable hash `--shard` splits items by (StageSupport's Shard), as the tests' own oracle.
    static func fnv1a(_ key: String) -> UInt64 {
        key.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    static func sqlite(_ path: String, _ query: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, query]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A started pipelines/reevaluate.sh with the test's manifest, runs and reports folders.
    struct Running {
        let process: Process
        let output: URL
        func wait() throws -> Executables.Result {
            process.waitUntilExit()
            return Executables.Result(status: process.terminationStatus, output: try String(contentsOf: output, encoding: .utf8))
        }
    }

    static func reevaluate(inbox: URL, root: URL) throws -> Running {
        let process = Process()
        process.executableURL = Executables.packageRoot.appendingPathComponent("pipelines/reevaluate.sh")
        process.arguments = [inbox.path]
        var environment = ProcessInfo.processInfo.environment
        environment["BIN"] = try Executables.url("jdrl-eval").deletingLastPathComponent().path
        environment["MANIFEST"] = root.appendingPathComponent("m.sqlite").path
        environment["RUNS"] = root.appendingPathComponent("runs").path
        environment["REPORTS"] = root.appendingPathComponent("reports").path
        process.environment = environment
        let output = root.appendingPathComponent("reevaluate-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return Running(process: process, output: output)
    }
}
