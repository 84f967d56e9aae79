// The blur-map prior of JDRL's journal extension (docs/method.md, "The journal extension"):
//   seeds    = E(blurry)       conv3x3 3->32, 3 residual blocks (x + conv(relu(conv(x)))), conv3x3 32->35
//   x        = concat(blurry, ramp * seeds)                                    38 channels
//   features = x * sigmoid(W2 relu(W1 mean_hw(x)))     squeeze-excitation 38 -> 2 -> 38, no biases
// The features are the deblurring network's input. E predicts the same 35 radial kernel seeds as R's
// KPN; after the initialisation stage a pseudo-supervision term pulls E's seeds towards the KPN's.
// `ramp` brings the predicted map in during the initialisation stage (0.001 -> 1). Names:
// `estimator.0`, `estimator.{1,2,3}.c{1,2}`, `estimator.4` (66,499 parameters), `gate.squeeze.weight`
// [2, 38], `gate.excite.weight` [38, 2]. Init as the authors' code: E Kaiming fan-out with biases 0.1,
// the gate nn.Linear's default (uniform +-1/sqrt(fan_in)).
import Foundation
import Tensors
import Threading

public final class BlurMapPrior {
    public static let seedCount = ReblurModule.seedCount                 // 35
    public static let featureChannels = 3 + seedCount                     // 38
    public static let gateHidden = featureChannels / 16                   // 2, SE's reduction 16
    public static let estimatorWidth = 32

    /// The prior's tensors, to be appended to the backbone's arena (one arena per network).
    public static var parameterTable: [(String, [Int])] {
        estimatorTable.sizeTable + [("gate.squeeze.weight", [gateHidden, featureChannels]),
                                    ("gate.excite.weight", [featureChannels, gateHidden])]
    }

    private static var estimatorTable: ConvTable {
        var table = ConvTable()
        ReblurTrunk.declare(&table, prefix: "estimator", inputs: 3, width: estimatorWidth, outputs: seedCount)
        return table
    }

    private let estimator: ReblurTrunk
    private let squeeze: UnsafeMutablePointer<Float>, excite: UnsafeMutablePointer<Float>
    private let gradSqueeze: UnsafeMutablePointer<Float>, gradExcite: UnsafeMutablePointer<Float>

    private var n = 0, h = 0, w = 0
    private var input: Tensor!                 // the blurry image, blocked, padded channels
    private var ramp: Float = 1
    /// x = concat(blurry, ramp * seeds), plain n x 38 x h x w; `features` the gated x.
    private var concatenated: [Float] = [], gated: [Float] = []
    // Per sample: channel means (38), hidden activations after ReLU (2), gate values (38).
    private var means: [Float] = [], hidden: [Float] = [], gate: [Float] = []
    private var gradScaledSeeds: [Float] = []
    // Backward scratch of one sample: dLoss/d(gate's pre-activation) (38), dLoss/dhidden (2).
    private var gradPreGate = [Float](repeating: 0, count: featureChannels), gradHidden = [Float](repeating: 0, count: gateHidden)

    /// Binds to the prior's tensors in `arena` (declared by `parameterTable`) and initialises them.
    public init(arena: ParameterArena, seed: UInt64) {
        let convs = Self.estimatorTable.bind(arena)
        estimator = ReblurTrunk(prefix: "estimator", convs: convs)
        squeeze = arena.pointer("gate.squeeze.weight"); excite = arena.pointer("gate.excite.weight")
        gradSqueeze = arena.gradientPointer("gate.squeeze.weight"); gradExcite = arena.gradientPointer("gate.excite.weight")
        var generator = SeededGenerator(seed: seed)
        for conv in estimator.convolutions {
            Initialization.kaimingFanOut(conv, &generator)
            for o in 0..<conv.shape.outChannels { conv.weights[conv.shape.weightCount + o] = 0.1 }
        }
        for (weights, fanIn, count) in [(squeeze, Self.featureChannels, Self.gateHidden * Self.featureChannels),
                                        (excite, Self.gateHidden, Self.featureChannels * Self.gateHidden)] {
            let bound = 1 / Float(fanIn).squareRoot()
            for i in 0..<count { weights[i] = bound * (2 * generator.nextUniform() - 1) }
        }
    }

    private func plan(n: Int, h: Int, w: Int) {
        if n == self.n && h == self.h && w == self.w { return }
        self.n = n; self.h = h; self.w = w
        input = Tensor(n: n, c: estimator.paddedChannels, h: h, w: w, layout: .blocked)
        estimator.plan(n: n, h: h, w: w)
        concatenated = [Float](repeating: 0, count: n * Self.featureChannels * h * w); gated = concatenated
        means = [Float](repeating: 0, count: n * Self.featureChannels); gate = means
        hidden = [Float](repeating: 0, count: n * Self.gateHidden)
        gradScaledSeeds = [Float](repeating: 0, count: n * Self.seedCount * h * w)
    }

    /// The gated features of the last forward (plain n x 38 x h x w).
    public var features: UnsafePointer<Float> { gated.withUnsafeBufferPointer { $0.baseAddress! } }

    /// ramp * E(blurry) of the last forward, copied out as plain n x 35 x h x w: what the network sees
    /// and what the pseudo-supervision compares with the KPN's seeds.
    public func copyScaledSeeds(into destination: UnsafeMutablePointer<Float>) {
        let plane = h * w
        concatenated.withUnsafeBufferPointer { x in
            for ni in 0..<n {
                (destination + ni * Self.seedCount * plane).update(from: x.baseAddress! + (ni * Self.featureChannels + 3) * plane,
                                                                    count: Self.seedCount * plane)
            }
        }
    }

    public func forward(blurry: UnsafePointer<Float>, ramp: Float, n: Int, h: Int, w: Int) {
        plan(n: n, h: h, w: w)
        self.ramp = ramp
        ChannelPaddedConv.loadChannels(blurry, channels: 3, into: input)
        estimator.forward(input)
        let plane = h * w, c = Self.featureChannels, k = Self.gateHidden
        let seeds = estimator.headPlain.pointer
        concatenated.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            // Per (sample, channel) plane: its copy into the concatenation, and its mean.
            means.withUnsafeMutableBufferPointer { meansBuffer in
                let means = meansBuffer.baseAddress!
                Parallel.rows(n * c, minimumRowsPerChunk: 1) { planes in
                    for index in planes {
                        let (ni, ch) = index.quotientAndRemainder(dividingBy: c)
                        let row = x + index * plane
                        if ch < 3 {
                            row.update(from: blurry + (ni * 3 + ch) * plane, count: plane)
                        } else {
                            let from = seeds + (ni * Self.seedCount + ch - 3) * plane
                            for p in 0..<plane { row[p] = ramp * from[p] }
                        }
                        var sum: Double = 0
                        for p in 0..<plane { sum += Double(row[p]) }
                        means[index] = Float(sum / Double(plane))
                    }
                }
            }
            for ni in 0..<n {
                for j in 0..<k {
                    var z: Float = 0
                    for ch in 0..<c { z += squeeze[j * c + ch] * means[ni * c + ch] }
                    hidden[ni * k + j] = max(z, 0)
                }
                for ch in 0..<c {
                    var a: Float = 0
                    for j in 0..<k { a += excite[ch * k + j] * hidden[ni * k + j] }
                    gate[ni * c + ch] = 1 / (1 + exp(-a))
                }
            }
            gated.withUnsafeMutableBufferPointer { yb in
                let y = yb.baseAddress!
                gate.withUnsafeBufferPointer { gate in
                    Parallel.rows(n * c, minimumRowsPerChunk: 1) { planes in
                        for index in planes {
                            let g = gate[index], at = index * plane
                            for p in 0..<plane { y[at + p] = x[at + p] * g }
                        }
                    }
                }
            }
        }
    }

    /// gradFeatures: dLoss/dfeatures (plain n x 38 x h x w); `gradSeeds`: an extra dLoss/d(ramp * seeds)
    /// (plain n x 35 x h x w, the pseudo-supervision's). Accumulates the prior's parameter gradients;
    /// the blurry image gets none.
    public func backward(gradFeatures: UnsafePointer<Float>, gradSeeds: UnsafePointer<Float>?) {
        precondition(input != nil, "BlurMapPrior.backward before forward")
        estimator.planGradients()
        let plane = h * w, c = Self.featureChannels, k = Self.gateHidden, s = Self.seedCount
        concatenated.withUnsafeBufferPointer { xb in
            let x = xb.baseAddress!
            for ni in 0..<n {
                // d/dgate_c = sum_p dy * x; through the sigmoid, the excitation, the ReLU and the squeeze
                // to d/dmean_c, which reaches every pixel of channel c as 1/plane.
                for ch in 0..<c {
                    let at = (ni * c + ch) * plane
                    var sum: Double = 0
                    for p in 0..<plane { sum += Double(gradFeatures[at + p] * x[at + p]) }
                    let g = gate[ni * c + ch]
                    gradPreGate[ch] = Float(sum) * g * (1 - g)
                }
                for j in 0..<k { gradHidden[j] = 0 }
                for ch in 0..<c {
                    for j in 0..<k {
                        gradExcite[ch * k + j] += gradPreGate[ch] * hidden[ni * k + j]
                        gradHidden[j] += gradPreGate[ch] * excite[ch * k + j]
                    }
                }
                for j in 0..<k where hidden[ni * k + j] <= 0 { gradHidden[j] = 0 }
                for j in 0..<k {
                    for ch in 0..<c { gradSqueeze[j * c + ch] += gradHidden[j] * means[ni * c + ch] }
                }
                // Only the seed channels need dLoss/dx (the blurry image is data).
                for sc in 0..<s {
                    let ch = 3 + sc, at = (ni * c + ch) * plane
                    var gradMean: Float = 0
                    for j in 0..<k { gradMean += gradHidden[j] * squeeze[j * c + ch] }
                    let broadcast = gradMean / Float(plane), g = gate[ni * c + ch]
                    let target = (ni * s + sc) * plane
                    for p in 0..<plane { gradScaledSeeds[target + p] = gradFeatures[at + p] * g + broadcast }
                }
            }
        }
        // d(ramp * seeds)/dseeds = ramp.
        let head = estimator.gHeadPlain.pointer, r = ramp
        for i in 0..<(n * s * plane) { head[i] = r * (gradScaledSeeds[i] + (gradSeeds?[i] ?? 0)) }
        estimator.backward(input, inputGradient: false)
    }

    public var implementations: [String] { estimator.first.implementations + estimator.convolutions.dropFirst().flatMap(\.implementations) }
}
