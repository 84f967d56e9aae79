import Foundation
import Imaging
import Testing

/// End to end through the built jdrl-flow, direct mode: two PNGs of one smooth texture, the second
/// moved by a known whole-pixel shift, so the flow it writes has a known answer.
@Suite
struct FlowStageTests {
    static let (width, height) = (160, 128)
    /// B(q) = A(q + shift), so A(p) matches B(p - shift): the flow is -shift everywhere.
    static let shift = (x: 3, y: 2)

    /// Sums of slanted sinusoids: structure in every direction, nothing finer than the flow's pre-blur.
    static func texture(_ url: URL, offsetX: Int, offsetY: Int) throws {
        var bytes = [UInt8]()
        for y in 0..<height {
            for x in 0..<width {
                let (u, v) = (Double(x + offsetX), Double(y + offsetY))
                for c in 0..<3 {
                    let value = 0.5 + 0.18 * sin(0.21 * u + 0.05 * v + Double(c)) + 0.15 * sin(0.07 * u - 0.19 * v + 1)
                        + 0.1 * sin(0.13 * u + 0.11 * v + 2)
                    bytes.append(UInt8((min(max(value, 0), 1) * 255).rounded()))
                }
            }
        }
        try VipsImage.fromInterleaved(bytes, width: width, height: height, bands: 3, bitDepth: 8).savePNG(to: url)
    }

    @Test func directModeWritesTheFlowOfAKnownShift() throws {
        let root = try temporaryFolder("flow")
        defer { try? FileManager.default.removeItem(at: root) }
        let a = root.appendingPathComponent("a.png"), b = root.appendingPathComponent("b.png"), out = root.appendingPathComponent("a_to_b.flo")
        try Self.texture(a, offsetX: 0, offsetY: 0)
        try Self.texture(b, offsetX: Self.shift.x, offsetY: Self.shift.y)

        let result = try Executables.run("jdrl-flow", ["--from", a.path, "--to", b.path, "--out", out.path, "--threads", "2"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(a.path) -> \(b.path): zoom"), "\(result.output)")

        // Middlebury .flo: float32 magic, int32 width and height, then (u, v) per pixel, little-endian.
        let data = try Data(contentsOf: out)
        #expect(data.count == 12 + Self.width * Self.height * 8)
        let header = data.prefix(12).withUnsafeBytes { raw in (0..<3).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
        #expect(Float(bitPattern: header[0]) == 202021.25)
        #expect(Int32(bitPattern: header[1]) == Int32(Self.width) && Int32(bitPattern: header[2]) == Int32(Self.height))

        let flow = try FlowFile.decode(data, path: out.path)
        #expect(flow.u.allSatisfy(\.isFinite) && flow.v.allSatisfy(\.isFinite))
        // Away from the border (where B has no partner for A's pixels) the flow is the shift.
        var largestError: Float = 0
        for y in 16..<(Self.height - 16) {
            for x in 16..<(Self.width - 16) {
                let i = y * Self.width + x
                largestError = max(largestError, abs(flow.u[i] + Float(Self.shift.x)), abs(flow.v[i] + Float(Self.shift.y)))
            }
        }
        #expect(largestError < 0.1, "flow differs from (-\(Self.shift.x), -\(Self.shift.y)) by up to \(largestError) px inside")
    }

    @Test func aMissingInputIsNamedAndNothingIsWritten() throws {
        let root = try temporaryFolder("flow-missing")
        defer { try? FileManager.default.removeItem(at: root) }
        let present = root.appendingPathComponent("present.png"), missing = root.appendingPathComponent("missing.png")
        let out = root.appendingPathComponent("out.flo")
        try Self.texture(present, offsetX: 0, offsetY: 0)
        for (from, to) in [(missing, present), (present, missing)] {
            let result = try Executables.run("jdrl-flow", ["--from", from.path, "--to", to.path, "--out", out.path])
            #expect(result.status == 65, "\(result.output)")
            #expect(result.output == "jdrl-flow: \(missing.path): file not found\n")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    /// The mask mode is spelt as in training configs; the enum's Swift names are no spelling of it.
    @Test func theMaskModeIsSpeltAsInConfigs() throws {
        let root = try temporaryFolder("flow-mask-mode")
        defer { try? FileManager.default.removeItem(at: root) }
        let a = root.appendingPathComponent("a.png"), b = root.appendingPathComponent("b.png")
        let out = root.appendingPathComponent("a_to_b.flo"), mask = root.appendingPathComponent("mask.png")
        try Self.texture(a, offsetX: 0, offsetY: 0)
        try Self.texture(b, offsetX: Self.shift.x, offsetY: Self.shift.y)
        let arguments = ["--from", a.path, "--to", b.path, "--out", out.path, "--mask", mask.path, "--threads", "2", "--mask-mode"]
        let result = try Executables.run("jdrl-flow", arguments + ["forward_backward"])
        #expect(result.status == 0, "\(result.output)")
        #expect(FileManager.default.fileExists(atPath: mask.path))
        let swiftName = try Executables.run("jdrl-flow", arguments + ["forwardBackward"])
        #expect(swiftName.status == 64 && swiftName.output.contains("colour_wheel"), "\(swiftName.output)")
        let help = try Executables.run("jdrl-flow", ["--help"])
        #expect(help.output.contains("colour_wheel") && !help.output.contains("referenceColorWheel") && !help.output.contains("forwardBackward"),
                "\(help.output)")
    }

    @Test func helpStatesTheConventionAndAnIncompleteCallIsRefused() throws {
        let help = try Executables.run("jdrl-flow", ["--help"])
        #expect(help.status == 0 && help.output.contains("A(p) matches B(p + flow(p))"), "\(help.output)")
        let incomplete = try Executables.run("jdrl-flow", ["--from", "a.png", "--out", "a.flo"])
        #expect(incomplete.status == 64 && incomplete.output.contains("Direct mode needs all of --from, --to and --out."), "\(incomplete.output)")
    }
}
