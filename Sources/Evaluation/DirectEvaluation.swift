import Foundation
import Imaging
import Metrics

/// Loads the two files of a direct-mode call and pairs them, with errors that name the files.
public struct DirectEvaluation {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let pair: ImagePair

    public init(outputPath: String, targetPath: String, border: Int) throws {
        let output = try Self.load(outputPath), target = try Self.load(targetPath)
        guard output.width == target.width, output.height == target.height else {
            throw Failure(description: "\(outputPath) is \(output.width)x\(output.height) but \(targetPath) is \(target.width)x\(target.height); the output and target must be the same size")
        }
        guard 2 * border < output.width, 2 * border < output.height else {
            throw Failure(description: "--border \(border) leaves nothing of \(outputPath) (\(output.width)x\(output.height))")
        }
        pair = try ImagePair(output: output, target: target, targetName: URL(fileURLWithPath: targetPath).lastPathComponent,
                             border: border)
    }

    private static func load(_ path: String) throws -> PlanarImage {
        guard FileManager.default.fileExists(atPath: path) else { throw ImagingError.missing(path: path) }
        return try ImageFile.loadPlanar(URL(fileURLWithPath: path)).image
    }
}
