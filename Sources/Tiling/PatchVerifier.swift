import Foundation
import Manifest

/// Checks that the manifest and the patch folder agree: each kept patch row names two files that
/// exist, and each patch file under the folder belongs to a row (no orphans from killed runs).
public struct PatchVerifier {
    public let manifest: Manifest
    public let out: URL

    public init(manifest: Manifest, out: URL) {
        self.manifest = manifest
        self.out = out
    }

    public struct Report {
        public var consistent: Bool
        public var text: String
    }

    public func run() throws -> Report {
        let rows = try manifest.patches(keptOnly: true)
        var referenced = Set<String>()
        var missing: [String] = []
        for row in rows {
            for path in [row.blurryPath, row.sharpPath].compactMap({ $0 }) {
                referenced.insert(URL(fileURLWithPath: path).standardizedFileURL.path)
                if !FileManager.default.fileExists(atPath: path) { missing.append(path) }
            }
        }
        var onDisk = 0
        var orphans: [String] = []
        if let walker = FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where url.pathExtension.lowercased() == "png" {
                onDisk += 1
                if !referenced.contains(url.standardizedFileURL.path) { orphans.append(url.path) }
            }
        }
        // Pre-cut patches live in the dataset, not under `out`: count only files under `out`.
        let underOut = referenced.filter { $0.hasPrefix(out.standardizedFileURL.path + "/") }.count
        var lines = ["verify: \(rows.count) kept patch rows (\(referenced.count) files referenced, \(underOut) under \(out.path)); \(onDisk) patch files on disk there"]
        for path in missing.prefix(20) { lines.append("  missing file of a patch row: \(path)") }
        for path in orphans.prefix(20) { lines.append("  file without a patch row: \(path)") }
        let consistent = missing.isEmpty && orphans.isEmpty && underOut == onDisk
        lines.append(consistent ? "verify: consistent" : "verify: INCONSISTENT (\(missing.count) missing, \(orphans.count) orphans)")
        return Report(consistent: consistent, text: lines.joined(separator: "\n"))
    }
}
