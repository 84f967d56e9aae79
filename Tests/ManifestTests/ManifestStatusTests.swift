import Foundation
import Testing
import Manifest

/// `jdrl-manifest status`: counts per stage from a manifest whose content is known row by row.
@Test func statusCountsDonePendingAndRejectedPerStage() throws {
    let manifest = try Manifest.inMemory()
    let a = try manifest.register(okCapture("a.png")).capture
    let b = try manifest.register(okCapture("b.png")).capture
    let test = try manifest.register(okCapture("t.png", split: .test)).capture
    for (name, reason) in [("x", "zero bytes: /in/x_blur.png"), ("y", "zero bytes: /in/y_blur.png"), ("z", "size mismatch: 10x10 vs 12x12")] {
        _ = try manifest.register(Capture(root: "/in", name: name, split: .train, layout: .generic, blurryPath: "/in/\(name)_blur.png",
                                          sharpPath: "/in/\(name)_sharp.png", status: .rejected, reason: reason))
    }
    // a and the test capture tiled (two kept patches and one dropped for a), b not yet.
    var dropped = patch(x: 512, y: 0); dropped.kept = false; dropped.blurryPath = nil; dropped.sharpPath = nil
    let patches = try manifest.replacePatches([patch(x: 0, y: 0), patch(x: 256, y: 0), dropped], for: a, paramsHash: "p")
    _ = try manifest.replacePatches([patch(x: 0, y: 0)], for: test, paramsHash: "p")
    // Both flow directions for the first patch (with colour maps), one direction for the second.
    func flow(_ patch: Patch, _ direction: String, gain: Double) -> FlowRecord {
        var record = FlowRecord(patchId: patch.id, captureId: a.id, direction: direction, flowPath: "\(patch.x)-\(direction).flo", paramsHash: "f")
        record.colourGainR = gain; record.colourGainG = gain; record.colourGainB = gain
        record.colourOffsetR = 0.01; record.colourOffsetG = 0; record.colourOffsetB = -0.01
        return record
    }
    try manifest.replaceFlows([flow(patches[0], "blurry_to_sharp", gain: 1.05), flow(patches[0], "sharp_to_blurry", gain: 0.95),
                               flow(patches[1], "blurry_to_sharp", gain: 0.9)])
    _ = try manifest.replaceEvaluations([Evaluation(method: "blurry_input", captureId: test.id, imageName: "t.png", split: "test", target: .gt,
                                                    aligner: "dis", bitDepth: 8, psnr: 30, ssim: 0.8, mae: 0.02)],
                                        of: test, method: "blurry_input", checkpointPath: nil, stage: "eval", paramsHash: "e")
    _ = b

    let status = try manifest.status()
    #expect(status.captures.map { "\($0.split) \($0.ok) \($0.rejected)" } == ["test 1 0", "train 2 3"])
    #expect(status.rejectionReasons.map { "\($0.reason) \($0.count)" } == ["zero bytes 2", "size mismatch 1"])
    #expect(status.tiling.map { "\($0.stage) \($0.paramsHash) \($0.done) \($0.pending)" } == ["tile p 2 1"])
    #expect(status.patches.map { "\($0.paramsHash) \($0.kept) \($0.dropped)" } == ["p 3 1"])
    let flows = try #require(status.flows.first)
    #expect(status.flows.count == 1 && flows.paramsHash == "f" && flows.patchesDone == 1 && flows.patchesPending == 2)
    // The spread covers the blurry->sharp maps only (the ones training applies): gains 0.9 and 1.05.
    let colour = try #require(flows.colour)
    #expect(colour.maps == 2 && colour.gain[0].min == 0.9 && colour.gain[0].max == 1.05 && colour.offset[2].max == -0.01)
    #expect(status.evaluations.map { "\($0.method) \($0.checkpointPath ?? "-") \($0.split) \($0.captures) \($0.pending)" }
            == ["blurry_input - test 1 0"])
    let text = status.description
    #expect(text.contains("captures: 3 ok, 3 rejected"))
    #expect(text.contains("rejected 2x: zero bytes"))
    #expect(text.contains("tile (params p): 2 captures done, 1 pending"))
    #expect(text.contains("flow (params f): 1 kept patches with both directions, 2 pending"))
}
