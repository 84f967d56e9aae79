import Foundation
import Testing
import Imaging
import Manifest

/// A generic capture folder with good pairs and every kind of bad item the ingest stage must reject.
struct MixedFolder {
    let root: URL
    let input: URL
    let manifest: URL
    let patches: URL

    init() throws {
        root = try temporaryFolder("stage")
        input = root.appendingPathComponent("captures")
        manifest = root.appendingPathComponent("m.sqlite")
        patches = root.appendingPathComponent("patches")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        func file(_ name: String) -> URL { input.appendingPathComponent(name) }

        // Good: an 8-bit pair (2 patches at stride 256), a 16-bit pair (1 patch), a pair 2 px apart (tolerated).
        try writePNG(file("good8_blur.png"), width: 800, height: 600, seed: 1)
        try writePNG(file("good8_sharp.png"), width: 800, height: 600, seed: 2)
        try writePNG(file("deep16_blur.png"), width: 700, height: 520, bitDepth: 16, seed: 3)
        try writePNG(file("deep16_sharp.png"), width: 700, height: 520, bitDepth: 16, seed: 4)
        try writePNG(file("near_blur.png"), width: 602, height: 520, seed: 5)
        try writePNG(file("near_sharp.png"), width: 600, height: 520, seed: 6)

        // Bad: truncated PNG, zero bytes, text named .png, missing partner, size mismatch.
        try writePNG(file("cut_sharp.png"), width: 600, height: 520, seed: 7)
        let whole = try Data(contentsOf: file("cut_sharp.png"))
        try whole.prefix(whole.count * 2 / 3).write(to: file("cut_blur.png"))
        FileManager.default.createFile(atPath: file("empty_blur.png").path, contents: Data())
        try writePNG(file("empty_sharp.png"), width: 600, height: 520, seed: 8)
        try Data("this is a note, not a picture\n".utf8).write(to: file("note_blur.png"))
        try writePNG(file("note_sharp.png"), width: 600, height: 520, seed: 9)
        try writePNG(file("lonely_blur.png"), width: 600, height: 520, seed: 10)
        try writePNG(file("wide_blur.png"), width: 800, height: 600, seed: 11)
        try writePNG(file("wide_sharp.png"), width: 640, height: 520, seed: 12)
    }

    func ingest() throws -> Executables.Result {
        try Executables.run("jdrl-ingest", [input.path, "--manifest", manifest.path])
    }

    func tile() throws -> Executables.Result {
        try Executables.run("jdrl-tile", ["--manifest", manifest.path, "--out", patches.path, "--protocol", "sdd", "--scale", "1",
                                          "--stride", "256", "--threads", "2"])
    }
}

@Test
func goodPairsAreIngestedAndTiledAndEachBadOneIsNamed() throws {
    let folder = try MixedFolder()
    defer { try? FileManager.default.removeItem(at: folder.root) }

    // When the mixed folder is ingested
    let ingest = try folder.ingest()
    // Then the exit status says "some rejected" and each bad item is named with its reason
    #expect(ingest.status == 3, "ingest output:\n\(ingest.output)")
    let expectations: [(String, String)] = [
        ("cut", "truncated or corrupt"), ("empty", "zero bytes"), ("note", "not an image"),
        ("lonely", "missing partner"), ("wide", "size mismatch"),
    ]
    for (name, reason) in expectations {
        let line = ingest.output.split(separator: "\n").first { $0.contains("rejected train/\(name):") }
        #expect(line?.contains(reason) == true, "no '\(reason)' line for \(name) in:\n\(ingest.output)")
    }

    let manifest = try Manifest.open(path: folder.manifest.path)
    let ok = try manifest.captures(status: .ok).map(\.name).sorted()
    #expect(ok == ["deep16", "good8", "near"])
    #expect(try manifest.captures(status: .rejected).count == 5)
    let deep = try #require(try manifest.captures(status: .ok).first { $0.name == "deep16" })
    #expect(deep.bitDepth == 16 && deep.width == 700 && deep.height == 520 && deep.layout == .generic)
    let near = try #require(try manifest.captures(status: .ok).first { $0.name == "near" })
    #expect(near.notes?.contains("sizes differ by 2x0 px") == true)

    // When the captures are tiled
    let tile = try folder.tile()
    #expect(tile.status == 0, "tile output:\n\(tile.output)")
    let rows = try manifest.patches(keptOnly: true)
    #expect(Dictionary(grouping: rows, by: \.captureId).count == 3, "every good pair is tiled")
    #expect(rows.count == 2 + 1 + 1)
    for row in rows {
        #expect(FileManager.default.fileExists(atPath: row.blurryPath!) && FileManager.default.fileExists(atPath: row.sharpPath!))
        #expect(row.size == 512 && row.scale == 1 && row.protocol == .sdd && (row.sharpness ?? 0) > 0)
    }
    let verify = try Executables.run("jdrl-tile", ["--manifest", folder.manifest.path, "--out", folder.patches.path, "--verify"])
    #expect(verify.status == 0 && verify.output.contains("verify: consistent"), "\(verify.output)")
}

@Test
func sixteenBitInputGivesSixteenBitPatchesWithTheSameSamples() throws {
    let folder = try MixedFolder()
    defer { try? FileManager.default.removeItem(at: folder.root) }
    _ = try folder.ingest()
    #expect(try folder.tile().status == 0)

    let manifest = try Manifest.open(path: folder.manifest.path)
    let deep = try #require(try manifest.captures(status: .ok).first { $0.name == "deep16" })
    let patch = try #require(try manifest.patches(captureID: deep.id).first)
    for (source, patchFile) in [(deep.blurryPath, patch.blurryPath!), (deep.sharpPath, patch.sharpPath!)] {
        let written = try ImageFile.loadRGB(URL(fileURLWithPath: patchFile))
        #expect(written.bitDepth == 16)
        let expected = try ImageFile.loadRGB(URL(fileURLWithPath: source)).image
            .cropped(x: patch.x, y: patch.y, width: 512, height: 512).interleavedBytes()
        #expect(try written.image.interleavedBytes() == expected, "patch \(patchFile) differs from the source crop")
    }
}

@Test
func secondRunsDoNoWorkAndSaySo() throws {
    let folder = try MixedFolder()
    defer { try? FileManager.default.removeItem(at: folder.root) }
    _ = try folder.ingest()
    _ = try folder.tile()
    let manifest = try Manifest.open(path: folder.manifest.path)
    let patchesBefore = try manifest.patches()
    let modified = try FileManager.default.attributesOfItem(atPath: patchesBefore[0].blurryPath!)[.modificationDate] as? Date

    let ingestAgain = try folder.ingest()
    #expect(ingestAgain.output.contains("nothing new"), "\(ingestAgain.output)")
    #expect(ingestAgain.status == 3, "the rejected items are still there and still reported")
    #expect(ingestAgain.output.contains("rejected train/cut:"))
    let tileAgain = try folder.tile()
    #expect(tileAgain.status == 0)
    #expect(tileAgain.output.contains("nothing to do"), "\(tileAgain.output)")
    #expect(try manifest.patches().map(\.id) == patchesBefore.map(\.id))
    let modifiedAfter = try FileManager.default.attributesOfItem(atPath: patchesBefore[0].blurryPath!)[.modificationDate] as? Date
    #expect(modified == modifiedAfter, "no patch file was rewritten")

    // Fixing a bad item: only that pair is ingested and tiled on the next runs.
    try writePNG(folder.input.appendingPathComponent("lonely_sharp.png"), width: 600, height: 520, seed: 13)
    let ingestFixed = try folder.ingest()
    #expect(ingestFixed.output.contains("1 changed"), "\(ingestFixed.output)")
    let tileFixed = try folder.tile()
    #expect(tileFixed.output.contains("1 captures tiled"), "\(tileFixed.output)")
}

@Test
func aKilledRunsLeftoversAreSweptAndTheRunResumes() throws {
    let folder = try MixedFolder()
    defer { try? FileManager.default.removeItem(at: folder.root) }
    _ = try folder.ingest()
    // A killed writer leaves only a hidden partial file, and its capture has no rows yet.
    let leftover = folder.patches.appendingPathComponent("x/train/blur/.partial-1234abcd-good8_x0_y0.png")
    try FileManager.default.createDirectory(at: leftover.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data([0x89, 0x50]).write(to: leftover)
    let tile = try folder.tile()
    #expect(tile.status == 0)
    #expect(!FileManager.default.fileExists(atPath: leftover.path))
    #expect(try Manifest.open(path: folder.manifest.path).patches(keptOnly: true).count == 4)
}

@Test
func dpddProtocolAddsEdgePatchesAndDropsTheLeastSharp() throws {
    let root = try temporaryFolder("dpdd")
    defer { try? FileManager.default.removeItem(at: root) }
    // DPDD layout: train_c/{source,target}.
    for sub in ["train_c/source", "train_c/target"] {
        try FileManager.default.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
    }
    try writePNG(root.appendingPathComponent("train_c/source/a.png"), width: 1000, height: 700, bitDepth: 16, seed: 1)
    try writePNG(root.appendingPathComponent("train_c/target/a.png"), width: 1000, height: 700, bitDepth: 16, seed: 2)
    let manifestPath = root.appendingPathComponent("m.sqlite").path
    let ingest = try Executables.run("jdrl-ingest", [root.path, "--manifest", manifestPath])
    #expect(ingest.status == 0, "\(ingest.output)")
    #expect(ingest.output.contains("layout dpdd"))
    let tile = try Executables.run("jdrl-tile", ["--manifest", manifestPath, "--out", root.appendingPathComponent("p").path, "--protocol", "dpdd"])
    #expect(tile.status == 0, "\(tile.output)")
    // x: 0, 204, 408 (+ edge 488); y: 0 (+ edge 188) -> 8 windows; 30% (2) dropped.
    let rows = try Manifest.open(path: manifestPath).patches()
    #expect(Set(rows.map(\.x)) == [0, 204, 408, 488] && Set(rows.map(\.y)) == [0, 188])
    #expect(rows.filter { !$0.kept }.count == 2)
    let dropped = rows.filter { !$0.kept }.compactMap(\.sharpness), kept = rows.filter(\.kept).compactMap(\.sharpness)
    #expect(dropped.max()! <= kept.min()!)
    #expect(rows.filter { !$0.kept }.allSatisfy { $0.blurryPath == nil })
}

@Test
func helpWorksAndABadCallSaysWhatToDo() throws {
    let help = try Executables.run("jdrl-ingest", ["--help"])
    #expect(help.status == 0 && help.output.contains("--manifest"))
    let bad = try Executables.run("jdrl-ingest", [])
    #expect(bad.status != 0 && bad.output.contains("Give a FOLDER or --config"))
    let badTile = try Executables.run("jdrl-tile", ["--blurry", "a.png"])
    #expect(badTile.status != 0 && badTile.output.contains("Direct mode needs --blurry, --sharp and --out"))
    let missing = try Executables.run("jdrl-synth", ["--photo", "/nonexistent.jpg", "--out", "/tmp/x"])
    #expect(missing.status == 65 && missing.output.contains("/nonexistent.jpg: file not found"))
}

@Test
func sddPreCutTrainPatchesAreRegisteredAsTheyAre() throws {
    let root = try temporaryFolder("sdd")
    defer { try? FileManager.default.removeItem(at: root) }
    for sub in ["train_patches/blur", "train_patches/gt", "test/blur", "test/gt"] {
        try FileManager.default.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
    }
    try writePNG(root.appendingPathComponent("train_patches/blur/p1.png"), width: 512, height: 512, seed: 1)
    try writePNG(root.appendingPathComponent("train_patches/gt/p1.png"), width: 512, height: 512, seed: 2)
    try writePNG(root.appendingPathComponent("test/blur/t1.png"), width: 1100, height: 600, seed: 3)
    try writePNG(root.appendingPathComponent("test/gt/t1.png"), width: 1100, height: 600, seed: 4)
    let manifestPath = root.appendingPathComponent("m.sqlite").path
    let ingest = try Executables.run("jdrl-ingest", [root.path, "--manifest", manifestPath])
    #expect(ingest.status == 0 && ingest.output.contains("layout sdd"), "\(ingest.output)")
    let tile = try Executables.run("jdrl-tile", ["--manifest", manifestPath, "--out", root.appendingPathComponent("p").path,
                                                 "--scale", "1", "--stride", "256"])
    #expect(tile.status == 0, "\(tile.output)")

    let manifest = try Manifest.open(path: manifestPath)
    let train = try #require(try manifest.captures().first { $0.split == .train })
    let trainPatches = try manifest.patches(captureID: train.id)
    #expect(trainPatches.count == 1)
    #expect(trainPatches.first?.blurryPath == train.blurryPath && trainPatches.first?.sharpPath == train.sharpPath)
    let test = try #require(try manifest.captures().first { $0.split == .test })
    #expect(try manifest.patches(captureID: test.id).map(\.x) == [0, 256, 512])
}

/// `synthesis.aligned_gt`: the layout's GT is each pair's aligned sharp image, byte for byte, so a
/// pretraining set has nothing to warp; without the key the GT is the misaligned shot.
@Test
func alignedGTDatasetsCarryTheAlignedSharpImageAsGT() throws {
    let root = try temporaryFolder("aligned-gt")
    defer { try? FileManager.default.removeItem(at: root) }
    let photos = root.appendingPathComponent("photos")
    try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
    try FileManager.default.copyItem(at: Executables.packageRoot.appendingPathComponent("datasets/embedded/photos/sunset.jpg"),
                                     to: photos.appendingPathComponent("sunset.jpg"))
    for aligned in [true, false] {
        let name = aligned ? "aligned" : "misaligned"
        let config = root.appendingPathComponent("\(name).yaml")
        try """
        name: \(name)
        root: \(root.path)/\(name)/SDD
        layout: sdd
        manifest: \(root.path)/\(name).sqlite
        patches: \(root.path)/\(name)/patches
        size_tolerance: 4
        tiling: {protocol: sdd, size: 128, scale: 1.0, stride: 128, drop_least_sharp: 0.0, compression: 1}
        synthesis:
          photos: \(photos.path)
          pairs: \(root.path)/\(name)/pairs
          width: 256
          seed: 5
          test: []
          train_variants: 2
        \(aligned ? "  aligned_gt: true" : "")
        """.write(to: config, atomically: true, encoding: .utf8)
        let synth = try Executables.run("jdrl-synth", ["--config", config.path])
        #expect(synth.status == 0, "\(synth.output)")
        for pair in ["sunset", "sunset-v2"] {
            let gt = try Data(contentsOf: root.appendingPathComponent("\(name)/SDD/train_patches/gt/\(pair).png"))
            let alignedSharp = try Data(contentsOf: root.appendingPathComponent("\(name)/pairs/\(pair)/sharp_aligned.png"))
            let misaligned = try Data(contentsOf: root.appendingPathComponent("\(name)/pairs/\(pair)/gt.png"))
            #expect((gt == alignedSharp) == aligned && (gt == misaligned) == !aligned, "\(name) \(pair)")
        }
    }
}
