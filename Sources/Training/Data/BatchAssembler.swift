import Imaging
import Seeding

/// Turns a step index into that step's batch: which patches (the epoch's seeded order), where to crop,
/// which flip/rotation. Everything is re-derived from (seed, step), so the batch
/// of step s is the same whether it is prepared ahead by the prefetcher or after a resume.
/// In a data-parallel run each rank fills only its slice of the global batch, with the draws the
/// whole batch would have had: 2 ranks of 1 sample train on what 1 rank of 2 samples trains on.
/// (A rank reads the patches before its slice for their sizes, which the crop draws need; the cache
/// keeps them.)
public final class BatchAssembler: @unchecked Sendable {
    public let patches: PatchCache
    public let randomness: TrainingRandomness
    /// The global batch (the config's batch_size): it sets the steps per epoch.
    public let batchSize: Int
    /// The samples of the global batch this process fills, and their count (what its buffers hold).
    public let samples: Range<Int>
    public var localBatchSize: Int { samples.count }
    public let cropSize: Int
    public let augmentation: Augmentation
    public let requirements: PatchRequirements
    /// ceil(patches / batch): an epoch visits every patch once (the last batch wraps to the start).
    public let stepsPerEpoch: Int

    // Only the thread that calls `fill` touches this (the prefetcher's), so no lock.
    private var orderEpoch = -1
    private var order: [Int] = []

    /// `samples`: this rank's slice of the global batch (default: all of it).
    public init(patches: PatchCache, randomness: TrainingRandomness, dataset: TrainDataset, requirements: PatchRequirements,
                samples: Range<Int>? = nil) throws {
        guard patches.count > 0 else { throw DataError.emptySplit(manifest: dataset.manifest, split: dataset.split) }
        self.patches = patches
        self.randomness = randomness
        self.batchSize = dataset.batchSize
        self.samples = samples ?? 0..<dataset.batchSize
        precondition(!self.samples.isEmpty && self.samples.lowerBound >= 0 && self.samples.upperBound <= batchSize)
        self.cropSize = dataset.cropSize
        self.augmentation = dataset.augmentation
        self.requirements = requirements
        self.stepsPerEpoch = (patches.count + dataset.batchSize - 1) / dataset.batchSize
    }

    public func epoch(ofStep step: Int) -> Int { step / stepsPerEpoch }

    /// Fills `batch` with the samples `samples` of step `step`. Draw order from the step generator: one
    /// step seed, then per sample of the global batch crop x, crop y, transform index (only with augmentation).
    public func fill(_ batch: TrainingBatch, step: Int) throws {
        precondition(batch.batchSize == localBatchSize && batch.size == cropSize)
        let epoch = epoch(ofStep: step)
        if epoch != orderEpoch {
            order = randomness.epochOrder(epoch: epoch, count: patches.count)
            orderEpoch = epoch
        }
        var generator = randomness.stepGenerator(step: step)
        batch.begin(step: step, epoch: epoch, stepSeed: generator.next())
        let first = (step % stepsPerEpoch) * batchSize
        let plane = cropSize * cropSize
        for global in 0..<samples.upperBound {
            let patch = try patches.patch(at: order[(first + global) % order.count])
            guard patch.blurry.width >= cropSize, patch.blurry.height >= cropSize else {
                throw DataError.patchTooSmall(id: patch.id, width: patch.blurry.width, height: patch.blurry.height, crop: cropSize)
            }
            let x = generator.below(patch.blurry.width - cropSize + 1)
            let y = generator.below(patch.blurry.height - cropSize + 1)
            let transform = augmentation == .dihedral ? Dihedral(index: generator.below(8)) : .identity
            guard global >= samples.lowerBound else { continue }
            let sample = global - samples.lowerBound
            let crop = DihedralCrop(originX: x, originY: y, size: cropSize, transform: transform)
            batch.setPatchID(patch.id, sample: sample)
            crop.copy(patch.blurry, into: batch.blurry + sample * 3 * plane)
            crop.copy(patch.sharp, into: batch.sharp + sample * 3 * plane)
            let at = sample * plane
            copyFlow(patch.blurryToSharp, crop, batch.blurryToSharpU + at, batch.blurryToSharpV + at)
            copyFlow(patch.sharpToBlurry, crop, batch.sharpToBlurryU + at, batch.sharpToBlurryV + at)
            copyMask(patch.blurryToSharpMask, crop, batch.blurryToSharpMask + at)
            copyMask(patch.sharpToBlurryMask, crop, batch.sharpToBlurryMask + at)
        }
    }

    private func copyFlow(_ flow: FlowField?, _ crop: DihedralCrop, _ u: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>) {
        if let flow { crop.copy(flow, intoU: u, intoV: v) } else {
            u.update(repeating: 0, count: cropSize * cropSize)
            v.update(repeating: 0, count: cropSize * cropSize)
        }
    }

    /// A missing mask means "keep every pixel" (masks off, or not needed in this mode).
    private func copyMask(_ mask: PlanarImage?, _ crop: DihedralCrop, _ into: UnsafeMutablePointer<Float>) {
        if let mask { crop.copy(mask, into: into) } else { into.update(repeating: 1, count: cropSize * cropSize) }
    }
}
