import Foundation
import Imaging
import Ingest
import Manifest
import Testing

/// The ingest stage's logic called directly (no executable): layout detection, pairing, validation, rows.

@Test func sddFoldersAreDetectedAndPairedByFileName() throws {
    let root = try scratchFolder("sdd")
    defer { try? FileManager.default.removeItem(at: root) }
    // Given an SDD tree whose test split lacks one sharp file
    try writeTestPNGs(["train_patches/blur/a.png", "train_patches/gt/a.png", "test/blur/b.png"], in: root)

    // When it is detected and scanned
    #expect(LayoutScanner.detect(root) == .sdd)
    let (pairs, ignored) = try LayoutScanner.scan(root, layout: .sdd, genericSplit: .train)

    // Then each file name is one pair in its split, the missing partner expected where SDD puts it
    #expect(ignored.isEmpty)
    #expect(pairs.map(\.name) == ["a.png", "b.png"])
    #expect(pairs.map(\.split) == [.train, .test])
    #expect(pairs[0].blurryPresent && pairs[0].sharpPresent)
    #expect(pairs[1].blurryPresent && !pairs[1].sharpPresent)
    #expect(pairs[1].sharp.path.hasSuffix("test/gt/b.png"))
}

@Test func genericFolderPairsBySuffixAndListsOtherFiles() throws {
    let root = try scratchFolder("generic")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeTestPNGs(["x_blur.png", "x_sharp.tif", "y_blur.png"], in: root)
    try Data("notes".utf8).write(to: root.appendingPathComponent("readme.txt"))

    #expect(LayoutScanner.detect(root) == .generic)
    let (pairs, ignored) = try LayoutScanner.scan(root, layout: .generic, genericSplit: .val)

    #expect(ignored == ["readme.txt"])
    #expect(pairs.map(\.name) == ["x", "y"])
    #expect(pairs.allSatisfy { $0.split == .val })
    #expect(pairs[0].sharp.lastPathComponent == "x_sharp.tif")
    // y's partner is expected with y's own extension
    #expect(pairs[1].sharp.lastPathComponent == "y_sharp.png" && !pairs[1].sharpPresent)
}

@Test func validatorRejectsASizeMismatchBeyondTheToleranceAndAcceptsOneWithin() throws {
    let root = try scratchFolder("validate")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeTestPNG(root.appendingPathComponent("p_blur.png"), width: 40, height: 30, seed: 1)
    try writeTestPNG(root.appendingPathComponent("p_sharp.png"), width: 43, height: 30, bitDepth: 16, seed: 2)
    let pair = try #require(try LayoutScanner.scan(root, layout: .generic, genericSplit: .train).pairs.first)

    let strict = PairValidator(root: root.path, layout: .generic, sizeTolerance: 2)
    let rejected = strict.validate(pair, hashes: strict.hashes(pair))
    #expect(rejected.status == .rejected)
    #expect(rejected.reason?.contains("size mismatch") == true)

    let lenient = PairValidator(root: root.path, layout: .generic, sizeTolerance: 4)
    let accepted = lenient.validate(pair, hashes: lenient.hashes(pair))
    #expect(accepted.status == .ok && accepted.reason == nil)
    #expect(accepted.width == 40 && accepted.height == 30 && accepted.bitDepth == 8)
    #expect(accepted.notes?.contains("bit depths differ") == true)
}

@Test func ingestionRecordsEachPairOnceAndReportsRejects() throws {
    let root = try scratchFolder("ingestion")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeTestPNG(root.appendingPathComponent("good_blur.png"), width: 32, height: 24, seed: 1)
    try writeTestPNG(root.appendingPathComponent("good_sharp.png"), width: 32, height: 24, seed: 2)
    try writeTestPNG(root.appendingPathComponent("alone_blur.png"), width: 32, height: 24, seed: 3)
    let manifest = try Manifest.inMemory()
    let ingestion = Ingestion(manifest: manifest, root: root, layout: .generic, genericSplit: .train, sizeTolerance: 4, threads: 2)

    // When ingested twice
    let first = try ingestion.run()
    let second = try ingestion.run()

    // Then the first run inserts both pairs (one rejected), the second finds nothing new
    #expect(first.inserted == 2 && first.updated == 0 && first.unchanged == 0)
    #expect(first.rejected.map(\.name) == ["alone"])
    #expect(second.inserted == 0 && second.updated == 0 && second.unchanged == 2)
    #expect(second.rejected.map(\.name) == ["alone"], "rejected pairs stay listed on every run")
    #expect(try manifest.captures(status: .ok).map(\.name) == ["good"])
    #expect(first.summary(root: root.path, layout: .generic, manifest: "m").contains("1 rejected"))
}
