import Foundation
import Imaging

/// One generic capture folder holding a pair of every kind of input a researcher's folder may contain,
/// good or bad, made by the test itself (a few KB each; nothing is committed). Its root and one pair's
/// names have spaces and non-ASCII letters. `kinds` says what each pair must get.
struct BadInputCorpus {
    enum Expectation: Equatable {
        /// Ingested as ok; `note` (if any) is part of the capture's notes; `patches` false: too small to tile.
        case kept(note: String?, patches: Bool)
        /// Rejected; the reason holds `reason` and names `file` (a file name in the corpus).
        case rejected(reason: String, file: String)
    }

    struct Kind {
        var name: String
        var what: String
        var expectation: Expectation
    }

    static let width = 96, height = 80
    /// jdrl-tile settings that give small captures a few patches each.
    static let tileArguments = ["--protocol", "sdd", "--scale", "1", "--size", "64", "--stride", "32", "--threads", "2"]

    static let kinds: [Kind] = [
        Kind(name: "good", what: "8-bit RGB PNG pair (control)", expectation: .kept(note: nil, patches: true)),
        Kind(name: "rgba", what: "RGBA PNG", expectation: .kept(note: "blurry has 4 band(s)", patches: true)),
        Kind(name: "grey", what: "greyscale PNG", expectation: .kept(note: "blurry has 1 band(s)", patches: true)),
        Kind(name: "deep16", what: "16-bit PNG pair", expectation: .kept(note: nil, patches: true)),
        Kind(name: "palette", what: "palette (indexed) PNG", expectation: .kept(note: nil, patches: true)),
        Kind(name: "cmyk", what: "CMYK JPEG", expectation: .kept(note: "blurry has 4 band(s) (cmyk)", patches: true)),
        Kind(name: "rotated", what: "EXIF-rotated blurry JPEG beside an unrotated sharp PNG", expectation: .kept(note: "EXIF orientation 6", patches: true)),
        Kind(name: "café au lait", what: "names with spaces and non-ASCII letters", expectation: .kept(note: nil, patches: true)),
        Kind(name: "tiny", what: "smaller than one patch", expectation: .kept(note: nil, patches: false)),
        Kind(name: "cut", what: "truncated PNG", expectation: .rejected(reason: "truncated or corrupt", file: "cut_blur.png")),
        Kind(name: "empty", what: "zero-byte file", expectation: .rejected(reason: "zero bytes", file: "empty_blur.png")),
        Kind(name: "note", what: "text file named .png", expectation: .rejected(reason: "not an image", file: "note_blur.png")),
        Kind(name: "lonely", what: "missing partner", expectation: .rejected(reason: "missing partner", file: "lonely_sharp.png")),
        Kind(name: "wide", what: "blurry and sharp sizes differ beyond the tolerance", expectation: .rejected(reason: "size mismatch", file: "blurry 96x80 vs sharp 66x80")),
        Kind(name: "bomb", what: "decompression bomb: header declares 30000x30000", expectation: .rejected(reason: "above the pixel limit", file: "bomb_blur.png")),
        Kind(name: "dot", what: "1x1 image", expectation: .rejected(reason: "too small for any patch", file: "dot_blur.png")),
        Kind(name: "loop", what: "symbolic link loop", expectation: .rejected(reason: "symbolic link loop", file: "loop_blur.png")),
        Kind(name: "dangling", what: "symbolic link to nothing", expectation: .rejected(reason: "dangling symbolic link", file: "dangling_sharp.png")),
        Kind(name: "folder", what: "a folder named like an image", expectation: .rejected(reason: "is a folder", file: "folder_blur.png")),
        Kind(name: "pipe", what: "a named pipe (FIFO) named like an image", expectation: .rejected(reason: "is not a regular file", file: "pipe_blur.png")),
        Kind(name: "twin", what: "the same pair under a second name", expectation: .rejected(reason: "same content as train/good", file: "good_blur.png")),
        Kind(name: "same", what: "blurry and sharp are the same file content", expectation: .rejected(reason: "have the same content", file: "same_sharp.png")),
    ]

    let base: URL
    let input: URL
    let manifest: URL
    let patches: URL

    init() throws {
        base = try temporaryFolder("corpus")
        input = base.appendingPathComponent("captures ü ß")
        manifest = base.appendingPathComponent("m.sqlite")
        patches = base.appendingPathComponent("patches")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        func file(_ name: String) -> URL { input.appendingPathComponent(name) }
        let (w, h) = (Self.width, Self.height)
        func pair(_ name: String, blurSeed: Int, sharpSeed: Int, bitDepth: Int = 8) throws {
            try writePNG(file("\(name)_blur.png"), width: w, height: h, bitDepth: bitDepth, seed: blurSeed)
            try writePNG(file("\(name)_sharp.png"), width: w, height: h, bitDepth: bitDepth, seed: sharpSeed)
        }
        let manager = FileManager.default

        try pair("good", blurSeed: 1, sharpSeed: 2)
        try CorpusImages.png(file("rgba_blur.png"), width: w, height: h, bands: 4, seed: 3)
        try writePNG(file("rgba_sharp.png"), width: w, height: h, seed: 4)
        try CorpusImages.png(file("grey_blur.png"), width: w, height: h, bands: 1, seed: 5)
        try writePNG(file("grey_sharp.png"), width: w, height: h, seed: 6)
        try pair("deep16", blurSeed: 7, sharpSeed: 8, bitDepth: 16)
        try HandmadePNG.palette(width: w, height: h, seed: 1).write(to: file("palette_blur.png"))
        try HandmadePNG.palette(width: w, height: h, seed: 2).write(to: file("palette_sharp.png"))
        try writePNG(file("cmyk-source.tmp.png"), width: w, height: h, seed: 9)
        try CMYKJPEG.write(from: file("cmyk-source.tmp.png"), to: file("cmyk_blur.jpg"))
        try manager.removeItem(at: file("cmyk-source.tmp.png"))
        try writePNG(file("cmyk_sharp.png"), width: w, height: h, seed: 10)
        let upright = patternBytes(width: w, height: h, bitDepth: 8, seed: 11)
        try CorpusImages.quarterTurnedJPEG(file("rotated_blur.jpg"), uprightRGB: upright, width: w, height: h)
        try VipsImage.fromInterleaved(upright, width: w, height: h, bands: 3, bitDepth: 8).savePNG(to: file("rotated_sharp.png"))
        try pair("café au lait", blurSeed: 12, sharpSeed: 13)
        try writePNG(file("tiny_blur.png"), width: 40, height: 40, seed: 14)
        try writePNG(file("tiny_sharp.png"), width: 40, height: 40, seed: 15)

        try writePNG(file("cut_sharp.png"), width: w, height: h, seed: 16)
        let whole = try Data(contentsOf: file("cut_sharp.png"))
        try whole.prefix(whole.count * 2 / 3).write(to: file("cut_blur.png"))
        manager.createFile(atPath: file("empty_blur.png").path, contents: Data())
        try writePNG(file("empty_sharp.png"), width: w, height: h, seed: 17)
        try Data("this is a note, not a picture\n".utf8).write(to: file("note_blur.png"))
        try writePNG(file("note_sharp.png"), width: w, height: h, seed: 18)
        try writePNG(file("lonely_blur.png"), width: w, height: h, seed: 19)
        try writePNG(file("wide_blur.png"), width: w, height: h, seed: 20)
        try writePNG(file("wide_sharp.png"), width: w - 30, height: h, seed: 21)
        try HandmadePNG.bomb(width: 30000, height: 30000).write(to: file("bomb_blur.png"))
        try writePNG(file("bomb_sharp.png"), width: w, height: h, seed: 22)
        try writePNG(file("dot_blur.png"), width: 1, height: 1, seed: 23)
        try writePNG(file("dot_sharp.png"), width: 1, height: 1, seed: 24)
        try manager.createSymbolicLink(atPath: file("loop_blur.png").path, withDestinationPath: "loop_blur.png")
        try writePNG(file("loop_sharp.png"), width: w, height: h, seed: 25)
        try writePNG(file("dangling_blur.png"), width: w, height: h, seed: 26)
        try manager.createSymbolicLink(atPath: file("dangling_sharp.png").path, withDestinationPath: "moved-away.png")
        try manager.createDirectory(at: file("folder_blur.png"), withIntermediateDirectories: false)
        try writePNG(file("folder_sharp.png"), width: w, height: h, seed: 27)
        // Reading a pipe blocks until someone writes: ingest must name it without opening it.
        guard mkfifo(file("pipe_blur.png").path, 0o644) == 0 else { throw CocoaError(.fileWriteUnknown) }
        try writePNG(file("pipe_sharp.png"), width: w, height: h, seed: 29)
        try manager.copyItem(at: file("good_blur.png"), to: file("twin_blur.png"))
        try manager.copyItem(at: file("good_sharp.png"), to: file("twin_sharp.png"))
        try writePNG(file("same_blur.png"), width: w, height: h, seed: 28)
        try manager.copyItem(at: file("same_blur.png"), to: file("same_sharp.png"))
    }

    func remove() { try? FileManager.default.removeItem(at: base) }

    func ingest(_ extra: [String] = []) throws -> Executables.Result {
        try Executables.run("jdrl-ingest", [input.path, "--manifest", manifest.path] + extra)
    }

    func tile() throws -> Executables.Result {
        try Executables.run("jdrl-tile", ["--manifest", manifest.path, "--out", patches.path] + Self.tileArguments)
    }
}
