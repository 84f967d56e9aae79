import Flow
import Foundation
import Imaging
import Seeding
import Tensors
import Testing
import Training

@Suite struct AugmentationTests {
    /// A smooth, non-constant flow field (so a wrong sign or a missed swap shows).
    static func wavyFlow(size: Int) -> FlowField {
        var f = FlowField(width: size, height: size)
        for y in 0..<size {
            for x in 0..<size {
                f.u[y * size + x] = 2.5 * sin(Float(x) * 0.21 + Float(y) * 0.05) + 0.7
                f.v[y * size + x] = -1.5 * cos(Float(y) * 0.17 - Float(x) * 0.08) + 0.3
            }
        }
        return f
    }

    static func transformed(_ image: PlanarImage, _ crop: DihedralCrop) -> PlanarImage {
        var out = PlanarImage(width: crop.size, height: crop.size, channels: image.channels)
        out.pixels.withUnsafeMutableBufferPointer { crop.copy(image, into: $0.baseAddress!) }
        return out
    }

    static func transformed(_ flow: FlowField, _ crop: DihedralCrop) -> FlowField {
        var out = FlowField(width: crop.size, height: crop.size)
        out.u.withUnsafeMutableBufferPointer { u in out.v.withUnsafeMutableBufferPointer { v in crop.copy(flow, intoU: u.baseAddress!, intoV: v.baseAddress!) } }
        return out
    }

    /// For every flip/rotation T: T(warp(B, f)) == warp(T(B), T(f)). This is what makes augmented
    /// flows valid: the flow of the transformed pair is the transformed flow.
    @Test func flowTransformsCommuteWithTheWarp() throws {
        let size = 24
        let b = Fixtures.texture(width: size, height: size, seed: 7)
        let f = Self.wavyFlow(size: size)
        let a = Warp.backward(image: b, flow: f)
        var seen: [[Float]] = []
        for t in Dihedral.allCases {
            let crop = DihedralCrop(originX: 0, originY: 0, size: size, transform: t)
            let expected = Self.transformed(a, crop)
            let actual = Warp.backward(image: Self.transformed(b, crop), flow: Self.transformed(f, crop))
            let worst = zip(expected.pixels, actual.pixels).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5, "transform \(t): max difference \(worst)")
            seen.append(expected.pixels)
        }
        #expect(Set(seen.map { $0.description }).count == 8, "the 8 transforms must give 8 different images")
    }

    @Test func horizontalFlipNegatesUAndMirrors() {
        let size = 8
        let f = Self.wavyFlow(size: size)
        let flipped = Self.transformed(f, DihedralCrop(originX: 0, originY: 0, size: size, transform: Dihedral(transpose: false, flipX: true, flipY: false)))
        for y in 0..<size {
            for x in 0..<size {
                #expect(flipped.u[y * size + x] == -f.u[y * size + (size - 1 - x)])
                #expect(flipped.v[y * size + x] == f.v[y * size + (size - 1 - x)])
            }
        }
        let transposed = Self.transformed(f, DihedralCrop(originX: 0, originY: 0, size: size, transform: Dihedral(transpose: true, flipX: false, flipY: false)))
        #expect(transposed.u[2 * size + 5] == f.v[5 * size + 2] && transposed.v[2 * size + 5] == f.u[5 * size + 2])
    }

    @Test func cropsCutImageFlowAndMaskAtTheSamePlace() {
        let patch = Fixtures.pair(id: 1, size: 32, shift: (1.5, -0.5), seed: 3)
        let crop = DihedralCrop(originX: 5, originY: 9, size: 16)
        let image = Self.transformed(patch.sharp, crop)
        #expect(image[2, 3, 4] == patch.sharp[2, 12, 9])
        let flow = Self.transformed(patch.blurryToSharp!, crop)
        #expect(flow.u.allSatisfy { $0 == 1.5 } && flow.v.allSatisfy { $0 == -0.5 })
    }
}

@Suite struct RandomnessTests {
    @Test func stepRandomnessDependsOnlyOnSeedAndStep() {
        let r = TrainingRandomness(seed: 9)
        var a = r.stepGenerator(step: 123), b = TrainingRandomness(seed: 9).stepGenerator(step: 123)
        #expect(a.next() == b.next())
        var c = r.stepGenerator(step: 124)
        #expect(r.stepGenerator(step: 123).state != c.state)
        _ = c.next()
        #expect(r.master(afterSteps: 5) == SplitMix64(state: 9).advanced(by: 5))
    }

    @Test func epochOrderIsASeededPermutation() {
        let r = TrainingRandomness(seed: 1)
        let order = r.epochOrder(epoch: 3, count: 50)
        #expect(order.sorted() == Array(0..<50))
        #expect(order == TrainingRandomness(seed: 1).epochOrder(epoch: 3, count: 50))
        #expect(order != r.epochOrder(epoch: 4, count: 50))
        #expect(order != TrainingRandomness(seed: 2).epochOrder(epoch: 3, count: 50))
    }
}

@Suite struct BatchTests {
    static func dataset(batch: Int, crop: Int, augmentation: Augmentation) -> TrainDataset {
        TrainDataset.testing(batchSize: batch, cropSize: crop, augmentation: augmentation)
    }

    static func assembler(patches: Int, batch: Int, crop: Int, augmentation: Augmentation, seed: UInt64 = 5) throws -> BatchAssembler {
        let source = InMemoryPatchSource((0..<patches).map { Fixtures.pair(id: Int64($0 + 1), size: 40, shift: (Float($0) * 0.5, 1), seed: UInt64($0)) })
        let cache = PatchCache(source: source, requirements: PatchRequirements(flows: true, masks: true)) { p, _ in p }
        return try BatchAssembler(patches: cache, randomness: TrainingRandomness(seed: seed),
                                  dataset: dataset(batch: batch, crop: crop, augmentation: augmentation),
                                  requirements: PatchRequirements(flows: true, masks: true))
    }

    static func snapshot(_ b: TrainingBatch) -> [Float] {
        Array(UnsafeBufferPointer(start: b.blurry, count: b.imageCount)) + Array(UnsafeBufferPointer(start: b.sharp, count: b.imageCount))
            + Array(UnsafeBufferPointer(start: b.blurryToSharpU, count: b.pixelCount)) + Array(UnsafeBufferPointer(start: b.sharpToBlurryV, count: b.pixelCount))
            + [Float(b.stepSeed % 1_000_003)] + b.patchIDs.map(Float.init)
    }

    /// The prefetch thread, running ahead, produces exactly what direct assembly of each step gives:
    /// prefetching does not change what a step sees (the basis of resume equivalence).
    @Test func prefetchedBatchesEqualDirectlyAssembledOnes() throws {
        let direct = try Self.assembler(patches: 5, batch: 2, crop: 16, augmentation: .dihedral)
        let ahead = try Self.assembler(patches: 5, batch: 2, crop: 16, augmentation: .dihedral)
        let prefetcher = BatchPrefetcher(assembler: ahead, firstStep: 4, endStep: 14, depth: 3)
        defer { prefetcher.stop() }
        let scratch = TrainingBatch(batchSize: 2, size: 16)
        var snapshots: [[Float]] = []
        for step in 4..<14 {
            try direct.fill(scratch, step: step)
            let fetched = try prefetcher.next()
            #expect(fetched.step == step && fetched.epoch == step / 3)
            #expect(Self.snapshot(fetched) == Self.snapshot(scratch), "step \(step)")
            snapshots.append(Self.snapshot(scratch))
        }
        #expect(Set(snapshots.map { $0.description }).count == snapshots.count, "every step must draw new crops")
    }

    @Test func anEpochVisitsEveryPatch() throws {
        let a = try Self.assembler(patches: 7, batch: 2, crop: 16, augmentation: .none)
        #expect(a.stepsPerEpoch == 4)
        let batch = TrainingBatch(batchSize: 2, size: 16)
        var ids = Set<Int64>()
        for step in 4..<8 { try a.fill(batch, step: step); ids.formUnion(batch.patchIDs) }
        #expect(ids == Set(1...7))
    }
}

extension TrainDataset {
    static func testing(batchSize: Int, cropSize: Int, augmentation: Augmentation) -> TrainDataset {
        var d = try! TrainingConfigLoader.load(configURL("jdrl-unet-cpu.yaml")).datasets.train
        d.manifest = ":memory:"
        d.batchSize = batchSize
        d.cropSize = cropSize
        d.augmentation = augmentation
        return d
    }
}
