import Foundation
import GRDB
import Testing
import Manifest

/// Two shard manifests (as two jobs of a Slurm array write them) folded into the main one, then again.
@Test func mergingShardsInsertsNewRowsKeepsEqualOnesReportsConflictsAndIsIdempotent() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-merge-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    func open(_ name: String) throws -> Manifest { try Manifest.open(path: folder.appendingPathComponent(name).path) }

    let main = try open("main.sqlite")
    let a = try main.register(okCapture("a.png")).capture
    _ = try main.replacePatches([patch(x: 0, y: 0)], for: a, paramsHash: "p")

    // Shard 1 saw a exactly as main did (other ids: it registered an extra capture first) and made b with flows.
    let shard1 = try open("shard-1.sqlite")
    let extra = try shard1.register(okCapture("b.png")).capture
    let a1 = try shard1.register(okCapture("a.png")).capture
    _ = try shard1.replacePatches([patch(x: 0, y: 0)], for: a1, paramsHash: "p")
    let bPatches = try shard1.replacePatches([patch(x: 0, y: 0), patch(x: 256, y: 0)], for: extra, paramsHash: "p")
    try shard1.replaceFlows(["blurry_to_sharp", "sharp_to_blurry"].map {
        FlowRecord(patchId: bPatches[1].id, captureId: extra.id, direction: $0, flowPath: "b-256-\($0).flo", paramsHash: "f")
    })
    // Shard 2 has c, and a version of a with other content (a conflict) with a patch of its own.
    let shard2 = try open("shard-2.sqlite")
    let c = try shard2.register(okCapture("c.png", split: .test)).capture
    _ = try shard2.replacePatches([patch(x: 0, y: 0)], for: c, paramsHash: "p")
    let a2 = try shard2.register(okCapture("a.png", blurryHash: "other")).capture
    _ = try shard2.replacePatches([patch(x: 512, y: 0)], for: a2, paramsHash: "p")

    let first = try main.merge(shardPath: folder.appendingPathComponent("shard-1.sqlite").path)
    let second = try main.merge(shardPath: folder.appendingPathComponent("shard-2.sqlite").path)
    func count(_ report: Manifest.MergeReport, _ table: String) -> String {
        guard let t = report.tables.first(where: { $0.table == table }) else { return "missing" }
        return "+\(t.inserted) =\(t.unchanged) !\(t.conflicts)"
    }
    #expect(count(first, "captures") == "+1 =1 !0")
    #expect(count(first, "patches") == "+2 =1 !0")
    #expect(count(first, "flows") == "+2 =0 !0")
    #expect(count(second, "captures") == "+1 =0 !1")
    #expect(count(second, "patches") == "+1 =0 !0", "the conflicting capture's patch is skipped with it")
    #expect(second.conflicts == ["captures /data/sdd/train/a.png: blurry_hash differ"])

    // The main manifest: a (its own content), b, c; b's flows point at main's row of b's patch at x = 256.
    let captures = try main.captures()
    #expect(captures.map(\.name).sorted() == ["a.png", "b.png", "c.png"])
    #expect(captures.first { $0.name == "a.png" }?.blurryHash == "b1")
    let mainB = try #require(captures.first { $0.name == "b.png" })
    let b256 = try #require(try main.patches(captureID: mainB.id).first { $0.x == 256 })
    #expect(try main.flows(paramsHash: "f").map(\.patchId) == [b256.id, b256.id])
    #expect(try main.patches().count == 4)
    #expect(try main.reader.read { try String.fetchAll($0, sql: "PRAGMA foreign_key_check") }.isEmpty)

    // Again: nothing new.
    let again = try main.merge(shardPath: folder.appendingPathComponent("shard-1.sqlite").path)
    #expect(again.tables.allSatisfy { $0.inserted == 0 && $0.conflicts == 0 }, "\(again)")
    #expect(count(again, "patches") == "+0 =3 !0")
    #expect(throws: MergeError.self) { try main.merge(shardPath: folder.appendingPathComponent("absent.sqlite").path) }
}
