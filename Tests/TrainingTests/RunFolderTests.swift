import Foundation
import Testing
import Training

@Suite struct RunFolderTests {
    func state(_ step: Int) -> CheckpointState {
        CheckpointState(step: step, epoch: step / 10, optimizerSteps: step, rng: TrainingRandomness(seed: 3).master(afterSteps: step),
                        seed: 3, configHash: "abc", lr: 1e-4, final: false)
    }

    @Test func checkpointsAreWrittenWholeAndTheNewestWins() throws {
        let root = Fixtures.temporaryDirectory("ckpt")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = RunFolder(runsDirectory: root, name: "r").checkpoints
        #expect(try store.latest() == nil)
        for step in [10, 20, 30] {
            try store.save(state(step), keepLast: 2) { folder in
                try Data("weights \(step)".utf8).write(to: folder.appendingPathComponent(CheckpointStore.deblurWeightsFile))
            }
        }
        let latest = try #require(try store.latest())
        #expect(latest.state == state(30))
        #expect(latest.state.rng == TrainingRandomness(seed: 3).master(afterSteps: 30))
        #expect(try String(contentsOf: latest.folder.appendingPathComponent(CheckpointStore.deblurWeightsFile), encoding: .utf8) == "weights 30")
        #expect(store.steps() == [20, 30], "keep_last 2 prunes the oldest")

        // A writer killed mid-checkpoint leaves only a partial folder: latest is unchanged, and it is swept.
        let partial = store.directory.appendingPathComponent(".partial-dead-step_00000040")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        #expect(try store.latest()?.state.step == 30)
        #expect(FileManager.default.fileExists(atPath: partial.path), "readers never sweep (the writer may be alive)")
        store.sweepPartials()
        #expect(!FileManager.default.fileExists(atPath: partial.path))

        // A failing writer leaves nothing behind and keeps the previous checkpoint as latest.
        struct Boom: Error {}
        #expect(throws: Boom.self) { try store.save(state(50), keepLast: 0) { _ in throw Boom() } }
        #expect(try store.latest()?.state.step == 30)
        #expect(store.steps() == [20, 30])
    }

    @Test func curvesRoundTripAndDrawEveryTerm() throws {
        var curves = TrainingCurves()
        for step in 1...20 {
            let s = Double(step)
            curves.append(StepRecord(step: step, epoch: step / 5, lr: 1e-4, total: 1 / s, deblur: 0.5 / s,
                                     cycle: step > 10 ? 0.3 / s : 0, reblur: step > 10 ? 0.2 / s : 0, seconds: 0.5))
        }
        let parsed = TrainingCurves.parse(csv: curves.csv())
        #expect(parsed.records == curves.records)
        var truncated = parsed
        truncated.truncate(after: 12)
        #expect(truncated.records.map(\.step) == Array(1...12))
        let svg = curves.svg(title: "test <run>", jointFromStep: 11)
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 4)
        #expect(svg.contains("l_cycle") && svg.contains("joint stage") && svg.contains("test &lt;run&gt;"))
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
    }

    @Test func progressLineShowsEveryTermRateAndETA() {
        let record = StepRecord(step: 50, epoch: 2, lr: 2e-4, total: 0.25, deblur: 0.1, cycle: 0.1, reblur: 0.1, seconds: 0.5)
        let line = ProgressLine(epoch: 2, epochs: 10, step: 50, totalSteps: 250, stage: .joint, record: record, stepsPerSecond: 2).text
        #expect(line.contains("epoch 3/10") && line.contains("step 50/250") && line.contains("l_cycle 0.10000")
                && line.contains("l_reblur 0.10000") && line.contains("lr 2.00e-04") && line.contains("2.00 steps/s") && line.contains("ETA 1m40s"))
    }
}
