import Foundation
import GRDB
import Manifest
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Stages started at the same time on one manifest: no corruption, no work done
/// twice, and a message naming whoever holds the stage.
@Suite(.serialized) struct ConcurrencyTests {
    /// A process started in the background, its output going to a file.
    struct Started {
        let process: Process
        let log: URL
        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        func wait() -> Executables.Result {
            process.waitUntilExit()
            return Executables.Result(status: process.terminationStatus, output: output)
        }
    }

    static func start(_ executable: URL, _ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> Started {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = folder.appendingPathComponent("log-\(UUID().uuidString).txt")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return Started(process: process, log: log)
    }

    /// Holds `url`'s lock the way a stage does (flock, with a line saying who holds it) until released.
    final class HeldLock {
        let descriptor: Int32
        init(_ url: URL, holder: String) {
            descriptor = open(url.path, O_RDWR | O_CREAT, 0o644)
            flock(descriptor, LOCK_EX)
            ftruncate(descriptor, 0)
            _ = holder.withCString { write(descriptor, $0, strlen($0)) }
        }
        func release() { flock(descriptor, LOCK_UN); close(descriptor) }
    }

    static func integrity(_ path: String) throws -> (integrity: String, foreignKeyProblems: Int) {
        try DatabaseQueue(path: path).read { db in
            (try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "", try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count)
        }
    }

    static func datasetConfig(root: URL, captures: URL, manifest: String) throws -> URL {
        let config = root.appendingPathComponent("dataset.yaml")
        try """
        name: concurrency
        root: \(captures.path)
        layout: generic
        manifest: \(manifest)
        patches: \(root.appendingPathComponent("patches").path)
        size_tolerance: 4
        tiling:
          protocol: sdd
          size: 256
          scale: 1.0
          stride: 256
          drop_least_sharp: 0.0
          compression: 1
        """.write(to: config, atomically: true, encoding: .utf8)
        return config
    }

    @Test func twoMakePatchesAtOnceDoTheWorkOnceAndLeaveOneConsistentManifest() throws {
        let root = try temporaryFolder("two-patches")
        // make-patches.sh writes flows under work-data/flows/<manifest name>/ of the package: a unique name, removed after.
        let name = "concurrency-\(UUID().uuidString.prefix(8))"
        let flows = Executables.packageRoot.appendingPathComponent("work-data/flows/\(name)")
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: flows) }
        let captures = root.appendingPathComponent("captures")
        // Patches of 256 px: the colour fit beside each flow needs that much image inside its low-pass border.
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
        for i in 0..<4 {
            try writePNG(captures.appendingPathComponent("p\(i)_blur.png"), width: 300, height: 260, seed: 20 + i)
            try writePNG(captures.appendingPathComponent("p\(i)_sharp.png"), width: 300, height: 260, seed: 21 + i)
        }
        let manifest = root.appendingPathComponent("\(name).sqlite").path
        let config = try Self.datasetConfig(root: root, captures: captures, manifest: manifest)
        let script = Executables.packageRoot.appendingPathComponent("pipelines/make-patches.sh")
        let bin = try Executables.url("jdrl-ingest").deletingLastPathComponent().path

        // When two `make patches` start together
        let first = try Self.start(script, [config.path], in: root, environment: ["BIN": bin])
        let second = try Self.start(script, [config.path], in: root, environment: ["BIN": bin])
        let results = [first.wait(), second.wait()]

        // Then both succeed, and every capture was ingested, tiled and given flows once in all
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.output))")
        let all = results.map(\.output).joined(separator: "\n")
        let tiled = all.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("tile: "), let range = line.range(of: " captures tiled") else { return nil }
            return Int(line[line.index(line.startIndex, offsetBy: 6)..<range.lowerBound])
        }
        #expect(tiled.reduce(0, +) == 4, "tiled counts \(tiled):\n\(all)")
        // "jdrl-flow: N items, M already done, F failed": N - M computed by each run
        let flowed = all.split(separator: "\n").filter { $0.hasPrefix("jdrl-flow: ") && $0.contains(" already done") }.map { line -> Int in
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            return numbers.count >= 2 ? numbers[0] - numbers[1] : -1
        }
        #expect(flowed.count == 2 && flowed.reduce(0, +) == 4, "flow counts \(flowed):\n\(all)")
        let check = try Self.integrity(manifest)
        #expect(check.integrity == "ok" && check.foreignKeyProblems == 0)
        let counts = try DatabaseQueue(path: manifest).read { db in
            (captures: try Int.fetchOne(db, sql: "SELECT count(*) FROM captures") ?? 0,
             patches: try Int.fetchOne(db, sql: "SELECT count(*) FROM patches") ?? 0,
             tileDone: try Int.fetchOne(db, sql: "SELECT count(*) FROM stage_items WHERE stage = 'tile'") ?? 0,
             flowRows: try Int.fetchOne(db, sql: "SELECT count(*) FROM flows") ?? 0,
             minPatchID: try Int.fetchOne(db, sql: "SELECT min(id) FROM patches") ?? 0)
        }
        // One 256 px patch per capture, flows both ways
        #expect(counts.captures == 4 && counts.patches == 4 && counts.tileDone == 4 && counts.flowRows == 8, "\(counts)")
        #expect(counts.minPatchID == 1, "no capture's patches were replaced by a second tiling")
        let leftovers = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.contains(".partial-") } ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
        let holder = try String(contentsOfFile: "\(manifest).tile.lock", encoding: .utf8)
        #expect(holder.hasPrefix("jdrl-tile (pid "), "the lock file names its last holder: \(holder)")
    }

    @Test func aStageWaitsForTheHolderItNamesThenSkipsWhatIsDone() throws {
        let root = try temporaryFolder("stage-lock")
        defer { try? FileManager.default.removeItem(at: root) }
        let captures = root.appendingPathComponent("captures")
        try EvaluationStage.pair("a", in: captures, seed: 1)
        let manifest = root.appendingPathComponent("m.sqlite").path
        #expect(try Executables.run("jdrl-ingest", [captures.path, "--manifest", manifest]).status == 0)

        // Given another tiler holding the manifest's tile lock
        let lock = HeldLock(URL(fileURLWithPath: "\(manifest).tile.lock"), holder: "jdrl-tile (pid 4242, started earlier)")
        let tile = try Self.start(try Executables.url("jdrl-tile"), ["--manifest", manifest, "--out", root.appendingPathComponent("p").path,
                                                                    "--size", "64", "--stride", "32", "--scale", "1"], in: root)
        // Then the new one says whom it waits for, and does nothing meanwhile
        let deadline = Date().addingTimeInterval(30)
        while !tile.output.contains("waiting"), Date() < deadline { usleep(50_000) }
        #expect(tile.output.contains("another process, jdrl-tile (pid 4242, started earlier), holds \(manifest).tile.lock; waiting for it to finish"),
                "\(tile.output)")
        usleep(300_000)
        #expect(tile.process.isRunning)
        #expect(try DatabaseQueue(path: manifest).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM patches") } == 0)

        // When the holder is done, it goes on
        lock.release()
        let result = tile.wait()
        #expect(result.status == 0 && result.output.contains("1 captures tiled"), "\(result.output)")
    }

    @Test func aSecondTrainerOnTheSameRunIsRefusedNamingTheHolder() throws {
        let root = try temporaryFolder("train-twice")
        defer { try? FileManager.default.removeItem(at: root) }
        let runs = root.appendingPathComponent("runs")
        let run = runs.appendingPathComponent("jdrl-unet-cpu")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let lock = HeldLock(run.appendingPathComponent("train.lock"), holder: "jdrl-train (pid 4343, started earlier)")
        defer { lock.release() }

        let config = Executables.packageRoot.appendingPathComponent("configs/jdrl-unet-cpu.yaml").path
        let second = try Executables.run("jdrl-train", ["--config", config, "--runs", runs.path, "--max-steps", "1"])
        #expect(second.status == 75, "\(second.output)")
        #expect(second.output.contains("jdrl-train (pid 4343, started earlier), holds \(run.path)/train.lock"), "\(second.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.path) == ["train.lock"], "the refused trainer wrote nothing")
    }

    @Test func ingestWritesWhileEvalReadsAndNeitherSeesAnError() throws {
        let root = try temporaryFolder("ingest-eval")
        defer { try? FileManager.default.removeItem(at: root) }
        let tests = root.appendingPathComponent("test-captures"), more = root.appendingPathComponent("more-captures")
        for i in 0..<4 { try EvaluationStage.pair("t\(i)", in: tests, seed: 40 + i) }
        for i in 0..<16 { try EvaluationStage.pair("m\(i)", in: more, seed: 60 + i) }
        let manifest = root.appendingPathComponent("m.sqlite").path
        #expect(try Executables.run("jdrl-ingest", [tests.path, "--manifest", manifest, "--split", "test"]).status == 0)

        // When jdrl-eval scores the test split while jdrl-ingest adds 16 pairs to the same manifest
        let eval = try Self.start(try Executables.url("jdrl-eval"), ["--manifest", manifest, "--split", "test", "--threads", "1"], in: root)
        let ingest = try Self.start(try Executables.url("jdrl-ingest"), [more.path, "--manifest", manifest, "--threads", "1"], in: root)
        let results = [eval.wait(), ingest.wait()]

        // Then both finish cleanly (WAL: the reader never blocks the writer), and each did all its work
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.output))")
        #expect(!results.contains { $0.output.contains("locked") || $0.output.contains("busy") }, "\(results.map(\.output))")
        #expect(results[0].output.contains("4 items scored"), "\(results[0].output)")
        let check = try Self.integrity(manifest)
        #expect(check.integrity == "ok" && check.foreignKeyProblems == 0)
        let counts = try DatabaseQueue(path: manifest).read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM captures WHERE status = 'ok'") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(DISTINCT capture_id) FROM evaluations") ?? 0)
        }
        #expect(counts.0 == 20 && counts.1 == 4, "\(counts)")
    }
}
