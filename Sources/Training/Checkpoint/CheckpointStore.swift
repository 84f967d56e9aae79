import Foundation
import Seeding
import StageSupport
import Tensors

/// Everything besides tensors that a resumed run needs to continue exactly where the checkpoint was.
public struct CheckpointState: Codable, Equatable, Sendable {
    /// Steps completed (the next step to run has this index).
    public var step: Int
    /// Epoch of the next step.
    public var epoch: Int
    /// Adam's update count t (bias correction).
    public var optimizerSteps: Int
    /// The master SplitMix64 state after `step` steps, hex (JSON numbers lose bits above 2^53).
    public var rngState: String
    public var seed: String
    public var configHash: String
    public var lr: Double
    /// True for the checkpoint written when the run reached its last step.
    public var final: Bool
    /// What produced it: oneDNN's ISA, the activation layout and the convolution algorithms. The same
    /// values on resume give bitwise the uninterrupted run; others give the same run up to rounding.
    /// Optional: checkpoints written before these were recorded have none.
    public var isa: String?
    public var layout: String?
    public var convolutionAlgorithms: String?

    enum CodingKeys: String, CodingKey {
        case step, epoch
        case optimizerSteps = "optimizer_steps"
        case rngState = "rng_state"
        case seed
        case configHash = "config_hash"
        case lr, final, isa, layout
        case convolutionAlgorithms = "conv_algorithms"
    }

    public init(step: Int, epoch: Int, optimizerSteps: Int, rng: SplitMix64, seed: UInt64, configHash: String, lr: Double, final: Bool) {
        self.step = step; self.epoch = epoch; self.optimizerSteps = optimizerSteps
        self.rngState = String(rng.state, radix: 16)
        self.seed = String(seed, radix: 16)
        self.configHash = configHash; self.lr = lr; self.final = final
        let platform = Engine.shared.platform
        isa = platform.isa; layout = platform.layout; convolutionAlgorithms = platform.algorithms
    }

    /// One line when this checkpoint was written on a CPU that computes differently from this one; nil otherwise.
    public func platformChange(to platform: NumericPlatform) -> String? {
        let then = [isa ?? "unrecorded", layout ?? "unrecorded", convolutionAlgorithms ?? "unrecorded"]
        let now = [platform.isa, platform.layout, platform.algorithms]
        guard then != now else { return nil }
        return "note: this checkpoint was written with oneDNN ISA \(then[0]), activations \(then[1]), convolutions \(then[2]); "
            + "this CPU runs \(now[0]), \(now[1]), \(now[2]): training goes on, equal to an uninterrupted run up to rounding, not bit for bit"
    }

    public var rng: SplitMix64? { UInt64(rngState, radix: 16).map(SplitMix64.init(state:)) }
}

/// A run's checkpoints: `checkpoints/step_NNNNNNNN/` folders (weights of F and R as safetensors with the
/// PyTorch parameter names, Adam moments, `state.json`) and `checkpoints/latest.json` naming the newest.
///
/// Atomicity: a checkpoint folder is written under a `.partial-*` name and renamed into place, then
/// `latest.json` is replaced atomically. A SIGKILL at any moment leaves either the previous checkpoint
/// as latest or the new one, never a half-written one (leftover partials are swept on the next start).
public struct CheckpointStore: Sendable {
    public static let deblurWeightsFile = "net_g.safetensors"
    public static let reblurWeightsFile = "net_reblur.safetensors"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "state.json"

    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public func folder(step: Int) -> URL {
        directory.appendingPathComponent(String(format: "step_%08d", step), isDirectory: true)
    }

    var latestURL: URL { directory.appendingPathComponent("latest.json") }

    /// Writes a checkpoint: `writeTensors` fills the (temporary) folder with the safetensors files.
    /// Returns the final folder. A checkpoint that already exists for this step is kept as it is
    /// (the step is deterministic, so its content would be identical).
    @discardableResult
    public func save(_ state: CheckpointState, keepLast: Int, writeTensors: (URL) throws -> Void) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let destination = folder(step: state.step)
        if !FileManager.default.fileExists(atPath: destination.appendingPathComponent(Self.stateFile).path) {
            try AtomicFile.write(to: destination) { temporary in
                try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
                try writeTensors(temporary)
                try Self.encoder.encode(state).write(to: temporary.appendingPathComponent(Self.stateFile))
            }
        }
        try AtomicFile.write(Self.encoder.encode(LatestPointer(step: state.step, folder: destination.lastPathComponent)), to: latestURL)
        if keepLast > 0 { prune(keeping: keepLast, newest: state.step) }
        return destination
    }

    /// Deletes partial folders left by a killed writer. Only the run's (single) writer calls this, at
    /// start: a reader sweeping would delete a live writer's folder in progress.
    public func sweepPartials() {
        AtomicFile.removeStalePartials(under: directory)
    }

    /// The newest complete checkpoint, or nil for a fresh run. Read-only: safe while a writer runs.
    public func latest() throws -> (state: CheckpointState, folder: URL)? {
        guard let data = try? Data(contentsOf: latestURL) else { return nil }
        let pointer = try JSONDecoder().decode(LatestPointer.self, from: data)
        let folder = directory.appendingPathComponent(pointer.folder, isDirectory: true)
        let state = try JSONDecoder().decode(CheckpointState.self, from: Data(contentsOf: folder.appendingPathComponent(Self.stateFile)))
        return (state, folder)
    }

    /// Step numbers of the complete checkpoints on disk, ascending.
    public func steps() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name in
            guard name.hasPrefix("step_"), FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).appendingPathComponent(Self.stateFile).path)
            else { return nil }
            return Int(name.dropFirst(5))
        }.sorted()
    }

    private func prune(keeping count: Int, newest: Int) {
        let old = steps().filter { $0 != newest }
        for step in old.dropLast(max(count - 1, 0)) { try? FileManager.default.removeItem(at: folder(step: step)) }
    }

    struct LatestPointer: Codable { var step: Int; var folder: String }

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
}
