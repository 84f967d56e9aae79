import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14, item 2: each stage SIGKILLed at seeded random moments, then re-run. After every kill the
/// manifest passes integrity_check and foreign_key_check, no natural key has two rows and no visible
/// file is half-written; after the re-runs the rows and every file's bytes equal an uninterrupted run's.
/// `make test` runs a short schedule (8 kills); `make test-faults` the long one (JDRL_KILLS=60).
/// Training's kill test (bitwise weights after SIGKILL and resume) is TrainingTests.KillResumeTests.
@Suite(.serialized) struct KillCorpusTests {
    @Test func stagesKilledAtRandomMomentsLoseNothingAndEndAsAnUninterruptedRun() throws {
        let schedule = KillSchedule.fromEnvironment(defaultKills: 8)
        print("kill corpus: seed \(schedule.seed), \(schedule.kills) kills (replay: JDRL_KILL_SEED=\(schedule.seed) JDRL_KILLS=\(schedule.kills))")

        // The uninterrupted run: its rows, its files, and each stage's duration (the kills' time scale)
        let reference = try KillPipeline()
        defer { reference.remove() }
        var durations: [String: Double] = [:]
        for stage in KillPipeline.stages {
            let started = Date()
            let result = try reference.run(stage)
            durations[stage] = Date().timeIntervalSince(started)
            try #require(result.status == 0, "uninterrupted \(stage): \(result.output)")
        }
        print("kill corpus: uninterrupted " + KillPipeline.stages.map { String(format: "%@ %.2f s", $0, durations[$0]!) }.joined(separator: ", "))
        let expected = try reference.snapshot()
        try #require(expected.filter { $0.hasPrefix("evaluation ") }.count == KillPipeline.testCaptures * 2 * 2,
                     "test captures x (input, checkpoint) x (GT, deformed GT): \(expected)")
        try #require(expected.filter { $0.hasPrefix("flow ") }.count == 4 * 2, "train patches x 2 directions: \(expected)")
        let referenceFiles = Dictionary(uniqueKeysWithValues: reference.visibleFiles(under: reference.patches).map {
            (reference.relative($0.path), reference.hash($0.path))
        })

        var index = 0
        var table: [(stage: String, kills: Int, midRun: Int, lost: Int, problems: Int)] = []
        let perStage = (schedule.kills + KillPipeline.stages.count - 1) / KillPipeline.stages.count
        for stage in KillPipeline.stages {
            var row = (stage: stage, kills: 0, midRun: 0, lost: 0, problems: 0)
            var remaining = perStage
            while remaining > 0 {
                // A chain of up to 3 kills on one folder (each re-run resumes what the killed one left), then a full re-run.
                let chain = min(3, remaining)
                remaining -= chain
                let pipeline = try KillPipeline()
                defer { pipeline.remove() }
                for earlier in KillPipeline.stages.prefix(while: { $0 != stage }) {
                    let result = try pipeline.run(earlier)
                    try #require(result.status == 0, "\(earlier): \(result.output)")
                }
                for _ in 0..<chain {
                    let delay = schedule.fraction(index) * durations[stage]!
                    let victim = try pipeline.start(stage)
                    usleep(useconds_t(delay * 1e6))
                    kill(victim.processIdentifier, SIGKILL)
                    victim.waitUntilExit()
                    let killed = victim.terminationReason == .uncaughtSignal
                    print(String(format: "kill %d: %@ after %.3f s of ~%.3f s (%@; replay: JDRL_KILL_SEED=%llu)", index, stage, delay, durations[stage]!,
                                 killed ? "killed mid-run" : "had already finished", schedule.seed))
                    let problems = try pipeline.problemsAfterKill(reference: referenceFiles)
                    #expect(problems.isEmpty, "kill \(index) of \(stage) after \(delay) s (seed \(schedule.seed)): \(problems)")
                    row.kills += 1
                    row.midRun += killed ? 1 : 0
                    row.problems += problems.count
                    index += 1
                }
                for later in KillPipeline.stages.drop(while: { $0 != stage }) {
                    let result = try pipeline.run(later)
                    #expect(result.status == 0, "re-run of \(later) after killing \(stage) (seed \(schedule.seed)): \(result.output)")
                }
                #expect(pipeline.partialFiles().isEmpty, "left over: \(pipeline.partialFiles())")
                let final = try pipeline.snapshot()
                let missing = Set(expected).subtracting(final), extra = Set(final).subtracting(expected)
                #expect(missing.isEmpty && extra.isEmpty && final.count == expected.count,
                        "after killing \(stage) (seed \(schedule.seed)): missing \(missing.sorted()), extra \(extra.sorted())")
                row.lost += missing.count
            }
            table.append(row)
        }
        print("| stage | kills | killed mid-run | rows or files lost | problems after a kill |")
        print("|---|---:|---:|---:|---:|")
        for row in table { print("| \(row.stage) | \(row.kills) | \(row.midRun) | \(row.lost) | \(row.problems) |") }
    }
}
