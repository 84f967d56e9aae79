import Foundation
import Manifest
import Models
import Tensors

/// Why a checkpoint could not be used; every case names the file.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case notACheckpoint(path: String, reason: String)
    case unreadable(path: String, reason: String)
    case unsupported(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupported(path, reason): return "\(path) cannot be run this way: \(reason)"
        case let .missing(path): return "\(path): no such file or folder"
        case let .notACheckpoint(path, reason): return "\(path) is not a UNet checkpoint: \(reason)"
        case let .unreadable(path, reason): return "\(path) could not be read: \(reason)"
        }
    }
}

/// The deblurring network F of a checkpoint, so nobody has to repeat the training config to use it: the
/// `NetworkSpec` jdrl-train stores beside the weights (`net_g.json`, `NetworkSpecFile`); for older
/// checkpoints and PyTorch exports, the architecture and widths read from the tensors' names and shapes,
/// and `residual` from an older `net_g.json` (absent: the paper's sigmoid UNet).
///
/// Accepted paths: a checkpoint folder written by jdrl-train (`.../step_NNNNNNNN/` holding
/// `net_g.safetensors`), a run folder or its `checkpoints/` folder (the newest checkpoint, from
/// `latest.json`), or a plain safetensors file with PyTorch UNet names (`enc.0.0.weight`, ...,
/// optionally behind a prefix such as `net_g.` or `module.`).
public struct DeblurCheckpoint: @unchecked Sendable {
    /// What the user gave.
    public let givenPath: String
    /// The safetensors file the weights come from.
    public let weightsURL: URL
    /// Content hash of the weights file: evaluations of the same weights are not redone.
    public let weightsHash: String
    /// The network the weights belong to (dropout off: inference).
    public let spec: NetworkSpec
    /// The UNet's configuration (for a NAFNet checkpoint: no widths, residual).
    public var config: UNetConfig { spec.unet() }
    /// Set when the weights are NAFNet's (`intro.weight`, `encoders.i.j...`).
    public var nafnet: NAFNetConfig? { spec.architecture == .nafnet ? spec.nafnet : nil }
    /// The weights include the journal's blur-map prior (`estimator.*`, `gate.*`; the first convolution reads 38 channels).
    public var hasPrior: Bool { spec.prior != nil }
    /// For tables: "RUN step N" for a jdrl-train checkpoint, else the file name.
    public let label: String
    /// The run folder (with curves.svg) when the checkpoint sits in `runs/<name>/checkpoints/`.
    public let runFolder: URL?
    public let step: Int?
    private let tensors: [String: SafeTensors.Tensor]

    public init(path: String) throws {
        givenPath = path
        weightsURL = try Self.resolveWeights(URL(fileURLWithPath: path).standardizedFileURL)
        let file = weightsURL.path
        do {
            weightsHash = try ContentHash.of(fileAt: weightsURL)
        } catch {
            throw CheckpointError.unreadable(path: file, reason: error.localizedDescription)
        }
        let all: [String: SafeTensors.Tensor]
        do { all = try SafeTensors.read(weightsURL) } catch {
            throw CheckpointError.notACheckpoint(path: file, reason: "\(error)")
        }
        // The first convolution names the architecture: the UNet's enc.0.0, NAFNet's intro.
        let firstConvolutions = ["enc.0.0.weight", "intro.weight"]
        guard let (firstKey, first) = firstConvolutions.compactMap({ suffix in
            all.keys.filter { $0.hasSuffix(suffix) }.min(by: { $0.count < $1.count }).map { ($0, suffix) }
        }).min(by: { $0.0.count < $1.0.count }) else {
            throw CheckpointError.notACheckpoint(path: file, reason: "no tensor enc.0.0.weight (the UNet's first convolution) or intro.weight (NAFNet's); found \(all.count) tensors")
        }
        let prefix = String(firstKey.dropLast(first.count))
        var stripped: [String: SafeTensors.Tensor] = [:]
        for (name, tensor) in all where name.hasPrefix(prefix) { stripped[String(name.dropFirst(prefix.count))] = tensor }
        tensors = stripped
        let stored: NetworkSpecFile.Content
        do { stored = try NetworkSpecFile.read(besideWeights: weightsURL) } catch {
            throw CheckpointError.unreadable(path: NetworkSpecFile.url(besideWeights: weightsURL).path,
                                             reason: "not the network spec or the {\"residual\": true|false} JSON jdrl-train writes beside the weights (\(error))")
        }
        switch stored {
        case let .spec(spec): self.spec = spec.forInference
        case let .residual(residual): spec = try Self.inferSpec(stripped, firstConvolution: first, residual: residual, file: file)
        case .absent: spec = try Self.inferSpec(stripped, firstConvolution: first, residual: false, file: file)
        }

        let stepFolder = weightsURL.deletingLastPathComponent()
        let checkpoints = stepFolder.deletingLastPathComponent()
        if stepFolder.lastPathComponent.hasPrefix("step_"), let number = Int(stepFolder.lastPathComponent.dropFirst(5)) {
            step = number
            let run = checkpoints.lastPathComponent == "checkpoints" ? checkpoints.deletingLastPathComponent() : nil
            runFolder = run
            label = "\(run?.lastPathComponent ?? checkpoints.lastPathComponent) step \(number)"
        } else {
            step = nil
            runFolder = nil
            label = weightsURL.lastPathComponent
        }
    }

    /// "UNet widths [...]" or "NAFNet width W, blocks ...", plus ", blur-map prior", for logs.
    public var summary: String { spec.summary }

    /// The checkpoint's network with its weights, ready for inference (dropout is off at inference).
    public func makeNetwork() throws -> DeblurNetwork {
        let network: DeblurNetwork
        do { network = try spec.make(seed: 0) } catch {
            throw CheckpointError.notACheckpoint(path: weightsURL.path, reason: "\(error)")
        }
        do { try network.parameters.load(tensors) } catch {
            throw CheckpointError.notACheckpoint(path: weightsURL.path, reason: "\(error)")
        }
        return network
    }

    /// The spec of weights stored without one: the architecture from the first convolution's name, the
    /// prior from `estimator.*`, the shape from the tensors; `residual` for a UNet as given.
    static func inferSpec(_ tensors: [String: SafeTensors.Tensor], firstConvolution: String, residual: Bool, file: String) throws -> NetworkSpec {
        let prior = tensors["estimator.0.weight"] != nil ? BlurPriorSection() : nil
        let inputChannels = prior != nil ? BlurMapPrior.featureChannels : 3
        if firstConvolution == "intro.weight" {
            // NAFNet is residual by construction; no UNet widths.
            let nafnet = try inferNAFNet(tensors, inputChannels: inputChannels, file: file)
            return NetworkSpec(type: .nafnet, widths: [], dropout: 0, residual: true, nafnet: nafnet, prior: prior)
        }
        let unet = try inferConfig(tensors, inputChannels: inputChannels, file: file)
        return NetworkSpec(widths: unet.widths, dropout: 0, residual: residual, prior: prior)
    }

    /// NAFNet's shape from its tensor names: the width from intro.weight, the levels from downs.i, the
    /// blocks per level from encoders.i.j / middle_blks.j / decoders.i.j.
    static func inferNAFNet(_ tensors: [String: SafeTensors.Tensor], inputChannels: Int, file: String) throws -> NAFNetConfig {
        let intro = tensors["intro.weight"]!
        guard intro.shape.count == 4, intro.shape[1] == inputChannels else {
            throw CheckpointError.notACheckpoint(path: file, reason: "intro.weight has shape \(intro.shape); NAFNet's first convolution reads \(inputChannels) channels here")
        }
        func blocks(_ group: String) -> Int {
            var count = 0
            while tensors["\(group).\(count).conv1.weight"] != nil { count += 1 }
            return count
        }
        var levels = 0
        while tensors["downs.\(levels).weight"] != nil { levels += 1 }
        return NAFNetConfig(width: intro.shape[0], encoderBlocks: (0..<levels).map { blocks("encoders.\($0)") },
                            middleBlocks: blocks("middle_blks"), decoderBlocks: (0..<levels).map { blocks("decoders.\($0)") })
    }

    /// Widths from `enc.i.0.weight` (OIHW: out = level width, in = previous width or image channels).
    static func inferConfig(_ tensors: [String: SafeTensors.Tensor], inputChannels expected: Int, file: String) throws -> UNetConfig {
        var widths: [Int] = []
        while let weight = tensors["enc.\(widths.count).0.weight"] {
            guard weight.shape.count == 4 else {
                throw CheckpointError.notACheckpoint(path: file, reason: "enc.\(widths.count).0.weight has shape \(weight.shape), expected 4 dimensions")
            }
            widths.append(weight.shape[0])
        }
        let inputChannels = tensors["enc.0.0.weight"]!.shape[1]
        guard inputChannels == expected else {
            throw CheckpointError.notACheckpoint(path: file, reason: "the first convolution reads \(inputChannels) channels; expected \(expected) (3: RGB; 38: with the blur-map prior's estimator.* and gate.* tensors)")
        }
        guard let head = tensors["head.weight"], head.shape.count == 4 else {
            throw CheckpointError.notACheckpoint(path: file, reason: "no head.weight (the UNet's last convolution)")
        }
        return UNetConfig(widths: widths, dropout: 0, inputChannels: inputChannels, outputChannels: head.shape[0])
    }

    /// The safetensors file behind a path (see the type's documentation for what is accepted).
    static func resolveWeights(_ url: URL) throws -> URL {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: url.path, isDirectory: &isFolder) else { throw CheckpointError.missing(path: url.path) }
        guard isFolder.boolValue else { return url }
        let weights = url.appendingPathComponent("net_g.safetensors")
        if manager.fileExists(atPath: weights.path) { return weights }
        for checkpoints in [url.appendingPathComponent("checkpoints"), url] {
            let pointer = checkpoints.appendingPathComponent("latest.json")
            guard let data = manager.contents(atPath: pointer.path) else { continue }
            struct Latest: Decodable { var folder: String }
            guard let latest = try? JSONDecoder().decode(Latest.self, from: data) else {
                throw CheckpointError.unreadable(path: pointer.path, reason: "not the {\"step\", \"folder\"} JSON jdrl-train writes")
            }
            let newest = checkpoints.appendingPathComponent(latest.folder).appendingPathComponent("net_g.safetensors")
            guard manager.fileExists(atPath: newest.path) else { throw CheckpointError.missing(path: newest.path) }
            return newest
        }
        throw CheckpointError.notACheckpoint(path: url.path, reason: "the folder holds no net_g.safetensors and no latest.json")
    }
}
