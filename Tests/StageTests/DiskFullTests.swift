import Foundation
import GRDB
import Manifest
import Testing

/// A small tmpfs the test mounts itself, to fill a disk for real. Mounting needs root (and a kernel
/// that lets this container mount); elsewhere the tests using it are skipped, saying why.
final class SmallFilesystem {
    let url: URL

    static let available: Bool = {
        guard geteuid() == 0, let probe = try? SmallFilesystem(kilobytes: 64) else { return false }
        _ = probe
        return true
    }()
    static let skipReason: Comment = "needs root and permission to mount a tmpfs (mount -t tmpfs); not available here"

    init(kilobytes: Int) throws {
        url = try temporaryFolder("small-fs")
        guard Self.mount(["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", url.path]) else {
            try? FileManager.default.removeItem(at: url)
            throw CocoaError(.fileWriteNoPermission)
        }
    }

    /// Gives the filesystem more room (the space "comes back").
    func resize(kilobytes: Int) -> Bool { Self.mount(["-o", "remount,size=\(kilobytes)k", url.path]) }

    deinit {
        _ = Self.run("/bin/umount", [url.path])
        try? FileManager.default.removeItem(at: url)
    }

    static func mount(_ arguments: [String]) -> Bool { run("/bin/mount", arguments) }

    static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

@Suite(.serialized, .enabled(if: SmallFilesystem.available, SmallFilesystem.skipReason))
struct DiskFullTests {
    @Test func tilingOntoAFullDiskSaysSoLeavesNoHalfPatchAndARerunFinishesOnceThereIsRoom() throws {
        let root = try temporaryFolder("disk-full-tile")
        defer { try? FileManager.default.removeItem(at: root) }
        let captures = root.appendingPathComponent("captures")
        try FileManager.default.createDirectory(at: captures, withIntermediateDirectories: true)
        for i in 0..<4 {
            try writePNG(captures.appendingPathComponent("d\(i)_blur.png"), width: 512, height: 256, seed: 30 + i)
            try writePNG(captures.appendingPathComponent("d\(i)_sharp.png"), width: 512, height: 256, seed: 40 + i)
        }
        // Two manifests of the same captures: one tiled on a roomy disk (the bytes the rerun must reproduce), one on a full one
        let manifest = root.appendingPathComponent("m.sqlite").path, roomyManifest = root.appendingPathComponent("roomy.sqlite").path
        for path in [manifest, roomyManifest] {
            #expect(try Executables.run("jdrl-ingest", [captures.path, "--manifest", path]).status == 0)
        }
        let tiling = ["--size", "256", "--stride", "256", "--scale", "1", "--threads", "2"]
        let tileArguments = ["--manifest", manifest] + tiling
        let roomy = root.appendingPathComponent("roomy")
        #expect(try Executables.run("jdrl-tile", ["--manifest", roomyManifest, "--out", roomy.path] + tiling).status == 0)
        let reference = try Self.files(under: roomy)
        let needed = reference.values.map(\.count).reduce(0, +)

        // When the patch folder's disk holds only about a third of the patches
        let disk = try SmallFilesystem(kilobytes: max(64, needed / 3 / 1024))
        let out = disk.url.appendingPathComponent("patches")
        let full = try Executables.run("jdrl-tile", tileArguments + ["--out", out.path])

        // Then it says which captures failed and why, and keeps going with the rest (exit 3)
        #expect(full.status == 3, "\(full.output)")
        #expect(full.output.contains("cannot write (No space left on device)"), "\(full.output)")
        #expect(full.output.contains("failed test/") || full.output.contains("failed train/"), "\(full.output)")
        // No file a reader could take for a patch is half-written: each visible one equals the roomy run's
        for (name, data) in try Self.files(under: out) {
            #expect(reference[name] == data, "\(name) is visible but differs from the complete patch")
        }
        let pendingRows = try DatabaseQueue(path: manifest).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM stage_items WHERE stage = 'tile'")
        }
        let patchFiles = try Self.files(under: out).count
        #expect(pendingRows! < 4 && pendingRows! * 2 * 2 <= patchFiles, "only captures whose patches are all on disk are marked done: \(pendingRows!), \(patchFiles) files")

        // When space comes back, a rerun finishes the captures that failed, and the result is the roomy run's
        #expect(disk.resize(kilobytes: needed / 1024 * 2 + 256))
        let rerun = try Executables.run("jdrl-tile", tileArguments + ["--out", out.path])
        #expect(rerun.status == 0, "\(rerun.output)")
        #expect(try Self.files(under: out) == reference)
    }

    /// Visible files under `folder` by path relative to it, with their bytes.
    static func files(under folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
        for case let url as URL in walker where !url.lastPathComponent.hasPrefix(".")
            && ((try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) ?? false) {
            files[String(url.path.dropFirst(folder.path.count))] = try Data(contentsOf: url)
        }
        return files
    }
}

extension DiskFullTests {
    @Test func aCheckpointWriteOntoAFullDiskStopsClearlyKeepsTheLastGoodOneAndResumesOnceThereIsRoom() throws {
        let pipeline = try KillPipeline()
        defer { pipeline.remove() }
        for stage in ["ingest", "tile", "flow"] { try #require(try pipeline.run(stage).status == 0) }
        let config = try KillPipeline.tinyTrainingConfig(manifest: pipeline.manifest, name: "tiny-full", in: pipeline.root)
        func train(_ runs: URL) throws -> Executables.Result {
            try Executables.run("jdrl-train", ["--config", config.path, "--runs", runs.path, "--threads", "1"])
        }

        // The uninterrupted run on a roomy disk
        let roomy = pipeline.root.appendingPathComponent("roomy-runs")
        let straight = try train(roomy)
        try #require(straight.status == 0, "\(straight.output)")
        let finalWeights = try Data(contentsOf: roomy.appendingPathComponent("tiny-full/checkpoints/step_00000016/net_g.safetensors"))
        let runBytes = try Self.files(under: roomy.appendingPathComponent("tiny-full")).values.map(\.count).reduce(0, +)

        // When the runs folder's disk fills up part way through
        let disk = try SmallFilesystem(kilobytes: max(64, runBytes / 1024 / 3))
        let runs = disk.url.appendingPathComponent("runs")
        let full = try train(runs)

        // Then it stops with a sentence about the disk, and the newest checkpoint latest.json names is whole
        #expect(full.status == 1, "\(full.output)")
        #expect(full.output.contains("No space left on device"), "\(full.output)")
        let checkpoints = runs.appendingPathComponent("tiny-full/checkpoints")
        let latest = try JSONSerialization.jsonObject(with: Data(contentsOf: checkpoints.appendingPathComponent("latest.json"))) as? [String: Any]
        let folder = try #require(latest?["folder"] as? String, "no latest.json after a full disk")
        for file in ["net_g.safetensors", "net_reblur.safetensors", "optimizer.safetensors", "state.json"] {
            let url = checkpoints.appendingPathComponent(folder).appendingPathComponent(file)
            #expect(FileManager.default.fileExists(atPath: url.path), "\(folder)/\(file) missing")
        }

        // When space comes back, the rerun resumes and ends with the uninterrupted run's weights, bit for bit
        #expect(disk.resize(kilobytes: runBytes / 1024 * 3 + 512))
        let resumed = try train(runs)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(try Data(contentsOf: checkpoints.appendingPathComponent("step_00000016/net_g.safetensors")) == finalWeights)
    }
}
