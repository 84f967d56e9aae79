import Foundation
import GRDB
import Imaging
import Manifest
import Seeding

/// The data path as four stage processes over one small folder (ingest, tile, flow, eval), and what it
/// leaves behind, path-independent: rows by natural key (capture name, patch origin, direction, method)
/// with the content hash of every file they name, so a run in another folder compares equal.
struct KillPipeline {
    static let stages = ["ingest", "tile", "flow", "eval", "train"]
    /// The training run's name (not `tiny`: that is the fixed checkpoint jdrl-eval scores).
    static let runName = "killed"
    let root: URL
    var captures: URL { root.appendingPathComponent("captures") }
    var manifest: String { root.appendingPathComponent("m.sqlite").path }
    var patches: URL { root.appendingPathComponent("patches") }
    var flows: URL { root.appendingPathComponent("flows") }
    var runs: URL { root.appendingPathComponent("runs") }

    static let testCaptures = 3

    /// A DPDD-layout folder: four 300x260 train pairs (one 256 px patch each, large enough for the colour
    /// fit beside each flow), three 96x80 test pairs (no patch; jdrl-eval scores them whole, which at
    /// this size takes a second, not half a minute), and a tiny UNet checkpoint for jdrl-eval.
    init() throws {
        root = try temporaryFolder("kill")
        for (split, count, width, height) in [("train_c", 4, 300, 260), ("test_c", Self.testCaptures, 96, 80)] {
            for role in ["source", "target"] {
                try FileManager.default.createDirectory(at: captures.appendingPathComponent("\(split)/\(role)"), withIntermediateDirectories: true)
            }
            for i in 0..<count {
                let seed = 70 + 2 * i + (split == "test_c" ? 20 : 0)
                try writePNG(captures.appendingPathComponent("\(split)/source/k\(i).png"), width: width, height: height, seed: seed)
                try writePNG(captures.appendingPathComponent("\(split)/target/k\(i).png"), width: width, height: height, seed: seed + 1)
            }
        }
        try EvaluationStage.checkpoint(in: runs)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func command(_ stage: String) throws -> (URL, [String]) {
        let threads = ["--threads", "2"]
        switch stage {
        case "ingest": return (try Executables.url("jdrl-ingest"), [captures.path, "--manifest", manifest] + threads)
        case "tile": return (try Executables.url("jdrl-tile"), ["--manifest", manifest, "--out", patches.path, "--protocol", "sdd", "--size", "256", "--stride", "256", "--scale", "1"] + threads)
        case "flow": return (try Executables.url("jdrl-flow"), ["--manifest", manifest, "--output-directory", flows.path] + threads)
        case "train":
            // One thread: the resumed run's weights equal the uninterrupted run's bit for bit at a fixed thread count.
            let config = try Self.tinyTrainingConfig(manifest: manifest, name: Self.runName, in: root)
            return (try Executables.url("jdrl-train"), ["--config", config.path, "--runs", runs.path, "--threads", "1"])
        default: return (try Executables.url("jdrl-eval"), ["--manifest", manifest, "--split", "test", "--checkpoint",
                                                            runs.appendingPathComponent("tiny/checkpoints/step_00000002").path] + threads)
        }
    }

    func start(_ stage: String) throws -> Process {
        let (executable, arguments) = try command(stage)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs a stage to its end; its output when it fails.
    func run(_ stage: String) throws -> (status: Int32, output: String) {
        let (executable, arguments) = try command(stage)
        let result = try Executables.run(executable.lastPathComponent, arguments)
        return (result.status, result.output)
    }

    func relative(_ path: String?) -> String {
        guard let path else { return "-" }
        return path.hasPrefix(root.path) ? "<root>" + path.dropFirst(root.path.count) : path
    }

    func hash(_ path: String?) -> String {
        guard let path else { return "-" }
        return (try? ContentHash.of(fileAt: URL(fileURLWithPath: path))) ?? "missing"
    }

    /// Everything the stages produced, as sorted lines.
    func snapshot() throws -> [String] {
        try DatabaseQueue(path: manifest).read { db in
            var lines: [String] = []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM captures") {
                lines.append("capture \(row["split"] as String) \(row["name"] as String) \(row["status"] as String) \(row["width"] as Int? ?? -1)x\(row["height"] as Int? ?? -1) "
                             + "\(row["bit_depth"] as Int? ?? -1) \(row["blurry_hash"] as String? ?? "-") \(row["sharp_hash"] as String? ?? "-") \(relative(row["blurry_path"]))")
            }
            for row in try Row.fetchAll(db, sql: "SELECT c.name, p.* FROM patches p JOIN captures c ON c.id = p.capture_id") {
                let blurry: String? = row["blurry_path"], sharp: String? = row["sharp_path"]
                lines.append("patch \(row["name"] as String) \(row["x"] as Int),\(row["y"] as Int) \(row["size"] as Int) kept \(row["kept"] as Bool) "
                             + "sharpness \(row["sharpness"] as Double? ?? -1) \(relative(blurry)) \(hash(blurry)) \(relative(sharp)) \(hash(sharp))")
            }
            for row in try Row.fetchAll(db, sql: "SELECT c.name, p.x, p.y, f.* FROM flows f JOIN patches p ON p.id = f.patch_id JOIN captures c ON c.id = p.capture_id") {
                let values = ["zoom", "shift_x", "shift_y", "rotation_deg", "residual_epe", "colour_gain_r", "colour_gain_g", "colour_gain_b",
                              "colour_offset_r", "colour_offset_g", "colour_offset_b", "colour_residual"].map { "\(row[$0] as Double? ?? .nan)" }
                lines.append("flow \(row["name"] as String) \(row["x"] as Int),\(row["y"] as Int) \(row["direction"] as String) \(values.joined(separator: " ")) "
                             + "flo \(hash(row["flow_path"])) mask \(hash(row["mask_path"]))")
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM runs") {
                // (Not the config hash: the config names this folder's manifest.)
                lines.append("run \(row["name"] as String) \(row["status"] as String)")
            }
            for row in try Row.fetchAll(db, sql: "SELECT r.name, k.* FROM checkpoints k JOIN runs r ON r.id = k.run_id") {
                let folder = URL(fileURLWithPath: row["path"] as String)
                let weights = ["net_g", "net_reblur", "optimizer"].map { hash(folder.appendingPathComponent("\($0).safetensors").path) }
                lines.append("checkpoint \(row["name"] as String) \(row["step"] as Int) \(row["epoch"] as Int) \(relative(folder.path)) \(weights.joined(separator: " "))")
            }
            for row in try Row.fetchAll(db, sql: "SELECT r.name, s.* FROM training_steps s JOIN runs r ON r.id = s.run_id") {
                let losses = ["lr", "loss_total", "loss_deblur", "loss_cycle", "loss_reblur"].map { "\(row[$0] as Double? ?? .nan)" }
                lines.append("training-step \(row["name"] as String) \(row["step"] as Int) \(row["epoch"] as Int) \(losses.joined(separator: " "))")
            }
            for row in try Row.fetchAll(db, sql: "SELECT c.name, e.* FROM evaluations e JOIN captures c ON c.id = e.capture_id") {
                lines.append("evaluation \(row["name"] as String) \(row["method"] as String) \(relative(row["checkpoint_path"])) \(row["target"] as String) "
                             + "psnr \(row["psnr"] as Double) ssim \(row["ssim"] as Double) mae \(row["mae"] as Double)")
            }
            return lines.sorted()
        }
    }

    /// What must hold after any kill: the database is sound, no natural key has two rows, and every
    /// visible output file is whole (a patch equal to the uninterrupted run's, a flow or mask that decodes).
    func problemsAfterKill(reference: [String: String]) throws -> [String] {
        var problems: [String] = []
        // Killed before it created the manifest: nothing to check in it (and opening it here would create it).
        if FileManager.default.fileExists(atPath: manifest) { try DatabaseQueue(path: manifest).read { db in
            let integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "?"
            if integrity != "ok" { problems.append("integrity_check: \(integrity)") }
            let foreign = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count
            if foreign > 0 { problems.append("foreign_key_check: \(foreign) rows") }
            let duplicates: [(String, String)] = [
                ("captures", "SELECT count(*) - count(DISTINCT root || '|' || split || '|' || name) FROM captures"),
                ("patches", "SELECT count(*) - count(DISTINCT capture_id || '|' || params_hash || '|' || x || '|' || y) FROM patches"),
                ("flows", "SELECT count(*) - count(DISTINCT patch_id || '|' || direction || '|' || params_hash) FROM flows"),
                ("evaluations", "SELECT count(*) - count(DISTINCT capture_id || '|' || method || '|' || ifnull(checkpoint_path, '') || '|' || target) FROM evaluations"),
            ]
            for (table, sql) in duplicates where try db.tableExists(table) {
                let extra = try Int.fetchOne(db, sql: sql) ?? 0
                if extra != 0 { problems.append("\(table): \(extra) duplicated rows") }
            }
        } }
        problems += checkpointProblems()
        for folder in [patches, flows] {
            for file in visibleFiles(under: folder) {
                let key = relative(file.path)
                if folder == patches {
                    if reference[key] != hash(file.path) { problems.append("half-written or wrong patch \(key)") }
                } else if file.pathExtension == "flo" {
                    if (try? FlowFile.read(file)) == nil { problems.append("half-written flow \(key)") }
                } else if (try? ImageFile.verifyDecodes(file)) == nil {
                    problems.append("half-written mask \(key)")
                }
            }
        }
        return problems
    }

    /// The training run's visible checkpoints are whole and `latest.json` (if any) names one of them.
    func checkpointProblems() -> [String] {
        let checkpoints = runs.appendingPathComponent("\(Self.runName)/checkpoints")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path) else { return [] }
        var problems: [String] = []
        for name in names where name.hasPrefix("step_") {
            for file in ["net_g.safetensors", "net_reblur.safetensors", "optimizer.safetensors", "state.json"]
            where !FileManager.default.fileExists(atPath: checkpoints.appendingPathComponent("\(name)/\(file)").path) {
                problems.append("checkpoint \(name) lacks \(file)")
            }
        }
        if let data = try? Data(contentsOf: checkpoints.appendingPathComponent("latest.json")) {
            let folder = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["folder"] as? String
            if folder.map({ !names.contains($0) }) ?? true { problems.append("latest.json names no complete checkpoint: \(String(decoding: data, as: UTF8.self))") }
        }
        return problems
    }

    /// configs/jdrl-unet-cpu.yaml scaled down to seconds: a tiny network started fresh (not from the shipped
    /// weights), 32 px crops, batch 1, 4 epochs of the 4 train patches (16 steps), a checkpoint every 2 steps, all kept.
    static func tinyTrainingConfig(manifest: String, name: String, in folder: URL) throws -> URL {
        var text = try String(contentsOf: Executables.packageRoot.appendingPathComponent("configs/jdrl-unet-cpu.yaml"), encoding: .utf8)
        for (old, new) in [("name: jdrl-unet-cpu", "name: \(name)"), ("manifest: data-manifests/embedded.sqlite", "manifest: \(manifest)"),
                           ("crop_size: 64", "crop_size: 32"), ("batch_size: 4", "batch_size: 1"), ("widths: [32, 64, 128, 256]", "widths: [8, 16]"),
                           ("  width: 32", "  width: 4"), ("lr: 1.0e-4", "lr: 5.0e-4"), ("  epochs: 20", "  epochs: 4"),
                           ("init_epochs: 2", "init_epochs: 1"), ("  init_from: pretrained/unet-cpu/net_g.safetensors\n", ""),
                           ("  warp_interpolation: bicubic\n", ""), ("every_steps: 250", "every_steps: 2"), ("keep_last: 3", "keep_last: 0")] {
            guard text.contains(old) else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "config lacks \(old)"]) }
            text = text.replacingOccurrences(of: old, with: new)
        }
        let url = folder.appendingPathComponent("\(name).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Files a reader would see (hidden `.partial-*` names excluded).
    func visibleFiles(under folder: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        return walker.compactMap { $0 as? URL }.filter {
            !$0.lastPathComponent.hasPrefix(".") && ((try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) ?? false)
        }
    }

    func partialFiles() -> [String] {
        // AtomicFile's temporary names (StageSupport's `partialPrefix`).
        FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.contains(".partial-") } ?? []
    }
}

/// The seeded schedule of kills: which stage, and how long after its start. The seed is printed, and
/// `JDRL_KILL_SEED=S` replays the same delays (`JDRL_KILLS=N` sets how many).
struct KillSchedule {
    let seed: UInt64
    let kills: Int

    static func fromEnvironment(defaultKills: Int) -> KillSchedule {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["JDRL_KILL_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_007
        let kills = environment["JDRL_KILLS"].flatMap { Int($0) } ?? defaultKills
        return KillSchedule(seed: seed, kills: max(kills, KillPipeline.stages.count))
    }

    /// How many of the kills each stage gets (the first stages take the remainder).
    func kills(of stage: String) -> Int {
        let stages = KillPipeline.stages, position = stages.firstIndex(of: stage)!
        return kills / stages.count + (position < kills % stages.count ? 1 : 0)
    }

    /// Delay of kill `index` as a fraction of the stage's uninterrupted duration, in [0.02, 1.1).
    func fraction(_ index: Int) -> Double {
        var generator = SplitMix64(seed: seed, stream: UInt64(index))
        return generator.uniform(0.02, 1.1)
    }
}
