import Foundation
import Imaging

/// Runs the built `jdrl-*` executables: only those next to the test binary, i.e. built by the same
/// build as the tests from the same sources (`swift test` builds every product with the tests). No
/// other folder is searched, so a stale binary from another build or configuration can never be the
/// one tested, and a missing one fails the test with a reason instead of skipping it.
enum Executables {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The build folder of this test binary.
    static let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()

    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String {
            "\(name) is not in \(Executables.folder.path), the build these tests came from: run the tests with `swift test` "
                + "(or `make test`), which builds the executables with them; `--skip-build` needs a previous `swift build --build-tests`"
        }
    }

    /// The executable's path in this build; throws `Missing` when it is not there.
    static func url(_ name: String) throws -> URL {
        let candidate = folder.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: candidate.path) else { throw Missing(name: name) }
        return candidate
    }

    struct Result {
        var status: Int32
        var output: String
    }

    static func run(_ name: String, _ arguments: [String]) throws -> Result {
        try run(executable: try url(name), arguments)
    }

    /// Any program (e.g. setpriv in front of one of ours), output and errors captured together.
    static func run(executable: URL, _ arguments: [String]) throws -> Result {
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
