import Foundation
import Imaging
import Manifest
import Testing
import Tiling

/// The tile stage's logic called directly: the plan's arithmetic and one capture tiled into the manifest.

@Test func protocolDefaultsAreThePublishedSettings() {
    let sdd = TilingPlan.defaults(for: .sdd)
    #expect(sdd.size == 512 && sdd.scale == 0.5 && sdd.stride == 256 && sdd.dropLeastSharp == 0 && sdd.effectiveScale == 0.5)
    let dpdd = TilingPlan.defaults(for: .dpdd)
    #expect(dpdd.scale == 1 && dpdd.stride == 204 && dpdd.dropLeastSharp == 0.3 && dpdd.effectiveScale == 1)
    // An explicit value wins over the protocol's
    #expect(TilingPlan.defaults(for: .dpdd, stride: 100).stride == 100)
}

@Test func parameterHashIgnoresCompressionOnly() {
    let plan = TilingPlan.defaults(for: .sdd)
    var recompressed = plan
    recompressed.compression = 9
    var restrided = plan
    restrided.stride = 128
    #expect(plan.paramsHash == recompressed.paramsHash)
    #expect(plan.paramsHash != restrided.paramsHash)
}

@Test func leastSharpFractionIsDroppedAndTiesDropTheEarlierPatch() {
    var plan = TilingPlan.defaults(for: .dpdd)
    plan.dropLeastSharp = 0.5
    #expect(plan.keptMask(sharpness: [3, 1, 1, 4]) == [true, false, false, true])
    #expect(plan.keptMask(sharpness: [2, 1, 1, 1, 5]) == [true, false, false, true, true])
    plan.dropLeastSharp = 0
    #expect(plan.keptMask(sharpness: [2, 1]) == [true, true])
}

@Test func manifestTilingCutsOkCapturesOnceAndWritesTheirFiles() throws {
    let root = try scratchFolder("tiling")
    defer { try? FileManager.default.removeItem(at: root) }
    let blurry = root.appendingPathComponent("c_blur.png"), sharp = root.appendingPathComponent("c_sharp.png")
    try writeTestPNG(blurry, width: 96, height: 64, seed: 1)
    try writeTestPNG(sharp, width: 96, height: 64, bitDepth: 16, seed: 2)
    let manifest = try Manifest.inMemory()
    let capture = Capture(root: root.path, name: "c", split: .train, layout: .generic, blurryPath: blurry.path, sharpPath: sharp.path,
                          width: 96, height: 64, bitDepth: 8, blurryHash: "b", sharpHash: "s", status: .ok, reason: nil)
    _ = try manifest.register(capture)
    let plan = TilingPlan(protocol: .sdd, size: 32, scale: 1, stride: 32, dropLeastSharp: 0, compression: 1)
    let out = root.appendingPathComponent("patches")
    let tiling = ManifestTiling(manifest: manifest, plan: plan, out: out, threads: 2)

    // When tiled twice
    #expect(try tiling.run().isEmpty)
    let afterFirst = try manifest.patches(keptOnly: true)
    #expect(try tiling.run().isEmpty)

    // Then a 3x2 grid of patches exists once, each file in place
    #expect(afterFirst.count == 6)
    #expect(try manifest.patches(keptOnly: true).map(\.id) == afterFirst.map(\.id), "the second run redid nothing")
    #expect(Set(afterFirst.map { "\($0.x),\($0.y)" }) == ["0,0", "32,0", "64,0", "0,32", "32,32", "64,32"])
    let first = try #require(afterFirst.first)
    let sharpPatch = try ImageFile.loadRGB(URL(fileURLWithPath: try #require(first.sharpPath)))
    #expect(sharpPatch.width == 32 && sharpPatch.height == 32)
    #expect(try PatchVerifier(manifest: manifest, out: out).run().consistent)
}
