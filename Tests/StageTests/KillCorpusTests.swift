import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Each stage (ingest, tile, flow, eval, train) SIGKILLed at seeded random moments, then re-run. After every kill the
/// manifest passes integrity_check and foreign_key_check, no natural key has two rows and no visible
/// file or checkpoint is half-written; after the re-runs the rows and every file's bytes (patches, flows, masks,
/// checkpoint weights at one thread) equal an uninterrupted run's.
/// `make test` runs a short schedule (8 kills); `make test-faults` the long one (JDRL_KILLS=60).
@Suite(.serialized) struct KillCorpusTests {
    @Test func stagesKilledAtRandomMomentsLoseNothingAndEndAsAnUninterruptedRun() throws {
        let schedule = KillSchedule.fromEnvironment(defaultKills: 8)
        print("kill corpus: seed \(schedule.seed), \(schedule.kills) kills (replay: JDRL_KILL_SEED=\(schedule.seed) JDRL_KILLS=\(schedule.kills))")

        // The uninterrupted run: its rows and files after each stage, and each stage's duration (the kills' time scale)
        let reference = try KillPipeline()
        defer { reference.remove() }
        var durations: [String: Double] = [:], expectedAfter: [String: [String]] = [:]
        for stage in KillPipeline.stages {
            let started = Date()
            let result = try reference.run(stage)
            durations[stage] = Date().timeIntervalSince(started)
            try #require(result.status == 0, "uninterrupted \(stage): \(result.output)")
            expectedAfter[stage] = try reference.snapshot()
        }
        print("kill corpus: uninterrupted " + KillPipeline.stages.map { String(format: "%@ %.2f s", $0, durations[$0]!) }.joined(separator: ", "))
        let expected = expectedAfter["train"]!
        try #require(expected.filter { $0.hasPrefix("evaluation ") }.count == KillPipeline.testCaptures * 2 * 2,
                     "test captures x (input, checkpoint) x (GT, deformed GT): \(expected)")
        try #require(expected.filter { $0.hasPrefix("flow ") }.count == 4 * 2, "train patches x 2 directions: \(expected)")
        try #require(expected.filter { $0.hasPrefix("training-step ") }.count == 16 && expected.filter { $0.hasPrefix("checkpoint ") }.count == 8,
                     "16 steps, a checkpoint every 2: \(expected)")
        let referenceFiles = Dictionary(uniqueKeysWithValues: reference.visibleFiles(under: reference.patches).map {
            (reference.relative($0.path), reference.hash($0.path))
        })

        var index = 0
        var table: [(stage: String, kills: Int, midRun: Int, lost: Int, problems: Int)] = []
        for stage in KillPipeline.stages {
            var row = (stage: stage, kills: 0, midRun: 0, lost: 0, problems: 0)
            var remaining = schedule.kills(of: stage)
            while remaining > 0 {
                // A chain of up to 3 kills on one folder (each re-run resumes what the killed one left), then a
                // re-run to the end, compared with the uninterrupted run after the same stage (rows and file
                // bytes: the later stages see exactly what they would have seen).
                let chain = min(3, remaining)
                remaining -= chain
                let pipeline = try KillPipeline()
                defer { pipeline.remove() }
                for earlier in KillPipeline.stages.prefix(while: { $0 != stage }) {
                    let result = try pipeline.run(earlier)
                    try #require(result.status == 0, "\(earlier): \(result.output)")
                }
                for link in 0..<chain {
                    // A re-run has less left to do: later kills of a chain come sooner.
                    let delay = schedule.fraction(index) * durations[stage]! / Double(link + 1)
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
                // Re-run to the end, then once more: a stage with nothing left to do must change nothing (a second
                // `make train` once left its finished run marked running).
                for _ in 0..<2 {
                    let rerun = try pipeline.run(stage)
                    #expect(rerun.status == 0, "re-run of \(stage) (seed \(schedule.seed)): \(rerun.output)")
                }
                #expect(pipeline.partialFiles().isEmpty, "left over: \(pipeline.partialFiles())")
                let final = try pipeline.snapshot(), wanted = expectedAfter[stage]!
                let missing = Set(wanted).subtracting(final), extra = Set(final).subtracting(wanted)
                #expect(missing.isEmpty && extra.isEmpty && final.count == wanted.count,
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

extension KillCorpusTests {
    /// `make reevaluate` (pipelines/reevaluate.sh: jdrl-ingest, then jdrl-eval appending to the history) killed
    /// with its whole process group at seeded moments, then run again: the history ends with every row an
    /// uninterrupted run writes, once.
    @Test func reevaluateKilledAtRandomMomentsLosesNoHistoryRow() throws {
        let schedule = KillSchedule.fromEnvironment(defaultKills: 8)
        let kills = max(2, schedule.kills / 10)
        print("kill corpus (reevaluate): seed \(schedule.seed), \(kills) kills")
        func folder() throws -> (root: URL, inbox: URL) {
            let root = try temporaryFolder("kill-reevaluate")
            try EvaluationStage.checkpoint(in: root.appendingPathComponent("runs"))
            let inbox = root.appendingPathComponent("inbox")
            for (i, name) in ["north", "south", "east"].enumerated() { try EvaluationStage.pair(name, in: inbox, seed: 50 + i) }
            return (root, inbox)
        }
        /// The history's rows without the time stamp and paths: image, method, target and the scores.
        /// The script is reaped before its children are (they hold its flock too): on a loaded machine a rerun
        /// started at once would find the lock held and, by design, do nothing.
        func waitUntilLockIsFree(_ path: String) {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let deadline = Date().addingTimeInterval(30)
            while flock(fd, LOCK_EX | LOCK_NB) != 0 && Date() < deadline { usleep(10_000) }
            flock(fd, LOCK_UN)
        }

        func historyRows(_ root: URL) -> [String] {
            let text = (try? String(contentsOf: root.appendingPathComponent("reports/history/history.csv"), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").dropFirst().map { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                return [2, 4, 6, 9, 10, 11].map { fields.indices.contains($0) ? String(fields[$0]) : "?" }.joined(separator: ",")
            }.sorted()
        }

        let reference = try folder()
        defer { try? FileManager.default.removeItem(at: reference.root) }
        let started = Date()
        let straight = try EvaluationStage.reevaluate(inbox: reference.inbox, root: reference.root).wait()
        let duration = Date().timeIntervalSince(started)
        try #require(straight.status == 0, "\(straight.output)")
        let expected = historyRows(reference.root)
        try #require(expected.count == 3 * 2 * 2, "3 captures x (input, checkpoint) x (GT, deformed GT): \(expected)")

        let killed = try folder()
        defer { try? FileManager.default.removeItem(at: killed.root) }
        let manifest = killed.root.appendingPathComponent("m.sqlite").path
        for index in 0..<kills {
            // Foundation starts each child as the leader of its own process group: kill(-pid) reaches the script
            // and the stage it runs.
            let group = try EvaluationStage.reevaluate(inbox: killed.inbox, root: killed.root)
            let started = Date()
            if index == 0 {
                // The first kill lands just after the first score is stored, before the history is written: the
                // moment a run loses rows if the history only takes what the finishing run scored itself.
                while group.process.isRunning {
                    let stored = FileManager.default.fileExists(atPath: manifest)
                        ? (try? EvaluationStage.sqlite(manifest, "SELECT count(*) FROM evaluations")) ?? "" : ""
                    if let count = Int(stored), count > 0 { break }
                    usleep(10_000)
                }
            } else {
                usleep(useconds_t(schedule.fraction(1000 + index) * duration * 1e6))
            }
            #expect(getpgid(group.process.processIdentifier) == group.process.processIdentifier || !group.process.isRunning)
            kill(-group.process.processIdentifier, SIGKILL)
            group.process.waitUntilExit()
            waitUntilLockIsFree(killed.root.appendingPathComponent("reports/history/.reevaluate.lock").path)
            print(String(format: "kill r%d: reevaluate after %.3f s of ~%.3f s (%@; replay: JDRL_KILL_SEED=%llu)", index, Date().timeIntervalSince(started),
                         duration, index == 0 ? "after the first stored score" : "seeded", schedule.seed))
        }
        let rerun = try EvaluationStage.reevaluate(inbox: killed.inbox, root: killed.root).wait()
        #expect(rerun.status == 0, "\(rerun.output)")
        let final = historyRows(killed.root)
        let missing = Set(expected).subtracting(final).sorted()
        #expect(final == expected, "after \(kills) kills (seed \(schedule.seed)): missing \(missing), extra or repeated \(final.count - expected.count + missing.count)")
    }
}
