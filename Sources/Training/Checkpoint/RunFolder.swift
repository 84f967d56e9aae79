import Foundation

/// `runs/<name>/`: the BasicSR-style self-describing run folder.
///   config.yaml       the resolved config (every key, defaults spelled out)
///   train.log         environment, config, one line per logging interval, checkpoints, errors
///   curves.csv/.svg   the per-term training curves
///   checkpoints/      see `CheckpointStore`
public struct RunFolder: Sendable {
    public let root: URL

    public init(runsDirectory: URL, name: String) {
        root = runsDirectory.appendingPathComponent(name, isDirectory: true)
    }

    public var configURL: URL { root.appendingPathComponent("config.yaml") }
    public var logURL: URL { root.appendingPathComponent("train.log") }
    public var curvesCSV: URL { root.appendingPathComponent("curves.csv") }
    public var curvesSVG: URL { root.appendingPathComponent("curves.svg") }
    public var checkpoints: CheckpointStore { CheckpointStore(directory: root.appendingPathComponent("checkpoints", isDirectory: true)) }

    public func create() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }
}
