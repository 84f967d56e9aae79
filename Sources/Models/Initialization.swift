import Foundation
// Weight initialisers of torch_jdrl.py, on our seeded generator (same distributions, not the same
// numbers as PyTorch's generator: parity tests load the peer's weights instead).
import Tensors

enum Initialization {
    /// nn.init.kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = sqrt(2 / (out*kh*kw));
    /// bias keeps nn.Conv2d's default, uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    static func kaimingFanOut(_ conv: Conv2D, _ generator: inout SeededGenerator) {
        let s = conv.shape
        let std = (2.0 / Float(s.outChannels * s.kernelHeight * s.kernelWidth)).squareRoot()
        for i in 0..<s.weightCount { conv.weights[i] = std * generator.nextNormal() }
        let bound = 1 / Float(s.inChannels * s.kernelHeight * s.kernelWidth).squareRoot()
        for o in 0..<s.outChannels { conv.weights[s.weightCount + o] = bound * (2 * generator.nextUniform() - 1) }
    }

    /// He initialisation on the fan-in, std = sqrt(2 / (in*kh*kw)), zero bias: keeps the activations'
    /// scale through a deep ReLU stack (not in torch_jdrl.py; the residual UNet's body).
    static func kaimingFanIn(_ conv: Conv2D, _ generator: inout SeededGenerator) {
        let s = conv.shape
        let std = (2.0 / Float(s.inChannels * s.kernelHeight * s.kernelWidth)).squareRoot()
        for i in 0..<s.weightCount { conv.weights[i] = std * generator.nextNormal() }
        for o in 0..<s.outChannels { conv.weights[s.weightCount + o] = 0 }
    }

    /// nn.Conv2d's default (kaiming_uniform with a = sqrt(5)): weights and bias uniform in +-1/sqrt(fan_in),
    /// fan_in counting one group's inputs. NAFNet keeps it.
    static func pytorchDefault(_ conv: Conv2D, _ generator: inout SeededGenerator) {
        let s = conv.shape
        let bound = 1 / Float(s.inChannels / s.groups * s.kernelHeight * s.kernelWidth).squareRoot()
        for i in 0..<s.parameterCount { conv.weights[i] = bound * (2 * generator.nextUniform() - 1) }
    }

    /// Weights and bias 0 (the residual UNet's head: F(x) = 0 at the start, not in torch_jdrl.py).
    static func zero(_ conv: Conv2D) {
        let s = conv.shape
        for i in 0..<(s.weightCount + s.outChannels) { conv.weights[i] = 0 }
    }

    /// A first convolution over [image, further channels] (the blur-map prior's gated features) whose fan-in
    /// init counted every input channel, though at the start only the image carries signal (the prior's
    /// seeds are ramped in from 0.001) and the squeeze-excitation gate halves it (sigmoid(~0) = 0.5): the
    /// image columns are scaled back to the image-only network's fan-in scale, and doubled for the gate.
    /// Without it the residual UNet's image path starts 7x weaker than the plain UNet's, and at the CPU
    /// config's lr Adam's fixed-size steps drive the last decoder layer's ReLUs dead, so the trained prior
    /// network stays the identity (docs/results.md, "The blur-map prior's first convolution").
    static func restoreImageColumnsScale(_ conv: Conv2D, imageChannels: Int = 3, gate: Float = 0.5) {
        let s = conv.shape, taps = s.kernelHeight * s.kernelWidth
        let factor = (Float(s.inChannels) / Float(imageChannels)).squareRoot() / gate
        for o in 0..<s.outChannels {
            for i in 0..<imageChannels {
                for k in 0..<taps { conv.weights[(o * s.inChannels + i) * taps + k] *= factor }
            }
        }
    }

    /// nn.init.xavier_normal_: std = sqrt(2 / (fan_in + fan_out)); zero bias.
    static func xavierNormal(_ conv: Conv2D, _ generator: inout SeededGenerator) {
        let s = conv.shape
        let area = s.kernelHeight * s.kernelWidth
        let std = (2.0 / Float(s.inChannels * area + s.outChannels * area)).squareRoot()
        for i in 0..<s.weightCount { conv.weights[i] = std * generator.nextNormal() }
        for o in 0..<s.outChannels { conv.weights[s.weightCount + o] = 0 }
    }
}

/// Builds convolution layers over one arena: each layer is declared once with its PyTorch name,
/// then bound to its slice of the values and gradients.
struct ConvTable {
    var rows: [(name: String, shape: ConvShape, relu: Bool)] = []

    mutating func add(_ name: String, _ shape: ConvShape, relu: Bool) { rows.append((name, shape, relu)) }

    /// (name, shape) entries: `<name>.weight` (OIHW) then `<name>.bias`, in declaration order.
    var sizeTable: [(String, [Int])] {
        rows.flatMap { row in
            [(row.name + ".weight", [row.shape.outChannels, row.shape.inChannels / row.shape.groups, row.shape.kernelHeight, row.shape.kernelWidth]),
             (row.name + ".bias", [row.shape.outChannels])]
        }
    }

    func bind(_ arena: ParameterArena) -> [String: Conv2D] {
        var out: [String: Conv2D] = [:]
        for row in rows {
            // Weight and bias are adjacent in the arena, as Conv2D expects.
            let offset = arena.entry(row.name + ".weight")!.offset
            out[row.name] = Conv2D(row.shape, fusedReLU: row.relu, weights: arena.values + offset, gradients: arena.gradients + offset)
        }
        return out
    }
}

extension Trainable {
    /// Writes the parameters (PyTorch state_dict names) plus `extra` tensors (e.g. Adam state).
    public func save(safetensors url: URL, extra: [SafeTensors.Tensor] = []) throws {
        try SafeTensors.write(parameters.namedTensors() + extra, to: url)
    }

    /// Loads parameters written by `save` or by torch_jdrl.py. Every parameter must be present with
    /// its exact shape; other tensors in the file are refused unless `allowExtra` (checkpoints).
    public func load(safetensors url: URL, allowExtra: Bool = false) throws {
        try parameters.load(SafeTensors.read(url), allowExtra: allowExtra)
    }
}
