import Foundation
import Imaging
import Ingest
import Manifest
import Testing

/// Faults of the ingest stage that need a moment the executable cannot be stopped at: a file rewritten
/// between hashing and decoding, and a copy of a pair arriving after the pair itself.

@Test func aFileRewrittenWhileItIsReadIsRejectedAndReadAgainOnTheNextRun() throws {
    let root = try scratchFolder("changing")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeTestPNG(root.appendingPathComponent("p_blur.png"), width: 40, height: 30, seed: 1)
    try writeTestPNG(root.appendingPathComponent("p_sharp.png"), width: 40, height: 30, seed: 2)
    let pair = try #require(try LayoutScanner.scan(root, layout: .generic, genericSplit: .train).pairs.first)
    let validator = PairValidator(root: root.path, layout: .generic, sizeTolerance: 4)

    // Given the hashes taken when ingest found the pair, and the sharp file rewritten right after
    let hashesAtScan = validator.hashes(pair)
    try writeTestPNG(pair.sharp, width: 40, height: 30, seed: 3)

    // Then validating against those hashes refuses the pair, naming the file, instead of storing a stale hash
    let capture = validator.validate(pair, hashes: hashesAtScan)
    #expect(capture.status == .rejected)
    #expect(capture.reason?.contains("sharp \(pair.sharp.path) changed while it was being read") == true, "\(capture.reason ?? "")")

    // And the next run (files now still) stores the new content's hash
    let manifest = try Manifest.inMemory()
    _ = try manifest.register(capture)
    let report = try Ingestion(manifest: manifest, root: root, layout: .generic, genericSplit: .train, sizeTolerance: 4, threads: 2).run()
    #expect(report.updated == 1 && report.rejected.isEmpty)
    let stored = try #require(try manifest.captures(status: .ok).first)
    #expect(stored.sharpHash == (try ContentHash.of(fileAt: pair.sharp)))
}

@Test func aCopyArrivingInALaterRunIsRefusedAndTheOriginalKept() throws {
    let root = try scratchFolder("copies")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeTestPNG(root.appendingPathComponent("zeta_blur.png"), width: 40, height: 30, seed: 1)
    try writeTestPNG(root.appendingPathComponent("zeta_sharp.png"), width: 40, height: 30, seed: 2)
    let manifest = try Manifest.inMemory()
    let ingestion = Ingestion(manifest: manifest, root: root, layout: .generic, genericSplit: .train, sizeTolerance: 4, threads: 2)
    _ = try ingestion.run()

    // When a copy sorting before the original arrives later
    for role in ["blur", "sharp"] {
        try FileManager.default.copyItem(at: root.appendingPathComponent("zeta_\(role).png"), to: root.appendingPathComponent("alpha_\(role).png"))
    }
    let second = try ingestion.run()
    let third = try ingestion.run()

    // Then the pair registered first stays, the copy is refused naming it, and reruns change nothing
    #expect(second.rejected.map(\.name) == ["alpha"])
    #expect(second.rejected.first?.reason?.contains("same content as train/zeta") == true, "\(second.rejected.first?.reason ?? "")")
    #expect(try manifest.captures(status: .ok).map(\.name) == ["zeta"])
    #expect(third.inserted == 0 && third.updated == 0 && third.unchanged == 2)
}
