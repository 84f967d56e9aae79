import Foundation
import Imaging

/// Runs the built `jdrl-*` executables. They are looked for next to the test binary (the build
/// folder `swift test` used), then in the package's `.build/release`.
enum Executables {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ name: String) -> URL? {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
        let defaultBuild = packageRoot.appendingPathComponent(".build/release/\(name)")
        return [besideTests, defaultBuild].first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static var missing: String? {
        let absent = ["jdrl-ingest", "jdrl-tile", "jdrl-synth"].filter { url($0) == nil }
        return absent.isEmpty ? nil : "executables not built (\(absent.joined(separator: ", "))): run `swift build -c release` first (make test does)"
    }

    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ name: String, _ arguments: [String]) throws -> Result {
        guard let executable = url(name) else { throw CocoaError(.fileNoSuchFile) }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}

func temporaryFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jdrl-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Interleaved test samples: smooth gradients plus texture, so patches differ and compress normally.
func patternBytes(width: Int, height: Int, bitDepth: Int, seed: Int) -> [UInt8] {
    var samples = [Int](repeating: 0, count: width * height * 3)
    let maxValue = bitDepth == 16 ? 65535 : 255
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<3 {
                let base = Double(x * (c + 1) + y * (3 - c) + seed * 17) / Double(width + height) * 0.8
                let texture = 0.1 * sin(Double(x * 7 + y * 3 + c + seed))
                samples[(y * width + x) * 3 + c] = Int((min(max(base.truncatingRemainder(dividingBy: 1) + texture, 0), 1)) * Double(maxValue))
            }
        }
    }
    if bitDepth == 16 { return samples.map { UInt16($0) }.withUnsafeBytes { [UInt8]($0) } }
    return samples.map { UInt8($0) }
}

func writePNG(_ url: URL, width: Int, height: Int, bitDepth: Int = 8, seed: Int = 0) throws {
    try VipsImage.fromInterleaved(patternBytes(width: width, height: height, bitDepth: bitDepth, seed: seed), width: width, height: height,
                                  bands: 3, bitDepth: bitDepth).savePNG(to: url)
}
