import Foundation
import GRDB
import Manifest
import Testing

/// Band sums are stored with their capture's scores: replaced together, one row per band, and merged
/// from shards by what they are.
@Test func bandSumsAreReplacedWithTheScoresAndMergeFromShards() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-bands-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    func open(_ name: String) throws -> Manifest { try Manifest.open(path: folder.appendingPathComponent(name).path) }
    func rows(_ capture: Capture, error: Double) -> ([Evaluation], [EvaluationBandScore]) {
        ([Evaluation(method: "blurry_input", captureId: capture.id, imageName: capture.name, split: "test", target: .alignedSharp,
                     bitDepth: 8, psnr: 30, ssim: 0.9, mae: 0.01)],
         BlurBand.allCases.map { EvaluationBandScore(method: "blurry_input", checkpointPath: nil, captureId: capture.id!, imageName: capture.name,
                                                     split: "test", band: $0, pixels: 10, channels: 3, squaredError: error, hfPixels: 4,
                                                     hfScored: 1, hfSharp: 2) })
    }

    let shard = try open("shard.sqlite")
    _ = try shard.register(okCapture("x.png", split: .test))
    let c = try shard.register(okCapture("c.png", split: .test)).capture
    var (scores, bands) = rows(c, error: 0.5)
    _ = try shard.replaceEvaluations(scores, bands: bands, of: c, method: "blurry_input", checkpointPath: nil, stage: "eval", paramsHash: "h")
    (scores, bands) = rows(c, error: 0.25)
    _ = try shard.replaceEvaluations(scores, bands: bands, of: c, method: "blurry_input", checkpointPath: nil, stage: "eval", paramsHash: "h")
    let stored = try shard.evaluationBands(captureIDs: [c.id!])
    #expect(stored.count == 3 && stored.allSatisfy { $0.squaredError == 0.25 }, "replaced, not added")
    #expect(stored.map(\.band) == BlurBand.allCases)

    // A second row for the same (capture, method, band) is refused by the schema.
    #expect(throws: DatabaseError.self) {
        try DatabaseQueue(path: folder.appendingPathComponent("shard.sqlite").path).write { db in
            var again = stored[0]
            again.id = nil
            try again.insert(db)
        }
    }

    let main = try open("main.sqlite")
    let mainC = try main.register(okCapture("c.png", split: .test)).capture
    let merged = try main.merge(shardPath: folder.appendingPathComponent("shard.sqlite").path)
    let table = try #require(merged.tables.first { $0.table == "evaluation_bands" })
    #expect(table.inserted == 3 && table.conflicts == 0)
    #expect(try main.evaluationBands(captureIDs: [mainC.id!]).map(\.squaredError) == [0.25, 0.25, 0.25], "the shard's capture id is mapped to main's")
    let again = try main.merge(shardPath: folder.appendingPathComponent("shard.sqlite").path)
    #expect(again.tables.first { $0.table == "evaluation_bands" }?.unchanged == 3)
}
