import Foundation
import WeightFiles
import Imaging
import Threading

/// LPIPS, AlexNet variant (Zhang et al. 2018; the `lpips` package, `LPIPS(net='alex', version='0.1')`),
/// forward only. Inputs in [0,1] are mapped to [-1,1] and through the ScalingLayer; five ReLU taps of
/// the AlexNet trunk are unit-normalised over channels, their squared difference weighed by a 1x1
/// linear layer (no bias), averaged over space and summed over taps.
///
/// Weights come from a safetensors file the user supplies, with the lpips package's state_dict names
/// (`net.slice1.0.weight`, `net.slice2.3`, `net.slice3.6`, `net.slice4.8`, `net.slice5.10`, and
/// `lin0.model.1.weight` ... `lin4`). Channel widths are read from the tensor shapes, so reduced-width
/// networks (the test fixture) and the real 64/192/384/256/256 one run through the same code.
public struct LPIPSNetwork: Sendable {
    static let shift: [Float] = [-0.030, -0.088, -0.188]
    static let scale: [Float] = [0.458, 0.448, 0.450]

    /// Where the weights came from (reported with every value).
    public let weightsName: String
    /// Channels of the five taps.
    public let widths: [Int]
    let convolutions: [ConvolutionReLU]
    let linear: [[Float]]

    public init(weightsAt url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw SafetensorsError(path: url.path, reason: "file not found") }
        let tensors: [String: SafeTensors.Tensor]
        do { tensors = try SafeTensors.read(url) } catch { throw SafetensorsError(path: url.path, reason: "\(error)") }
        try self.init(tensors, path: url.path, name: url.lastPathComponent)
    }

    /// From tensors named as the lpips package's AlexNet state_dict (`path` names them in errors).
    public init(_ tensors: [String: SafeTensors.Tensor], path: String, name: String) throws {
        func require(_ key: String, rank: Int) throws -> SafeTensors.Tensor {
            guard let tensor = tensors[key] else {
                throw SafetensorsError(path: path, reason: "no tensor '\(key)' (expected lpips AlexNet state_dict names)")
            }
            guard tensor.shape.count == rank else {
                throw SafetensorsError(path: path, reason: "'\(key)' has shape \(tensor.shape), rank \(rank) expected")
            }
            return tensor
        }
        // (state_dict prefix, kernel, stride, padding) of the five convolutions in torchvision's alexnet.features.
        let layout = [("net.slice1.0", 11, 4, 2), ("net.slice2.3", 5, 1, 2), ("net.slice3.6", 3, 1, 1),
                      ("net.slice4.8", 3, 1, 1), ("net.slice5.10", 3, 1, 1)]
        var convolutions: [ConvolutionReLU] = [], inputChannels = 3
        for (prefix, kernel, stride, padding) in layout {
            let weight = try require("\(prefix).weight", rank: 4), bias = try require("\(prefix).bias", rank: 1)
            let outputChannels = weight.shape[0]
            guard weight.shape == [outputChannels, inputChannels, kernel, kernel], bias.shape == [outputChannels] else {
                throw SafetensorsError(path: path, reason: "'\(prefix)' has weight \(weight.shape) and bias \(bias.shape); expected [C, \(inputChannels), \(kernel), \(kernel)] and [C]")
            }
            convolutions.append(ConvolutionReLU(inputChannels: inputChannels, outputChannels: outputChannels, kernel: kernel,
                                                stride: stride, padding: padding, weights: weight.values, bias: bias.values))
            inputChannels = outputChannels
        }
        var linear: [[Float]] = []
        for (k, convolution) in convolutions.enumerated() {
            // lpips' NetLinLayer puts a Dropout first (index 0) unless built with use_dropout=False.
            let key = tensors["lin\(k).model.1.weight"] != nil ? "lin\(k).model.1.weight" : "lin\(k).model.0.weight"
            let weight = try require(key, rank: 4)
            guard weight.shape == [1, convolution.outputChannels, 1, 1] else {
                throw SafetensorsError(path: path, reason: "'\(key)' has shape \(weight.shape); expected [1, \(convolution.outputChannels), 1, 1]")
            }
            linear.append(weight.values)
        }
        self.weightsName = name
        self.widths = convolutions.map(\.outputChannels)
        self.convolutions = convolutions
        self.linear = linear
    }

    /// Smallest side the trunk accepts: conv1 and two 3/2 pools must leave at least one pixel.
    public static let minimumSide = 31

    /// Distance between two RGB images in [0,1] of the same size; also each tap's share.
    /// Both images go through the trunk in lockstep so only the current layer's activations are held.
    public func distance(_ first: PlanarImage, _ second: PlanarImage) throws -> (value: Double, perTap: [Double]) {
        guard first.channels == 3, second.channels == 3, first.width == second.width, first.height == second.height else {
            throw MetricsError.sizeMismatch(output: "\(first.channels)x\(first.height)x\(first.width)",
                                            target: "\(second.channels)x\(second.height)x\(second.width)")
        }
        guard min(first.width, first.height) >= Self.minimumSide else {
            throw MetricsError.imageTooSmall(width: first.width, height: first.height, window: Self.minimumSide)
        }
        var a = scaledInput(first), b = scaledInput(second)
        var perTap: [Double] = []
        for (k, convolution) in convolutions.enumerated() {
            if k == 1 || k == 2 { a = maxPool3x3Stride2(a); b = maxPool3x3Stride2(b) }
            a = convolution(a); b = convolution(b)
            perTap.append(tapDistance(a, b, linear: linear[k]))
        }
        return (perTap.reduce(0, +), perTap)
    }

    /// [0,1] -> [-1,1] -> (x - shift) / scale, in the same Float operations as lpips.
    private func scaledInput(_ image: PlanarImage) -> FeatureMap {
        var values = image.pixels
        let plane = image.planeSize
        for c in 0..<3 {
            let shift = Self.shift[c], scale = Self.scale[c]
            for i in (c * plane)..<((c + 1) * plane) { values[i] = ((values[i] * 2 - 1) - shift) / scale }
        }
        return FeatureMap(channels: 3, height: image.height, width: image.width, values: values)
    }

    /// Spatial mean of sum_c w_c (a_c/|a| - b_c/|b|)^2, norms over channels with lpips' eps 1e-10.
    private func tapDistance(_ a: FeatureMap, _ b: FeatureMap, linear: [Float]) -> Double {
        let plane = a.height * a.width, channels = a.channels
        let tasks = min(plane, 16)
        let partials: [Double] = a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                Parallel.map(tasks) { task in
                    var sum = 0.0
                    for p in Parallel.range(task, of: tasks, count: plane) {
                        var normA: Float = 0, normB: Float = 0
                        for c in 0..<channels {
                            let x = pa[c * plane + p], y = pb[c * plane + p]
                            normA += x * x; normB += y * y
                        }
                        let inverseA = 1 / (normA.squareRoot() + 1e-10), inverseB = 1 / (normB.squareRoot() + 1e-10)
                        var weighted = 0.0
                        for c in 0..<channels {
                            let d = pa[c * plane + p] * inverseA - pb[c * plane + p] * inverseB
                            weighted += Double(linear[c] * d * d)
                        }
                        sum += weighted
                    }
                    return sum
                }
            }
        }
        return partials.reduce(0, +) / Double(plane)
    }
}

/// LPIPS of an output against its target, or why there is none.
public struct LPIPSResult: Sendable, Equatable {
    public var value: Double
    public var perTap: [Double]
    public var weightsName: String
    public var basis: MeasurementBasis
}

extension ImagePair {
    /// LPIPS over the border-cropped region (RGB in [0,1]).
    public func lpips(_ network: LPIPSNetwork) throws -> LPIPSResult {
        let (value, perTap) = try network.distance(croppedRGB(output), croppedRGB(target))
        return LPIPSResult(value: value, perTap: perTap, weightsName: network.weightsName, basis: basis)
    }

    private func croppedRGB(_ image: PlanarImage) -> PlanarImage {
        let rgb = image.rgbForMetrics(), border = basis.border
        if border == 0 { return rgb }
        var pixels: [Float] = []
        pixels.reserveCapacity(3 * croppedWidth * croppedHeight)
        for c in 0..<rgb.channels {
            for y in border..<(rgb.height - border) {
                let start = (c * rgb.height + y) * rgb.width + border
                pixels.append(contentsOf: rgb.pixels[start..<(start + croppedWidth)])
            }
        }
        return PlanarImage(width: croppedWidth, height: croppedHeight, channels: rgb.channels, bitDepth: rgb.bitDepth, pixels: pixels)
    }
}
