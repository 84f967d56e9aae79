import Foundation
import Testing
import Imaging

/// A fresh temporary folder per test, removed by the caller's `defer`.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-imaging-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Deterministic test pattern: every sample differs from its neighbours, full range used.
func patternBytes(width: Int, height: Int, bands: Int, bitDepth: Int) -> [UInt8] {
    var generator: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 { generator = generator &* 6364136223846793005 &+ 1442695040888963407; return generator >> 33 }
    if bitDepth == 16 {
        let samples = (0..<(width * height * bands)).map { _ in UInt16(truncatingIfNeeded: next()) }
        return samples.withUnsafeBytes { [UInt8]($0) }
    }
    return (0..<(width * height * bands)).map { _ in UInt8(truncatingIfNeeded: next()) }
}

@Test(arguments: [8, 16])
func pngRoundTripKeepsEverySample(bitDepth: Int) throws {
    let folder = try temporaryFolder(); defer { try? FileManager.default.removeItem(at: folder) }
    let bytes = patternBytes(width: 37, height: 23, bands: 3, bitDepth: bitDepth)
    let url = folder.appendingPathComponent("pattern.png")
    try VipsImage.fromInterleaved(bytes, width: 37, height: 23, bands: 3, bitDepth: bitDepth).savePNG(to: url, compression: 6)

    let loaded = try ImageFile.loadRGB(url)
    #expect(loaded.bitDepth == bitDepth)
    #expect(loaded.notes.isEmpty)
    #expect(try loaded.image.interleavedBytes() == bytes)
    let header = try ImageFile.probe(url)
    #expect(header == ImageHeader(width: 37, height: 23, bands: 3, bitDepth: bitDepth, format: bitDepth == 16 ? "ushort" : "uchar",
                                  interpretation: bitDepth == 16 ? "rgb16" : "srgb"))
}

@Test(arguments: [8, 16])
func planarRoundTripIsExact(bitDepth: Int) throws {
    let folder = try temporaryFolder(); defer { try? FileManager.default.removeItem(at: folder) }
    let bytes = patternBytes(width: 16, height: 9, bands: 3, bitDepth: bitDepth)
    let planar = PixelConversion.planar(fromInterleaved: bytes, width: 16, height: 9, channels: 3, bitDepth: bitDepth)
    #expect(PixelConversion.interleavedBytes(from: planar) == bytes)
    let url = folder.appendingPathComponent("planar.png")
    try planar.savePNG(to: url)
    let back = try PlanarImage.load(url)
    #expect(back == planar)
}

@Test func greyscaleIsReplicatedToRGBWithANote() throws {
    let folder = try temporaryFolder(); defer { try? FileManager.default.removeItem(at: folder) }
    let grey = patternBytes(width: 8, height: 5, bands: 1, bitDepth: 16)
    let url = folder.appendingPathComponent("grey16.png")
    try VipsImage.fromInterleaved(grey, width: 8, height: 5, bands: 1, bitDepth: 16).savePNG(to: url)

    let loaded = try ImageFile.loadRGB(url)
    #expect(loaded.bitDepth == 16)
    #expect(loaded.image.bands == 3)
    #expect(loaded.notes.contains("greyscale replicated to RGB"))
    let planar = try PixelConversion.planar(from: loaded.image)
    let source = PixelConversion.planar(fromInterleaved: grey, width: 8, height: 5, channels: 1, bitDepth: 16)
    for c in 0..<3 { #expect(Array(planar.pixels[(c * 40)..<((c + 1) * 40)]) == source.pixels) }
}

@Test func rgbaDropsAlphaWithANote() throws {
    let folder = try temporaryFolder(); defer { try? FileManager.default.removeItem(at: folder) }
    let rgba = patternBytes(width: 6, height: 4, bands: 4, bitDepth: 8)
    let url = folder.appendingPathComponent("rgba.png")
    try VipsImage.fromInterleaved(rgba, width: 6, height: 4, bands: 4, bitDepth: 8).savePNG(to: url)

    let loaded = try ImageFile.loadRGB(url)
    #expect(loaded.image.bands == 3)
    #expect(loaded.notes.contains { $0.hasPrefix("alpha channel dropped") })
    let rgb = try loaded.image.interleavedBytes()
    var expected: [UInt8] = []
    for i in 0..<24 { expected += rgba[(i * 4)..<(i * 4 + 3)] }
    #expect(rgb == expected)
}

@Test func cropTakesTheRequestedRectangle() throws {
    let bytes = patternBytes(width: 20, height: 10, bands: 3, bitDepth: 8)
    let image = try VipsImage.fromInterleaved(bytes, width: 20, height: 10, bands: 3, bitDepth: 8).materialized()
    let crop = try image.cropped(x: 5, y: 2, width: 4, height: 3)
    #expect(crop.width == 4 && crop.height == 3)
    var expected: [UInt8] = []
    for y in 2..<5 {
        let start = (y * 20 + 5) * 3
        expected += bytes[start..<(start + 12)]
    }
    #expect(try crop.interleavedBytes() == expected)
    #expect(throws: ImagingError.self) { try image.cropped(x: 18, y: 0, width: 4, height: 4) }
}

@Test func resizeHalvesTheSizeAndKeepsFlatValues() throws {
    // A constant image stays constant under Lanczos3; a 16-bit one stays 16-bit.
    let samples = [UInt16](repeating: 40_000, count: 64 * 32 * 3)
    let bytes = samples.withUnsafeBytes { [UInt8]($0) }
    let image = try VipsImage.fromInterleaved(bytes, width: 64, height: 32, bands: 3, bitDepth: 16)
    let half = try image.resized(scale: 0.5)
    #expect(half.width == 32 && half.height == 16 && half.bitDepth == 16)
    let planar = try PixelConversion.planar(from: half)
    #expect(planar.pixels.allSatisfy { abs($0 - 40_000 / 65535) < 1e-4 })
    let exact = try image.resized(width: 48, height: 20)
    #expect(exact.width == 48 && exact.height == 20)
}

@Test func badFilesFailWithTheirReason() throws {
    let folder = try temporaryFolder(); defer { try? FileManager.default.removeItem(at: folder) }
    let empty = folder.appendingPathComponent("empty.png")
    FileManager.default.createFile(atPath: empty.path, contents: Data())
    #expect(throws: ImagingError.zeroBytes(path: empty.path)) { try ImageFile.probe(empty) }

    let text = folder.appendingPathComponent("notes.png")
    try Data("just some text, not pixels\n".utf8).write(to: text)
    #expect(throws: ImagingError.notAnImage(path: text.path)) { try ImageFile.probe(text) }

    let missing = folder.appendingPathComponent("absent.png")
    #expect(throws: ImagingError.missing(path: missing.path)) { try ImageFile.probe(missing) }

    // A truncated PNG has a valid header; only a full decode finds the missing rows.
    let good = folder.appendingPathComponent("good.png")
    try VipsImage.fromInterleaved(patternBytes(width: 200, height: 200, bands: 3, bitDepth: 8), width: 200, height: 200, bands: 3,
                                  bitDepth: 8).savePNG(to: good, compression: 0)
    let whole = try Data(contentsOf: good)
    let truncated = folder.appendingPathComponent("truncated.png")
    try whole.prefix(whole.count / 2).write(to: truncated)
    #expect(try ImageFile.probe(truncated).width == 200)
    do {
        _ = try ImageFile.verifyDecodes(truncated)
        Issue.record("a truncated PNG decoded without error")
    } catch let error as ImagingError {
        guard case .truncatedOrCorrupt(let path, _) = error else { Issue.record("wrong error \(error)"); return }
        #expect(path == truncated.path)
    }
    #expect(try ImageFile.verifyDecodes(good).width == 200)
}

@Test func exifOrientationIsApplied() throws {
    let folder = try temporaryFolder(); defer { try? FileManager.default.removeItem(at: folder) }
    // Orientation 6 means "rotate 90 degrees clockwise to view": stored 40x20, seen as 20x40.
    let stored = try VipsImage.fromInterleaved(patternBytes(width: 40, height: 20, bands: 3, bitDepth: 8), width: 40, height: 20,
                                               bands: 3, bitDepth: 8)
    let url = folder.appendingPathComponent("rotated.jpg")
    try stored.withOrientation(6).saveJPEG(to: url, quality: 95)

    let loaded = try ImageFile.loadRGB(url)
    #expect(loaded.width == 20 && loaded.height == 40)
    #expect(loaded.notes.contains("EXIF orientation 6 applied"))
}
