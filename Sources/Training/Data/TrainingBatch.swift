/// One step's inputs in plain NCHW Float buffers, allocated once and refilled for every step
/// (the step loop never allocates). Flows and masks are per pixel (N x H x W).
///
/// For flow source `manifest` the joint stage reads `flowOutToGT`/`flowGTToOut` from the precomputed
/// blurry->GT and GT->blurry flows; for `online` the loss overwrites them with fresh estimates.
public final class TrainingBatch: @unchecked Sendable {
    public let batchSize: Int
    public let size: Int
    public let channels = 3

    public private(set) var step = 0
    public private(set) var epoch = 0
    /// The first draw of the step generator (reserved for per-step seeds, e.g. dropout, once Models can take one).
    public private(set) var stepSeed: UInt64 = 0
    public private(set) var patchIDs: [Int64]

    public let blurry: UnsafeMutablePointer<Float>
    public let sharp: UnsafeMutablePointer<Float>
    /// blurry(p) matches sharp(p + f(p)).
    public let blurryToSharpU: UnsafeMutablePointer<Float>
    public let blurryToSharpV: UnsafeMutablePointer<Float>
    /// sharp(p) matches blurry(p + f(p)).
    public let sharpToBlurryU: UnsafeMutablePointer<Float>
    public let sharpToBlurryV: UnsafeMutablePointer<Float>
    public let blurryToSharpMask: UnsafeMutablePointer<Float>
    public let sharpToBlurryMask: UnsafeMutablePointer<Float>

    public var imageCount: Int { batchSize * channels * size * size }
    public var pixelCount: Int { batchSize * size * size }

    public init(batchSize: Int, size: Int) {
        self.batchSize = batchSize
        self.size = size
        self.patchIDs = [Int64](repeating: -1, count: batchSize)
        let images = batchSize * 3 * size * size, pixels = batchSize * size * size
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            return p
        }
        blurry = make(images); sharp = make(images)
        blurryToSharpU = make(pixels); blurryToSharpV = make(pixels)
        sharpToBlurryU = make(pixels); sharpToBlurryV = make(pixels)
        blurryToSharpMask = make(pixels); sharpToBlurryMask = make(pixels)
    }

    deinit {
        for p in [blurry, sharp, blurryToSharpU, blurryToSharpV, sharpToBlurryU, sharpToBlurryV,
                  blurryToSharpMask, sharpToBlurryMask] { p.deallocate() }
    }

    func begin(step: Int, epoch: Int, stepSeed: UInt64) {
        self.step = step
        self.epoch = epoch
        self.stepSeed = stepSeed
    }

    func setPatchID(_ id: Int64, sample: Int) { patchIDs[sample] = id }
}
