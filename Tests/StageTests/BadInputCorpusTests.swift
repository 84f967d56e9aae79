import Foundation
import GRDB
import Imaging
import Manifest
import Testing

/// The bad-input corpus end to end: `jdrl-ingest` and `jdrl-tile` as a user runs them, over real files.
/// docs/reliability.md ("What bad input gets") lists each kind with the test that proves it.
@Suite(.serialized) struct BadInputCorpusTests {
    @Test func everyGoodPairIsKeptAndEveryBadOneNamedWithItsReason() throws {
        let corpus = try BadInputCorpus()
        defer { corpus.remove() }

        // When the corpus is ingested
        let ingest = try corpus.ingest()
        // Then "some rejected" is the exit status, and every kind got what it should
        #expect(ingest.status == 3, "\(ingest.output)")
        let manifest = try Manifest.open(path: corpus.manifest.path)
        let captures = Dictionary(uniqueKeysWithValues: try manifest.captures().map { ($0.name, $0) })
        #expect(captures.count == BadInputCorpus.kinds.count, "one row per pair: \(captures.keys.sorted())")
        for kind in BadInputCorpus.kinds {
            let capture = try #require(captures[kind.name], "no row for \(kind.name) (\(kind.what))")
            switch kind.expectation {
            case let .kept(note, _):
                #expect(capture.status == .ok, "\(kind.what): \(capture.reason ?? "")")
                if let note { #expect(capture.notes?.contains(note) == true, "\(kind.what): notes \(capture.notes ?? "none")") }
            case let .rejected(reason, file):
                #expect(capture.status == .rejected, "\(kind.what) was accepted")
                let stated = capture.reason ?? ""
                #expect(stated.contains(reason) && stated.contains(file), "\(kind.what): reason '\(stated)' lacks '\(reason)' or '\(file)'")
                let line = ingest.output.split(separator: "\n").first { $0.contains("rejected train/\(kind.name):") }
                #expect(line?.contains(reason) == true, "\(kind.what): no line in\n\(ingest.output)")
            }
        }
        let deep = try #require(captures["deep16"]), rotated = try #require(captures["rotated"])
        #expect(deep.bitDepth == 16)
        #expect(rotated.width == BadInputCorpus.width && rotated.height == BadInputCorpus.height, "sizes compared upright")

        // When the kept pairs are tiled
        let tile = try corpus.tile()
        #expect(tile.status == 0, "\(tile.output)")
        #expect(tile.output.contains("no patches train/tiny (40x40"), "the too-small capture is named: \(tile.output)")
        for kind in BadInputCorpus.kinds {
            guard case let .kept(_, expectsPatches) = kind.expectation, let id = captures[kind.name]?.id else { continue }
            let rows = try manifest.patches(captureID: id, keptOnly: true)
            #expect(rows.isEmpty != expectsPatches, "\(kind.what): \(rows.count) patches")
            for row in rows {
                // Then every patch is plain RGB in its capture's bit depth, whatever the file was
                let header = try ImageFile.probe(URL(fileURLWithPath: try #require(row.blurryPath)))
                #expect(header.bands == 3 && header.bitDepth == (kind.name == "deep16" ? 16 : 8) && header.orientation <= 1,
                        "\(kind.what): patch \(header)")
            }
        }
        // The EXIF-rotated blurry image is cut upright: its patch is the sharp patch (up to JPEG loss).
        let rotatedPatch = try #require(try manifest.patches(captureID: rotated.id, keptOnly: true).first)
        let blurry = try ImageFile.loadRGB(URL(fileURLWithPath: rotatedPatch.blurryPath!)).image.interleavedBytes()
        let sharp = try ImageFile.loadRGB(URL(fileURLWithPath: rotatedPatch.sharpPath!)).image.interleavedBytes()
        let meanDifference = zip(blurry, sharp).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(blurry.count)
        #expect(meanDifference < 4, "rotated blurry patch differs from the sharp one by \(meanDifference) on average")

        // A second run changes nothing and still names every rejected pair
        let again = try corpus.ingest()
        #expect(again.status == 3 && again.output.contains("nothing new"), "\(again.output)")
        let rejectedCount = BadInputCorpus.kinds.filter { if case .rejected = $0.expectation { return true }; return false }.count
        #expect(again.output.contains("\(rejectedCount) rejected:"), "\(again.output)")
        let okNow = try manifest.captures(status: .ok).count
        print("bad-input corpus: \(BadInputCorpus.kinds.count) pair kinds tried: \(okNow) kept, \(rejectedCount) rejected with a reason, "
              + "\(BadInputCorpus.kinds.count - okNow - rejectedCount) lost")
    }

    @Test func thePixelLimitIsConfigurableAndCheckedBeforeDecoding() throws {
        let folder = try temporaryFolder("pixels")
        defer { try? FileManager.default.removeItem(at: folder) }
        try writePNG(folder.appendingPathComponent("p_blur.png"), width: 96, height: 80, seed: 1)
        try writePNG(folder.appendingPathComponent("p_sharp.png"), width: 96, height: 80, seed: 2)
        let manifest = folder.appendingPathComponent("m.sqlite").path

        // 96x80 = 7680 px: refused under a 5000 px limit, accepted under the default
        let strict = try Executables.run("jdrl-ingest", [folder.path, "--manifest", manifest, "--max-megapixels", "0.005"])
        #expect(strict.status == 3 && strict.output.contains("header declares 96x80 (7680 px), above the pixel limit of 5000 px"), "\(strict.output)")
        let lenient = try Executables.run("jdrl-ingest", [folder.path, "--manifest", manifest])
        #expect(lenient.status == 0, "\(lenient.output)")
        #expect(try Manifest.open(path: manifest).captures(status: .ok).count == 1)

        // A 30000x30000 header behind 200 bytes is refused at once, not decoded (which takes minutes)
        try HandmadePNG.bomb(width: 30000, height: 30000).write(to: folder.appendingPathComponent("b_blur.png"))
        try writePNG(folder.appendingPathComponent("b_sharp.png"), width: 96, height: 80, seed: 3)
        let started = Date()
        let bomb = try Executables.run("jdrl-ingest", [folder.path, "--manifest", manifest])
        #expect(bomb.status == 3 && bomb.output.contains("30000x30000 (900.0 Mpx), above the pixel limit of 200.0 Mpx"), "\(bomb.output)")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test(.enabled(if: UnreadableFile.canTest, UnreadableFile.skipReason))
    func anUnreadableFileIsNamedWithThePermissionProblem() throws {
        let folder = try temporaryFolder("perm")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Open to the unprivileged user the test may run ingest as (when the tests run as root).
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: folder.path)
        for (name, seed) in [("ok", 1), ("locked", 3)] {
            try writePNG(folder.appendingPathComponent("\(name)_blur.png"), width: 96, height: 80, seed: seed)
            try writePNG(folder.appendingPathComponent("\(name)_sharp.png"), width: 96, height: 80, seed: seed + 1)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: folder.appendingPathComponent("locked_sharp.png").path)
        let manifest = folder.appendingPathComponent("m.sqlite").path

        let result = try UnreadableFile.runIngest([folder.path, "--manifest", manifest])
        #expect(result.status == 3, "\(result.output)")
        let line = result.output.split(separator: "\n").first { $0.contains("rejected train/locked:") }
        #expect(line?.contains("locked_sharp.png: cannot be opened for reading (Permission denied)") == true, "\(result.output)")
        #expect(result.output.contains("1 ok, 1 rejected") || result.output.contains("; 1 ok, 1 rejected"), "\(result.output)")
    }
}

/// A file the ingesting user may not read. Root reads every file, so as root the ingest runs as the
/// unprivileged `nobody` (setpriv, util-linux); where that user cannot run the build's jdrl-ingest (no
/// setpriv, a private build folder) a root run cannot test this and says so.
enum UnreadableFile {
    static let setpriv = "/usr/bin/setpriv"
    static let canTest: Bool = {
        guard geteuid() == 0 else { return true }
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { return false }
        return (try? runIngest(["--help"]).status) == 0
    }()
    static let skipReason: Comment = "running as root, and `nobody` cannot run this build's jdrl-ingest through /usr/bin/setpriv: root reads any file, so permissions cannot be tested"

    static func runIngest(_ arguments: [String]) throws -> Executables.Result {
        let binary = try Executables.url("jdrl-ingest")
        guard geteuid() == 0 else { return try Executables.run("jdrl-ingest", arguments) }
        return try Executables.run(executable: URL(fileURLWithPath: setpriv), ["--reuid=65534", "--regid=65534", "--clear-groups", binary.path] + arguments)
    }
}
