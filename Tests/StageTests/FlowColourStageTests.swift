import Foundation
import GRDB
import Imaging
import Manifest
import Testing

/// jdrl-flow in manifest mode stores the colour fit beside each flow, fills it in for rows from before
/// it existed, and prints its spread over the dataset.
@Suite
struct FlowColourStageTests {
    static let (width, height) = (160, 128)
    static let gain = [1.06, 1.0, 0.9], offset = [0.005, 0.02, 0.0]

    /// The sinusoid texture of FlowStageTests sampled at (x + dx, y + dy), box-blurred `passes` times, then relit.
    static func write(_ url: URL, dx: Int, dy: Int, passes: Int, relit: Bool) throws {
        var planes = [[Double]](repeating: [Double](repeating: 0, count: width * height), count: 3)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            let (u, v) = (Double(x + dx), Double(y + dy))
            planes[c][y * width + x] = 0.5 + 0.18 * sin(0.21 * u + 0.05 * v + Double(c)) + 0.15 * sin(0.07 * u - 0.19 * v + 1)
                + 0.1 * sin(0.13 * u + 0.11 * v + 2)
        } } }
        // The relit (blurry) shot: defocus and exposure act on linear light (IEC 61966-2-1 curve).
        func toLinear(_ v: Double) -> Double { v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4) }
        func fromLinear(_ v: Double) -> Double { let c = min(max(v, 0), 1); return c <= 0.0031308 ? c * 12.92 : 1.055 * pow(c, 1 / 2.4) - 0.055 }
        if relit { planes = planes.map { $0.map(toLinear) } }
        for _ in 0..<passes {
            planes = planes.map { p in
                var out = p
                for y in 0..<height { for x in 0..<width {
                    var sum = 0.0
                    for j in -1...1 { for i in -1...1 { sum += p[min(max(y + j, 0), height - 1) * width + min(max(x + i, 0), width - 1)] } }
                    out[y * width + x] = sum / 9
                } }
                return out
            }
        }
        var bytes = [UInt8]()
        for i in 0..<(width * height) { for c in 0..<3 {
            let value = relit ? fromLinear(gain[c] * planes[c][i] + offset[c]) : planes[c][i]
            bytes.append(UInt8((min(max(value, 0), 1) * 255).rounded()))
        } }
        try VipsImage.fromInterleaved(bytes, width: width, height: height, bands: 3, bitDepth: 8).savePNG(to: url)
    }

    @Test func theColourFitIsStoredFilledInAndSummarised() throws {
        let root = try temporaryFolder("flow-colour")
        defer { try? FileManager.default.removeItem(at: root) }
        // Given one patch whose blurry image is shifted, blurred and relit,
        let blurry = root.appendingPathComponent("b.png"), sharp = root.appendingPathComponent("s.png")
        try Self.write(blurry, dx: 2, dy: -1, passes: 2, relit: true)
        try Self.write(sharp, dx: 0, dy: 0, passes: 0, relit: false)
        let manifestPath = root.appendingPathComponent("m.sqlite").path
        let manifest = try Manifest.open(path: manifestPath)
        let capture = try manifest.register(Capture(root: root.path, name: "p", split: .train, layout: .generic, blurryPath: blurry.path,
                                                    sharpPath: sharp.path, width: Self.width, height: Self.height, bitDepth: 8,
                                                    blurryHash: "b", sharpHash: "s", status: .ok)).capture
        try manifest.replacePatches([Patch(captureId: 0, split: .train, blurryPath: blurry.path, sharpPath: sharp.path, x: 0, y: 0,
                                           size: Self.width, scale: 1, protocol: .sdd, sharpness: 0.01, kept: true, paramsHash: "t")],
                                    for: capture, paramsHash: "t")
        let arguments = ["--manifest", manifestPath, "--output-directory", root.appendingPathComponent("flows").path, "--threads", "2"]

        // when jdrl-flow runs,
        let first = try Executables.run("jdrl-flow", arguments)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("jdrl-flow: colour over 1 items (blurry ~ gain * warped sharp + offset in linear light"), "\(first.output)")
        // then both flow rows carry a colour map: blurry_to_sharp the relight (within 3 % here: 8-bit files and a
        // three-sinusoid texture; FlowTests checks the 1 % accuracy on a broadband one), sharp_to_blurry its inverse.
        let rows = try manifest.reader.read { try FlowRecord.order(Column("direction")).fetchAll($0) }
        #expect(rows.map(\.direction) == ["blurry_to_sharp", "sharp_to_blurry"])
        let forward = try #require(rows[0].colourMap), backward = try #require(rows[1].colourMap)
        for c in 0..<3 {
            #expect(abs(forward.gain[c] / Self.gain[c] - 1) < 0.03, "gain \(c): \(forward.gain[c]) vs \(Self.gain[c])")
            #expect(abs(forward.offset[c] - Self.offset[c]) < 0.03, "offset \(c): \(forward.offset[c]) vs \(Self.offset[c])")
            #expect(abs(backward.gain[c] * forward.gain[c] - 1) < 1e-9 && abs(backward.offset[c] + forward.offset[c] / forward.gain[c]) < 1e-9)
        }

        // Rows from before the colour fit existed get it without their flows being redone.
        // (through a connection of the test's own: the Manifest API offers no way to erase a fit)
        try DatabaseQueue(path: manifestPath).write { db in
            try db.execute(sql: "UPDATE flows SET colour_space = NULL, colour_gain_r = NULL, colour_gain_g = NULL, colour_gain_b = NULL, colour_offset_r = NULL, colour_offset_g = NULL, colour_offset_b = NULL, colour_residual = NULL")
        }
        let second = try Executables.run("jdrl-flow", arguments)
        #expect(second.status == 0 && second.output.contains("1 items, 0 already done, 1 given their colour fit, 0 failed"), "\(second.output)")
        let filled = try manifest.reader.read { try FlowRecord.order(Column("direction")).fetchAll($0) }
        #expect(filled.map(\.id) == rows.map(\.id) && filled.map(\.flowPath) == rows.map(\.flowPath))
        #expect(filled.map { $0.colourMap?.gain } == rows.map { $0.colourMap?.gain })
        let third = try Executables.run("jdrl-flow", arguments)
        #expect(third.status == 0 && third.output.contains("1 items, 1 already done, 0 failed"), "\(third.output)")
    }
}
