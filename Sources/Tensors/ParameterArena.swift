// One contiguous block of parameters per model, with a size table naming every tensor.
//
// Gradients and Adam moments mirror the values block, so zeroing, the optimizer step, checkpoints
// and a future allreduce are flat loops over `count` floats. Names are the PyTorch state_dict names
// of torch_jdrl.py, which is what makes safetensors files interchangeable with the peer.
import Foundation
import WeightFiles

public final class ParameterArena {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var entries: [Entry] = []
    public let count: Int
    public let values: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    /// Adam's first and second moments, allocated by the first optimizer step.
    public internal(set) var firstMoment: UnsafeMutablePointer<Float>?
    public internal(set) var secondMoment: UnsafeMutablePointer<Float>?

    /// `table` lists (name, shape) in storage order.
    public init(_ table: [(String, [Int])]) {
        var offset = 0
        for (name, shape) in table {
            entries.append(Entry(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        count = offset
        values = .allocate(capacity: max(count, 1)); values.initialize(repeating: 0, count: max(count, 1))
        gradients = .allocate(capacity: max(count, 1)); gradients.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        values.deallocate(); gradients.deallocate()
        firstMoment?.deallocate(); secondMoment?.deallocate()
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// Pointer to a named tensor's values (fatal when the name is unknown: a programming error).
    public func pointer(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { fatalError("no parameter named \(name)") }
        return values + e.offset
    }

    public func gradientPointer(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { fatalError("no parameter named \(name)") }
        return gradients + e.offset
    }

    public func zeroGradients() { gradients.update(repeating: 0, count: count) }

    func ensureMoments() {
        if firstMoment == nil {
            firstMoment = .allocate(capacity: max(count, 1)); firstMoment!.initialize(repeating: 0, count: max(count, 1))
            secondMoment = .allocate(capacity: max(count, 1)); secondMoment!.initialize(repeating: 0, count: max(count, 1))
        }
    }

    /// The values as named safetensors entries (optionally with a name prefix).
    public func namedTensors(prefix: String = "", of buffer: UnsafeMutablePointer<Float>? = nil) -> [SafeTensors.Tensor] {
        let base = buffer ?? values
        return entries.map { e in
            SafeTensors.Tensor(name: prefix + e.name, shape: e.shape,
                               values: Array(UnsafeBufferPointer(start: base + e.offset, count: e.count)))
        }
    }

    /// Copies named tensors into `buffer` (default: the values). Every entry must be present with
    /// its exact shape; extra tensors in the file are refused too, so a wrong file cannot half-load.
    public func load(_ tensors: [String: SafeTensors.Tensor], prefix: String = "",
                     into buffer: UnsafeMutablePointer<Float>? = nil, allowExtra: Bool = false) throws {
        let base = buffer ?? values
        for e in entries {
            guard let t = tensors[prefix + e.name] else { throw SafeTensors.Error.missing(prefix + e.name) }
            guard t.shape == e.shape else {
                throw SafeTensors.Error.shapeMismatch(name: e.name, expected: e.shape, found: t.shape)
            }
            t.values.withUnsafeBufferPointer { (base + e.offset).update(from: $0.baseAddress!, count: e.count) }
        }
        if !allowExtra {
            let known = Set(entries.map { prefix + $0.name })
            if let extra = tensors.keys.filter({ $0.hasPrefix(prefix) && !known.contains($0) }).sorted().first {
                throw SafeTensors.Error.unexpected(extra)
            }
        }
    }
}

/// Anything trained: owns a parameter arena (UNet, ReblurModule, ...).
public protocol Trainable: AnyObject {
    var parameters: ParameterArena { get }
}

extension Trainable {
    public var parameterCount: Int { parameters.count }
    public func zeroGrad() { parameters.zeroGradients() }
}
