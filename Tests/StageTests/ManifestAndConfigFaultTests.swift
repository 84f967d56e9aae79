import Foundation
import GRDB
import Manifest
import Testing

/// A damaged manifest, one from a newer build, and configs with a wrong type, an unknown key, a missing
/// key or broken YAML: each stage stops with one line naming the file and the shared table's status (65 bad
/// data for a manifest, 64 bad call for a config) and changes nothing.
@Suite struct ManifestAndConfigFaultTests {
    static func captureFolder(_ root: URL) throws -> URL {
        let folder = root.appendingPathComponent("captures")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try writePNG(folder.appendingPathComponent("a_blur.png"), width: 64, height: 48, seed: 1)
        try writePNG(folder.appendingPathComponent("a_sharp.png"), width: 64, height: 48, seed: 2)
        return folder
    }

    @Test func aCorruptManifestIsNamedAndLeftAsItWas() throws {
        let root = try temporaryFolder("corrupt-manifest")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = try Self.captureFolder(root)
        let path = root.appendingPathComponent("m.sqlite").path
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
        try garbage.write(to: URL(fileURLWithPath: path))

        let stages: [(String, [String], Int32)] = [
            ("jdrl-ingest", [folder.path, "--manifest", path], 65),
            ("jdrl-tile", ["--manifest", path, "--out", root.appendingPathComponent("p").path], 65),
            ("jdrl-flow", ["--manifest", path, "--output-directory", root.appendingPathComponent("f").path], 65),
            ("jdrl-eval", ["--manifest", path, "--split", "test"], 65),
            ("jdrl-train", ["--config", Executables.packageRoot.appendingPathComponent("configs/jdrl-unet-cpu.yaml").path,
                            "--manifest", path, "--runs", root.appendingPathComponent("runs").path], 65),
            ("jdrl-manifest", ["status", path], 65),
        ]
        for (name, arguments, status) in stages {
            let result = try Executables.run(name, arguments)
            #expect(result.status == status, "\(name): \(result.output)")
            #expect(result.output.contains("\(name): manifest \(path): not a SQLite database"), "\(name): \(result.output)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage, "the damaged file is not overwritten")
    }

    @Test func aManifestFromANewerSchemaIsRefusedNotMigrated() throws {
        let root = try temporaryFolder("newer-manifest")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = try Self.captureFolder(root)
        let path = root.appendingPathComponent("m.sqlite").path
        // Given a manifest a newer build migrated one step further
        _ = try Manifest.open(path: path)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-a-newer-build')")
        }

        let ingest = try Executables.run("jdrl-ingest", [folder.path, "--manifest", path])
        #expect(ingest.status == 65, "\(ingest.output)")
        #expect(ingest.output.contains("manifest \(path): written by a newer jdrl (schema migrations v99-from-a-newer-build unknown to this build"),
                "\(ingest.output)")
        let tile = try Executables.run("jdrl-tile", ["--manifest", path, "--out", root.appendingPathComponent("p").path])
        #expect(tile.status == 65 && tile.output.contains("written by a newer jdrl"), "\(tile.output)")
        let captures = try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM captures") }
        #expect(captures == 0, "nothing was ingested into it")
    }

    /// configs/datasets/embedded.yaml's keys, pointing at `folder`.
    static func datasetConfig(folder: URL, manifest: String) -> String {
        """
        name: faults
        root: \(folder.path)
        layout: generic
        manifest: \(manifest)
        patches: \(folder.deletingLastPathComponent().appendingPathComponent("patches").path)
        size_tolerance: 4
        tiling:
          protocol: sdd
          size: 32
          scale: 1.0
          stride: 32
          drop_least_sharp: 0.0
          compression: 1
        """
    }

    @Test func aDatasetConfigWithAWrongTypeUnknownKeyMissingKeyOrBrokenYAMLIsNamed() throws {
        let root = try temporaryFolder("dataset-config")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = try Self.captureFolder(root)
        let manifest = root.appendingPathComponent("m.sqlite").path
        let good = Self.datasetConfig(folder: folder, manifest: manifest)
        let cases: [(label: String, text: String, expected: String)] = [
            ("wrong type", good.replacingOccurrences(of: "size_tolerance: 4", with: "size_tolerance: four"), "bad value at 'size_tolerance'"),
            ("unknown key", good.replacingOccurrences(of: "size_tolerance: 4", with: "size_tolerance: 4\nsize_tolerence: 2"),
             "unknown keys at top level: size_tolerence"),
            ("unknown key in a section", good.replacingOccurrences(of: "  stride: 32", with: "  stride: 32\n  strides: 16"),
             "unknown keys at section 'tiling': strides"),
            ("missing key", good.replacingOccurrences(of: "size_tolerance: 4\n", with: ""), "missing key 'size_tolerance'"),
            ("broken YAML", good.replacingOccurrences(of: "  stride: 32", with: "  stride: [32"), "not valid YAML"),
        ]
        for (index, (label, text, expected)) in cases.enumerated() {
            let config = root.appendingPathComponent("config-\(index).yaml")
            try text.write(to: config, atomically: true, encoding: .utf8)
            let result = try Executables.run("jdrl-ingest", ["--config", config.path])
            #expect(result.status == 64, "\(label): \(result.output)")
            #expect(result.output.contains("jdrl-ingest: \(config.path): ") && result.output.contains(expected), "\(label): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: manifest), "no bad config got as far as the manifest")
        // The same text, fixed, works
        let fixed = root.appendingPathComponent("fixed.yaml")
        try good.write(to: fixed, atomically: true, encoding: .utf8)
        let result = try Executables.run("jdrl-ingest", ["--config", fixed.path])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func aTrainingConfigWithAWrongTypeUnknownKeyOrMissingKeyIsNamed() throws {
        let root = try temporaryFolder("training-config")
        defer { try? FileManager.default.removeItem(at: root) }
        let shipped = try String(contentsOf: Executables.packageRoot.appendingPathComponent("configs/jdrl-unet-cpu.yaml"), encoding: .utf8)
        #expect(shipped.contains("\nseed: 0\n"))
        let cases: [(label: String, text: String, expected: String)] = [
            ("wrong type", shipped.replacingOccurrences(of: "\nseed: 0\n", with: "\nseed: zero\n"), "'seed'"),
            ("unknown key", shipped.replacingOccurrences(of: "\nseed: 0\n", with: "\nseed: 0\nsede: 1\n"), "unknown key(s) 'sede' in top level"),
            ("missing key", shipped.replacingOccurrences(of: "\nseed: 0\n", with: "\n"), "missing key 'seed'"),
            ("broken YAML", shipped.replacingOccurrences(of: "\nseed: 0\n", with: "\nseed: [0\n"), "not valid YAML"),
        ]
        for (index, (label, text, expected)) in cases.enumerated() {
            let config = root.appendingPathComponent("train-\(index).yaml")
            try text.write(to: config, atomically: true, encoding: .utf8)
            let result = try Executables.run("jdrl-train", ["--config", config.path, "--runs", root.appendingPathComponent("runs").path])
            #expect(result.status == 64, "\(label): \(result.output)")
            #expect(result.output.contains("jdrl-train: \(config.path): ") && result.output.contains(expected), "\(label): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("runs").path), "no run folder for a bad config")
    }
}
