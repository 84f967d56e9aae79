import Foundation
import GRDB
import Testing
import WeightFiles

/// `mpirun -n 2 jdrl-train` on Debian's OpenMPI against one process with the same global batch, a rank
/// killed mid-run, and a batch that does not divide. `make test-cluster` runs them (JDRL_MPI_TESTS=1;
/// `.ci/install-deps cluster` installs openmpi-bin); `make test` does not need MPI.
@Suite(.serialized, .enabled(if: DataParallel.available, "needs mpirun and JDRL_MPI_TESTS=1 (make test-cluster)"))
struct DataParallelTrainingTests {
    @Test func twoRanksOfOneSampleTrainAsOneRankOfTwo() throws {
        let data = try DataParallel.preparedPipeline()
        defer { data.remove() }
        let config = try DataParallel.config(in: data, name: "dp", batch: 2, epochs: 4)
        let single = data.root.appendingPathComponent("single"), ranks = data.root.appendingPathComponent("ranks")
        let one = try Executables.run(executable: try Executables.url("jdrl-train"),
                                      ["--config", config.path, "--runs", single.path, "--threads", "1"])
        try #require(one.status == 0, "single process: \(one.output)")
        let two = try DataParallel.mpirun(2, ["--config", config.path, "--runs", ranks.path])
        try #require(two.status == 0, "mpirun -n 2: \(two.output)")
        #expect(two.output.contains("data parallel: OpenMPI (libmpi.so.40), rank 0 of 2; global batch 2, 1 per rank"))

        // The same 8 steps (2 of the initialisation stage, 6 joint with flows, masks and the reblur term):
        // the losses per step, and the weights after them, relative to how far those steps moved them.
        let lossesOne = try DataParallel.losses(single.appendingPathComponent("dp/curves.csv"))
        let lossesTwo = try DataParallel.losses(ranks.appendingPathComponent("dp/curves.csv"))
        try #require(lossesOne.count == 8 && lossesTwo.count == 8)
        let lossGap = zip(lossesOne, lossesTwo).map { abs($0 - $1) / abs($0) }.max()!
        var report = [String(format: "largest relative loss difference %.2e", lossGap)]
        for file in ["net_g.safetensors", "net_reblur.safetensors"] {
            func weights(_ runs: URL, _ step: String) throws -> [Float] {
                let tensors = try SafeTensors.read(runs.appendingPathComponent("dp/checkpoints/\(step)/\(file)"))
                return tensors.keys.sorted().flatMap { tensors[$0]!.values }
            }
            let start = try weights(single, "step_00000002"), endOne = try weights(single, "step_00000008")
            let endTwo = try weights(ranks, "step_00000008")
            let moved = zip(endOne, start).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
            let apart = zip(endOne, endTwo).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
            report.append(String(format: "%@: |two ranks - one| / |steps 2..8 update| = %.2e", file, apart / moved))
            #expect(moved > 0)
            #expect(apart / moved < 1e-3, "\(file): the ranks' weights left the single process's")
        }
        print("data parallel: " + report.joined(separator: "; "))
        #expect(lossGap < 1e-4)
    }

    /// With the blur-map prior, every loss term survives the ranks' averaging: `l_prior` of the joint
    /// steps reaches the log line, curves.csv and the manifest's rows, equal to the single process's.
    @Test func twoRanksWithThePriorLogEveryTerm() throws {
        let data = try DataParallel.preparedPipeline()
        defer { data.remove() }
        let config = try DataParallel.config(in: data, name: "dpprior", batch: 2, epochs: 4, prior: true)
        let single = data.root.appendingPathComponent("single"), ranks = data.root.appendingPathComponent("ranks")
        let one = try Executables.run(executable: try Executables.url("jdrl-train"),
                                      ["--config", config.path, "--runs", single.path, "--threads", "1"])
        try #require(one.status == 0, "single process: \(one.output)")
        let manifest = try DatabaseQueue(path: data.manifest)
        func priorRows() throws -> [Double?] {
            try manifest.read { db in
                try Double?.fetchAll(db, sql: """
                    SELECT s.loss_prior FROM training_steps s JOIN runs r ON r.id = s.run_id WHERE r.name = 'dpprior' ORDER BY s.step
                    """)
            }
        }
        let priorOne = try priorRows()
        let two = try DataParallel.mpirun(2, ["--config", config.path, "--runs", ranks.path])
        try #require(two.status == 0, "mpirun -n 2: \(two.output)")

        // 8 steps: 2 of the initialisation stage (no prior term), 6 joint ones with it.
        let curvesOne = try DataParallel.losses(single.appendingPathComponent("dpprior/curves.csv"), column: "l_prior")
        let curvesTwo = try DataParallel.losses(ranks.appendingPathComponent("dpprior/curves.csv"), column: "l_prior")
        try #require(curvesOne.count == 8 && curvesTwo.count == 8)
        #expect(curvesTwo.prefix(2).allSatisfy { $0 == 0 } && curvesTwo.dropFirst(2).allSatisfy { $0 > 0 })
        let gap = zip(curvesOne, curvesTwo).dropFirst(2).map { abs($0 - $1) / $0 }.max()!
        #expect(gap < 1e-4, "l_prior of two ranks against one: largest relative difference \(gap)")

        let log = try String(contentsOf: ranks.appendingPathComponent("dpprior/train.log"), encoding: .utf8)
        let last = try #require(log.split(separator: "\n").last { $0.contains("step 8/8") }, "no progress line for step 8")
        #expect(last.contains(String(format: "l_prior %.5f", curvesTwo[7])), "progress line: \(last)")

        // The second run replaced the rows of the first (same run name): the ranks' values, not the single process's.
        let priorTwo = try priorRows()
        try #require(priorOne.count == 8 && priorTwo.count == 8)
        #expect(priorTwo.prefix(2).allSatisfy { $0 == nil })
        #expect(zip(priorTwo.dropFirst(2), curvesTwo.dropFirst(2)).allSatisfy { $0 == $1 })
        print(String(format: "data parallel with the prior: l_prior of two ranks against one, largest relative difference %.2e", gap))
    }

    @Test func aKilledRankEndsTheJobWithAMessageAndTheRerunResumes() throws {
        let data = try DataParallel.preparedPipeline()
        defer { data.remove() }
        let config = try DataParallel.config(in: data, name: "dpkill", batch: 2, epochs: 200)
        let runs = data.root.appendingPathComponent("runs-kill")
        let arguments = ["--config", config.path, "--runs", runs.path]
        let job = try DataParallel.start(2, arguments)
        let latest = runs.appendingPathComponent("dpkill/checkpoints/latest.json")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: latest.path) && Date() < deadline { usleep(100_000) }
        try #require(FileManager.default.fileExists(atPath: latest.path), "no checkpoint within 2 minutes")
        let victim = try #require(DataParallel.rankProcess(1, runsFolder: runs.path), "rank 1 not found among the processes")
        kill(victim, SIGKILL)
        let ended = job.wait()
        #expect(ended.status != 0)
        #expect(ended.output.contains("rank 1") && ended.output.contains("signal 9"), "mpirun's message: \(ended.output)")
        print("data parallel, rank 1 killed: " + ended.output.split(separator: "\n").filter { $0.contains("signal") }.joined(separator: " "))

        let rerun = try DataParallel.mpirun(2, arguments + ["--max-steps", "4"])
        try #require(rerun.status == 0, "rerun: \(rerun.output)")
        let log = try String(contentsOf: runs.appendingPathComponent("dpkill/train.log"), encoding: .utf8)
        let resumed = try #require(log.components(separatedBy: "\n").last { $0.contains("resumed from") }, "the rerun did not resume")
        let step = try #require(Int(resumed.split(separator: "(step ").last?.split(separator: ",").first ?? ""))
        #expect(step >= 2)
        #expect(log.contains(String(format: "step_%08d written", step + 4)))
    }

    @Test func aGlobalBatchThatDoesNotDivideAmongTheRanksIsRefused() throws {
        let data = try DataParallel.preparedPipeline(stages: [])
        defer { data.remove() }
        let config = try DataParallel.config(in: data, name: "dpodd", batch: 3, epochs: 1)
        let result = try DataParallel.mpirun(2, ["--config", config.path, "--runs", data.root.appendingPathComponent("runs").path])
        #expect(result.status != 0)
        #expect(result.output.contains("datasets.train.batch_size 3 is the global batch and must divide among the 2 ranks"))
    }
}

enum DataParallel {
    static let mpirunPath = "/usr/bin/mpirun"
    static var available: Bool {
        ProcessInfo.processInfo.environment["JDRL_MPI_TESTS"] == "1" && FileManager.default.isExecutableFile(atPath: mpirunPath)
    }

    /// The kill corpus's small dataset (4 train patches of 256 px with flows and masks), its stages run.
    static func preparedPipeline(stages: [String] = ["ingest", "tile", "flow"]) throws -> KillPipeline {
        let pipeline = try KillPipeline()
        for stage in stages {
            let result = try pipeline.run(stage)
            try #require(result.status == 0, "\(stage): \(result.output)")
        }
        return pipeline
    }

    /// The kill corpus's tiny config (configs/jdrl-unet-cpu.yaml scaled down) with this global batch and length.
    /// `prior`: with network_g.prior (configs/jdrl-prior-unet-cpu.yaml's section).
    static func config(in pipeline: KillPipeline, name: String, batch: Int, epochs: Int, prior: Bool = false) throws -> URL {
        let url = try KillPipeline.tinyTrainingConfig(manifest: pipeline.manifest, name: name, in: pipeline.root)
        var text = try String(contentsOf: url, encoding: .utf8)
        var changes = [("batch_size: 1", "batch_size: \(batch)"), ("epochs: 4", "epochs: \(epochs)")]
        if prior { changes.append(("  residual: true\n", "  residual: true\n  prior:\n    weight: 0.5\n    ramp_start: 0.001\n")) }
        for (old, new) in changes {
            guard text.contains(old) else { throw CocoaError(.fileReadCorruptFile) }
            text = text.replacingOccurrences(of: old, with: new)
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// One thread per rank (the single-process reference runs with one too); root may run mpirun here.
    static func environment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        return environment
    }

    struct Job {
        let process: Process
        let pipe: Pipe
        func wait() -> Executables.Result {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Executables.Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
        }
    }

    static func start(_ ranks: Int, _ arguments: [String]) throws -> Job {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirunPath)
        process.arguments = ["-n", "\(ranks)", "--oversubscribe", try Executables.url("jdrl-train").path] + arguments
        process.environment = environment()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return Job(process: process, pipe: pipe)
    }

    static func mpirun(_ ranks: Int, _ arguments: [String]) throws -> Executables.Result { try start(ranks, arguments).wait() }

    /// The pid of the jdrl-train process that is rank `rank` of the job training into `runsFolder`.
    static func rankProcess(_ rank: Int, runsFolder: String) -> pid_t? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = pid_t(entry),
                  let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let arguments = command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let variables = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.first?.hasSuffix("jdrl-train") == true, arguments.contains(runsFolder),
               variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") {
                return pid
            }
        }
        return nil
    }

    /// One column (loss_total unless named) per step from a run's curves.csv.
    static func losses(_ csv: URL, column name: String = "loss_total") throws -> [Double] {
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        let column = try #require(header.firstIndex(of: name) ?? (name == "loss_total" ? header.firstIndex(of: "total") : nil),
                                  "curves.csv header \(header)")
        return lines.dropFirst().map { Double($0.split(separator: ",")[column])! }
    }
}
