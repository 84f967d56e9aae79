// Naive twins of the fast layers: direct loops over plain NCHW arrays, slow and obviously right.
// Tests compare every oneDNN-backed layer against these.

public enum NaiveReference {
    /// Convolution with `shape`'s zero padding, groups and stride; weights [out][in/groups][kh][kw] then bias.
    public static func convForward(_ input: [Float], n: Int, h: Int, w: Int, shape s: ConvShape, parameters: [Float]) -> [Float] {
        let oh = s.outputHeight(h), ow = s.outputWidth(w)
        var out = [Float](repeating: 0, count: n * s.outChannels * oh * ow)
        for ni in 0..<n {
            for o in 0..<s.outChannels {
                for y in 0..<oh {
                    for x in 0..<ow {
                        var acc = Double(parameters[s.weightCount + o])
                        let perGroup = s.inChannels / s.groups, firstInput = o / (s.outChannels / s.groups) * perGroup
                        for j in 0..<perGroup {
                            let i = firstInput + j
                            for ky in 0..<s.kernelHeight {
                                let iy = y * s.stride + ky - s.padTop
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<s.kernelWidth {
                                    let ix = x * s.stride + kx - s.padLeft
                                    if ix < 0 || ix >= w { continue }
                                    acc += Double(input[((ni * s.inChannels + i) * h + iy) * w + ix])
                                        * Double(parameters[((o * perGroup + j) * s.kernelHeight + ky) * s.kernelWidth + kx])
                                }
                            }
                        }
                        out[((ni * s.outChannels + o) * oh + y) * ow + x] = Float(acc)
                    }
                }
            }
        }
        return out
    }

    /// Gradients of sum(convForward(input) * gradOut): (gradInput, gradParameters).
    public static func convBackward(_ input: [Float], n: Int, h: Int, w: Int, shape s: ConvShape, parameters: [Float],
                                    gradOut: [Float]) -> ([Float], [Float]) {
        let oh = s.outputHeight(h), ow = s.outputWidth(w)
        var gi = [Float](repeating: 0, count: input.count)
        var gp = [Float](repeating: 0, count: parameters.count)
        for ni in 0..<n {
            for o in 0..<s.outChannels {
                for y in 0..<oh {
                    for x in 0..<ow {
                        let g = gradOut[((ni * s.outChannels + o) * oh + y) * ow + x]
                        gp[s.weightCount + o] += g
                        let perGroup = s.inChannels / s.groups, firstInput = o / (s.outChannels / s.groups) * perGroup
                        for j in 0..<perGroup {
                            let i = firstInput + j
                            for ky in 0..<s.kernelHeight {
                                let iy = y * s.stride + ky - s.padTop
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<s.kernelWidth {
                                    let ix = x * s.stride + kx - s.padLeft
                                    if ix < 0 || ix >= w { continue }
                                    let wi = ((o * perGroup + j) * s.kernelHeight + ky) * s.kernelWidth + kx
                                    let xi = ((ni * s.inChannels + i) * h + iy) * w + ix
                                    gi[xi] += g * parameters[wi]
                                    gp[wi] += g * input[xi]
                                }
                            }
                        }
                    }
                }
            }
        }
        return (gi, gp)
    }

    public static func maxPool2x2(_ input: [Float], n: Int, c: Int, h: Int, w: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * c * (h / 2) * (w / 2))
        for p in 0..<(n * c) {
            for y in 0..<(h / 2) {
                for x in 0..<(w / 2) {
                    let b = (p * h + 2 * y) * w + 2 * x
                    out[(p * (h / 2) + y) * (w / 2) + x] = max(max(input[b], input[b + 1]), max(input[b + w], input[b + w + 1]))
                }
            }
        }
        return out
    }

    public static func upsampleNearest2x(_ input: [Float], n: Int, c: Int, h: Int, w: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * c * 4 * h * w)
        for p in 0..<(n * c) {
            for y in 0..<(2 * h) {
                for x in 0..<(2 * w) { out[(p * 2 * h + y) * 2 * w + x] = input[(p * h + y / 2) * w + x / 2] }
            }
        }
        return out
    }

    // NAFNet's channel ops, written from their formulas.

    /// Layer norm over the channels of each pixel: weight * (x - mean) / sqrt(var + eps) + bias.
    public static func channelLayerNorm(_ x: [Float], n: Int, c: Int, h: Int, w: Int, weight: [Float], bias: [Float], eps: Double) -> [Float] {
        var y = x
        for ni in 0..<n { for p in 0..<(h * w) {
            let values = (0..<c).map { Double(x[(ni * c + $0) * h * w + p]) }
            let mean = values.reduce(0, +) / Double(c)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            for ci in 0..<c {
                y[(ni * c + ci) * h * w + p] = Float(Double(weight[ci]) * (values[ci] - mean) / (variance + eps).squareRoot() + Double(bias[ci]))
            }
        } }
        return y
    }

    /// y[c] = x[c] * x[c + C/2].
    public static func simpleGate(_ x: [Float], n: Int, c: Int, h: Int, w: Int) -> [Float] {
        let half = c / 2, plane = h * w
        var y = [Float](repeating: 0, count: n * half * plane)
        for ni in 0..<n { for ci in 0..<half { for p in 0..<plane {
            y[(ni * half + ci) * plane + p] = x[(ni * c + ci) * plane + p] * x[(ni * c + ci + half) * plane + p]
        } } }
        return y
    }

    /// y[c] = x[c] * (bias[c] + sum_i weight[c][i] * mean_hw(x[i])).
    public static func channelAttention(_ x: [Float], n: Int, c: Int, h: Int, w: Int, weight: [Float], bias: [Float]) -> [Float] {
        let plane = h * w
        var y = x
        for ni in 0..<n {
            let means = (0..<c).map { ci in (0..<plane).map { Double(x[(ni * c + ci) * plane + $0]) }.reduce(0, +) / Double(plane) }
            for o in 0..<c {
                let scale = Double(bias[o]) + (0..<c).map { Double(weight[o * c + $0]) * means[$0] }.reduce(0, +)
                for p in 0..<plane { y[(ni * c + o) * plane + p] = Float(Double(x[(ni * c + o) * plane + p]) * scale) }
            }
        }
        return y
    }
}
